"""Demo: a hospital front desk's lending catalogue and a few days of loans."""
from datetime import timedelta
from decimal import Decimal

from erp_core.context import acting_as
from erp_core.types import now

from . import services
from .models import Asset, ItemType


def load(session):
    if session.query(ItemType).count():
        return
    with acting_as("front_desk"):
        kinds = {
            "轮椅": ItemType(title="轮椅", deposit=Decimal("300"), free_minutes=30, rate_unit="hour", rate=Decimal("2"),
                           daily_cap=Decimal("10"), late_fee_per_day=Decimal("5"), loan_hours=72,
                           terms="请勿在轮椅上站立；归还前请清空杂物。"),
            "平车": ItemType(title="平车", deposit=Decimal("500"), free_minutes=60, rate_unit="hour", rate=Decimal("5"),
                           daily_cap=Decimal("30"), late_fee_per_day=Decimal("10"), loan_hours=4),
            "雨伞": ItemType(title="雨伞", deposit=Decimal("30"), free_minutes=24 * 60, rate_unit="day", rate=Decimal("1"),
                           late_fee_per_day=Decimal("1"), loan_hours=48, needs_disinfection=False),
            "老花镜": ItemType(title="老花镜", deposit=Decimal("20"), free_minutes=120, rate_unit="day", rate=Decimal("0"),
                            late_fee_per_day=Decimal("0"), loan_hours=8),
        }
        session.add_all(kinds.values())
        prefixes = {"轮椅": ("LY", 8), "平车": ("PC", 4), "雨伞": ("YS", 6), "老花镜": ("LH", 4)}
        assets = []
        for title, (prefix, n) in prefixes.items():
            for i in range(1, n + 1):
                assets.append(Asset(code=f"{prefix}-{i:03d}", item_type=kinds[title], condition="良好",
                                    location="门诊大厅一站式服务中心"))
        session.add_all(assets)
        session.flush()
        services.set_clerk_pin("front_desk", "123456")
        lend = services.lend
        a = lend(assets[0], borrower_name="王秀英", ward_bed="心内科一病区 12床", phone="13800000001", by="front_desk")
        lend(assets[1], borrower_name="李建国", ward_bed="骨科二病区 3床", phone="13800000002",
             id_card="11010519491231002X", by="front_desk")
        late = lend(assets[8], borrower_name="张伟", phone="13800000003", by="front_desk")
        late.lent_at, late.due_at = now() - timedelta(hours=9), now() - timedelta(hours=5)   # an overdue flat cart
        u = lend(assets[12], borrower_name="陈静", phone="13800000004", by="front_desk")
        u.lent_at = now() - timedelta(hours=30)
        session.flush()
        services.return_loan(u, by="front_desk")
        a.lent_at = now() - timedelta(hours=26)
        session.flush()
        services.return_loan(a, by="front_desk")
        services.disinfect(a.asset, method="含氯消毒液擦拭 500mg/L", by="front_desk")
    session.commit()
