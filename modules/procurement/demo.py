"""Demo: a budget, and tenders in different states — one signed into a contract, one open
for bids (sealed), one in blind expert scoring, one failed for too few bids. Past steps
are replayed on a moved clock so every date rule holds as it would have that day."""
import secrets
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.types import clock_at as clock, now

from . import services
from .models import EXPERT, MANAGER, OFFICER, BudgetLine, Tender

CRITERIA = [{"title": "服务方案与质量保证措施", "kind": "technical", "max_points": "30"},
            {"title": "项目人员配置与资质", "kind": "technical", "max_points": "20"},
            {"title": "类似项目业绩与用户评价", "kind": "commercial", "max_points": "10"},
            {"title": "应急预案与院感防控", "kind": "technical", "max_points": "10"}]


def _user(username, first):
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        user = sm.add_user(username, first, "（评审专家）", f"{username}@hospital.local", sm.find_role(EXPERT),
                           password=secrets.token_urlsafe(16))
    return user


def _tender(session, line, day0, **kw):
    values = dict(category="cleaning", budget_line=line, method="open", evaluation_method="comprehensive",
                  price_weight=Decimal("30"), bid_bond=Decimal("20000.00"), opening_place="行政楼三楼第一会议室",
                  registration_closes_at=day0 + timedelta(days=10), bid_deadline=day0 + timedelta(days=20),
                  opening_at=day0 + timedelta(days=20, hours=1), service_months=12)
    values.update(kw)
    t = Tender(**values)
    session.add(t)
    session.flush()
    if t.evaluation_method == "comprehensive":
        services.set_criteria(t, CRITERIA, by=_role_user(OFFICER))
    return t


def _role_user(role):
    from erp_core.demo import role_username
    return current_app.appbuilder.sm.find_user(username=role_username(role))


def _publish_and_bid(t, vendors, prices, experts, bonds=None):
    officer, manager = _role_user(OFFICER), _role_user(MANAGER)
    workflow.apply(t, "approve", by=manager)
    if t.method != "open":
        services.set_invitees(t, vendors, by=officer)
    workflow.apply(t, "publish", by=officer)
    for e in experts:
        services.assign_member(t, e, by=officer)
    for i, (v, price) in enumerate(zip(vendors, prices)):
        services.register(t, v, by=officer)
        if price is not None:
            services.record_bid(t, v, price=price, bond_paid=(bonds or [True] * 9)[i], by=officer,
                                technical=f"技术标（暗标）：驻场 {60 + 7 * i} 人，保洁员持证上岗率 {95 + i}%；"
                                          "夜间两班，手术室专人专岗；每月院感培训一次。")


def _score(t, sheets):
    for member, base in zip(t.members, sheets):
        services.declare(t, member.user, no_conflict=True, statement="本人与各投标人无利害关系。")
        rows = []
        for b in services.valid_bids(t):
            share = min(Decimal(1), Decimal(base + 4 * (ord(b.label) - ord("A"))) / 100)
            rows += [{"bid": b.label, "criterion": c.id, "points": str((c.max_points * share).quantize(Decimal("0.1")))}
                     for c in t.criteria]
        services.score(t, member.user, rows)
        services.submit_scores(t, member.user)


def load(session):
    from modules.vendor_contracts.models import Vendor
    vendors = session.scalars(select(Vendor).order_by(Vendor.id)).all()
    if len(vendors) < 4:
        return
    experts = [_role_user(EXPERT), _user("expert_li", "李建华"), _user("expert_zhou", "周敏")]
    officer, manager = _role_user(OFFICER), _role_user(MANAGER)
    year = now().year
    with acting_as(officer.username):
        lines = [BudgetLine(year=year, department="后勤保障部", title="物业保洁及运送服务", amount=Decimal("5200000.00")),
                 BudgetLine(year=year, department="后勤保障部", title="安保服务", amount=Decimal("1800000.00")),
                 BudgetLine(year=year, department="总务科", title="医用织物洗涤", amount=Decimal("900000.00"))]
        session.add_all(lines)
        session.flush()

        # 1. signed: opened 60 days ago, scored, publicised, awarded, contract drafted
        day0 = now() - timedelta(days=90)
        with clock(day0):
            t1 = _tender(session, lines[0], day0, title="门诊及住院部保洁服务项目", estimated_amount=Decimal("4680000.00"),
                         service_start=date(year + 1, 1, 1))
            _publish_and_bid(t1, vendors[:4], ["4512000.00", "4398000.00", "4620000.00", "4455000.00"], experts)
        with clock(day0 + timedelta(days=20, hours=2)):
            workflow.apply(t1, "close_bidding", by=officer)
            workflow.apply(t1, "open_bids", by=officer)
            _score(t1, [80, 76, 84])
            workflow.apply(t1, "evaluate", by=officer)
            workflow.apply(t1, "start_publicity", by=officer)
        with clock(day0 + timedelta(days=24)):
            workflow.apply(t1, "award", by=manager)
            workflow.apply(t1, "sign_contract", by=officer)

        # 2. failed: an invited laundry tender where one of three bidders did not pay the bond
        day0 = now() - timedelta(days=40)
        with clock(day0):
            t2 = _tender(session, lines[2], day0, title="医用织物洗涤服务", category="laundry", method="invited",
                         evaluation_method="lowest_price", estimated_amount=Decimal("860000.00"))
            _publish_and_bid(t2, vendors[1:4], ["812000.00", "798500.00", "805000.00"], [], bonds=[True, False, True])
        with clock(day0 + timedelta(days=20, hours=2)):
            workflow.apply(t2, "close_bidding", by=officer)
            workflow.apply(t2, "open_bids", by=officer)          # two valid bids: fails (流标)

        # 3. in blind scoring: technical envelopes open, prices still sealed, one expert done
        day0 = now() - timedelta(days=21)
        with clock(day0):
            t3 = _tender(session, lines[1], day0, title="院区安保服务项目", category="security",
                         estimated_amount=Decimal("1750000.00"), service_start=date(year + 1, 3, 1))
            _publish_and_bid(t3, vendors[:3], ["1698000.00", "1720000.00", "1655000.00"], experts)
        with clock(day0 + timedelta(days=20, hours=2)):
            workflow.apply(t3, "close_bidding", by=officer)
            workflow.apply(t3, "open_bids", by=officer)
            _score(t3, [82])

        # 4. open for bids: two sealed bids so far
        day0 = now() - timedelta(days=5)
        with clock(day0):
            t4 = _tender(session, lines[0], day0, title="中央运送（陪检）服务项目", category="transport",
                         estimated_amount=Decimal("420000.00"), service_start=date(year + 1, 1, 1))
            _publish_and_bid(t4, vendors[:4], ["408000.00", "399600.00", None, None], experts)
        session.flush()
