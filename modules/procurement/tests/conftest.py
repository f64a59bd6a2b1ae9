from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.testing import ensure_user, get_user
from erp_core.types import now
from modules.procurement import services
from modules.procurement.models import EXPERT, MANAGER, OFFICER, BudgetLine, Tender
from modules.vendor_contracts.demo import uscc
from modules.vendor_contracts.models import Vendor, VendorCertificate

BIDDERS = [("杭州洁康物业服务有限公司", "91330100MA2KX1234"), ("浙江安邦保安服务有限公司", "91330100MA27Y5678"),
           ("宁波仁爱护理服务有限公司", "91330200MA28H3456"), ("杭州膳源餐饮管理有限公司", "91330100MA2H00001"),
           ("浙江通达电梯工程有限公司", "91330100MA2J11110")]


@pytest.fixture(autouse=True)
def _experts(app):
    """Five expert users, made before any test data (user creation resets the session)."""
    for i in range(1, 5):
        ensure_user(app, EXPERT, f"t_expert_{i}")
    ensure_user(app, EXPERT)


@pytest.fixture
def vendors(app, session):
    out = []
    with acting_as("setup"):
        for name, code in BIDDERS:
            v = Vendor(legal_name=name, credit_code=uscc(code), contact_name="经理")
            v.certificates.append(VendorCertificate(kind="营业执照", number=code, valid_from=date(2020, 1, 1),
                                                    valid_until=now().date() + timedelta(days=800)))
            session.add(v)
            out.append(v)
        session.commit()
    return out


@pytest.fixture
def budget(app, session):
    with acting_as("setup"):
        line = BudgetLine(year=now().year, department="后勤保障部", title="物业保洁服务", amount=Decimal("3000000.00"))
        session.add(line)
        session.commit()
    return line


def new_tender(app, session, budget, **kw):
    start = now()
    values = dict(title="2027年度院区保洁服务采购", category="cleaning", budget_line=budget,
                  estimated_amount=Decimal("2400000.00"), method="open", evaluation_method="comprehensive",
                  price_weight=Decimal("30"), bid_bond=Decimal("20000.00"), registration_closes_at=start + timedelta(days=1),
                  bid_deadline=start + timedelta(days=2), opening_at=start + timedelta(days=2, hours=1),
                  opening_place="行政楼三楼会议室", service_start=date(2027, 1, 1), service_months=12)
    values.update(kw)
    with acting_as("setup"):
        t = Tender(**values)
        session.add(t)
        session.flush()
        if t.evaluation_method == "comprehensive":
            services.set_criteria(t, [{"title": "服务方案与组织架构", "kind": "technical", "max_points": "30"},
                                      {"title": "人员配置与资质", "kind": "technical", "max_points": "25"},
                                      {"title": "业绩与信誉", "kind": "commercial", "max_points": "15"}],
                                  by=get_user(app, OFFICER))
        session.commit()
    return t


def experts(app, n):
    return [get_user(app, EXPERT) if i == 0 else _expert(app, i) for i in range(n)]


def _expert(app, i):
    name = ensure_user(app, EXPERT, f"t_expert_{i}")
    return app.appbuilder.sm.find_user(username=name)


@pytest.fixture
def published(app, session, budget, vendors):
    """An open, comprehensive-scoring tender, published, with three registered vendors who bid."""
    def make(prices=("2280000.00", "2350000.00", "2196000.00"), bonds=(True, True, True), n_experts=3, **kw):
        t = new_tender(app, session, budget, **kw)
        workflow.apply(t, "approve", by=get_user(app, MANAGER))
        if t.method != "open":
            services.set_invitees(t, vendors[:max(3, len(prices))], by=get_user(app, OFFICER))
        workflow.apply(t, "publish", by=get_user(app, OFFICER))
        officer = get_user(app, OFFICER)
        for e in experts(app, n_experts):
            services.assign_member(t, e, by=officer)
        for v, price, bond in zip(vendors, prices, bonds):
            services.register(t, v, by=officer)
            services.record_bid(t, v, price=price, technical=f"服务方案（暗标，不得出现投标人名称）：驻场 {80 + len(price) % 7} 人，三班倒。",
                                bond_paid=bond, by=officer)
        session.commit()
        return t
    return make


def open_tender(app, session, t, travel):
    travel(days=3)
    officer = get_user(app, OFFICER)
    workflow.apply(t, "close_bidding", by=officer)
    workflow.apply(t, "open_bids", by=officer)
    session.commit()
    return t


def score_all(app, session, t, points_by_member):
    """``points_by_member``: one {label: [points per criterion]} per member, in member order."""
    for member, points in zip(t.members, points_by_member):
        user = member.user
        services.declare(t, user, no_conflict=True)
        rows = [{"bid": label, "criterion": c.id, "points": str(p)}
                for label, ps in points.items() for c, p in zip(t.criteria, ps)]
        services.score(t, user, rows)
        services.submit_scores(t, user)
    session.commit()
