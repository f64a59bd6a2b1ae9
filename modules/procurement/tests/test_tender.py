from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_core import audit, workflow
from erp_core.errors import Conflict, PermissionDenied, ValidationError
from erp_core.testing import get_user
from erp_core.types import now
from modules.procurement import services
from modules.procurement.models import MANAGER, OFFICER, Envelope
from .conftest import new_tender, open_tender, score_all


def by_vendor(t):
    return {b.vendor.legal_name[:4]: b for b in t.bids}


def test_comprehensive_tender_ranks_and_awards(app, session, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    assert t.workflow_state == "opened"
    assert all(b.price is None and b.technical for b in t.bids)       # two envelopes: technical only
    labels = {b.vendor.legal_name[:4]: b.label for b in t.bids}
    points = {labels["杭州洁康"]: (26, 22, 12), labels["浙江安邦"]: (28, 23, 14), labels["宁波仁爱"]: (22, 18, 10)}
    with pytest.raises(ValidationError, match="t_evaluation_expert"):
        workflow.apply(t, "evaluate", by=get_user(app, OFFICER))      # nobody has scored yet
    score_all(app, session, t, [points] * 3)
    workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    session.commit()
    bids = by_vendor(t)
    # 宁波仁爱 2 196 000 lowest -> 30 price points; 浙江安邦 65 + 30 × 2196000/2350000 = 65 + 28.03
    assert bids["宁波仁爱"].price_score == Decimal("30.00") and bids["宁波仁爱"].total_score == Decimal("80.00")
    assert bids["浙江安邦"].total_score == Decimal("93.03") and bids["浙江安邦"].rank == 1
    assert bids["杭州洁康"].total_score == Decimal("88.89") and bids["杭州洁康"].rank == 2
    assert t.winner is bids["浙江安邦"]
    workflow.apply(t, "start_publicity", by=get_user(app, OFFICER))
    session.commit()
    with pytest.raises(ValidationError):
        workflow.apply(t, "award", by=get_user(app, MANAGER))          # publicity still running
    travel(days=3, minutes=1)
    workflow.apply(t, "award", by=get_user(app, MANAGER))
    assert t.award_amount == Decimal("2350000.00")
    assert bids["杭州洁康"].bond_refunded_at and bids["宁波仁爱"].bond_refunded_at and not bids["浙江安邦"].bond_refunded_at
    workflow.apply(t, "sign_contract", by=get_user(app, OFFICER))
    session.commit()
    from modules.vendor_contracts.models import Contract
    c = session.scalars(select(Contract).where(Contract.source_reference == t.name)).one()
    assert c.vendor == bids["浙江安邦"].vendor and c.monthly_fee == Decimal("195833.33") and c.workflow_state == "draft"
    assert str(c.start_date) == "2027-01-01" and str(c.end_date) == "2027-12-31" and t.contract_name == c.name
    assert bids["浙江安邦"].bond_refunded_at is not None
    assert audit.verify(session)[0]


def test_five_experts_drop_highest_and_lowest(app, session, published, travel):
    t = published(n_experts=5)
    open_tender(app, session, t, travel)
    label = {b.vendor.legal_name[:4]: b.label for b in t.bids}
    a, b, c = label["杭州洁康"], label["浙江安邦"], label["宁波仁爱"]
    sheets = [{a: (30, 25, 15), b: (20, 20, 10), c: (20, 20, 10)}] + \
             [{a: (20, 20, 10), b: (20, 20, 10), c: (20, 20, 10)}] * 3 + [{a: (0, 0, 0), b: (20, 20, 10), c: (20, 20, 10)}]
    score_all(app, session, t, sheets)
    workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    assert by_vendor(t)["杭州洁康"].technical_score == Decimal("50.00")   # the 70 and the 0 are dropped


def test_open_tender_fails_below_three_valid_bids(app, session, published, travel):
    t = published(bonds=(True, True, False))                            # one bond unpaid -> invalid
    open_tender(app, session, t, travel)
    assert t.workflow_state == "failed" and "3" in t.failure_reason
    assert sum(b.status == "valid" for b in t.bids) == 2
    assert all(b.bond_refunded_at for b in t.bids if b.bond_paid)


def test_negotiation_goes_on_only_on_a_managers_recorded_decision(app, session, published, travel):
    t = published(method="negotiation", prices=("2280000.00", "2350000.00"), bonds=(True, True))
    open_tender(app, session, t, travel)
    assert t.workflow_state == "opened"
    score_all(app, session, t, [{b.label: (20, 20, 10) for b in t.bids}] * 3)
    with pytest.raises(ValidationError, match="决定"):
        workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    with pytest.raises(PermissionDenied):
        services.record_proceed_decision(t, "x", by=get_user(app, OFFICER))
    services.record_proceed_decision(t, "仅两家响应，经院长办公会同意继续谈判", by=get_user(app, MANAGER))
    workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    assert t.workflow_state == "evaluated"


def test_invited_tendering_needs_three_invitees(app, session, budget, vendors):
    t = new_tender(app, session, budget, method="invited")
    workflow.apply(t, "approve", by=get_user(app, MANAGER))
    services.set_invitees(t, vendors[:2], by=get_user(app, OFFICER))
    with pytest.raises(ValidationError, match="3"):
        workflow.apply(t, "publish", by=get_user(app, OFFICER))
    services.set_invitees(t, vendors[:3], by=get_user(app, OFFICER))
    workflow.apply(t, "publish", by=get_user(app, OFFICER))
    with pytest.raises(ValidationError, match=vendors[4].legal_name):
        services.register(t, vendors[4], by=get_user(app, OFFICER))     # not invited


def test_dates_deadline_and_opening_rules(app, session, budget, vendors, travel):
    officer = get_user(app, OFFICER)
    with pytest.raises(ValidationError, match="Bid opening|开标"):
        new_tender(app, session, budget, opening_at=now() + timedelta(hours=1))   # before the deadline
    session.rollback()
    t = new_tender(app, session, budget)
    workflow.apply(t, "approve", by=get_user(app, MANAGER))
    workflow.apply(t, "publish", by=officer)
    services.register(t, vendors[0], by=officer)
    with pytest.raises(ValidationError):
        services.record_bid(t, vendors[1], price="100.00", technical="方案", by=officer)    # not registered
    with pytest.raises(ValidationError):
        workflow.apply(t, "close_bidding", by=officer)                  # deadline not reached
    travel(days=1, minutes=1)
    with pytest.raises(Conflict):
        services.register(t, vendors[1], by=officer)                    # registration closed
    travel(days=1)
    with pytest.raises(Conflict):
        services.record_bid(t, vendors[0], price="100.00", technical="方案", by=officer)    # after the deadline
    workflow.apply(t, "close_bidding", by=officer)
    with pytest.raises(ValidationError):
        workflow.apply(t, "open_bids", by=officer)                      # opening is an hour later
    travel(hours=1)
    workflow.apply(t, "open_bids", by=officer)
    assert t.workflow_state == "failed"                                 # no bids at all


def test_budget_check_and_manager_override(app, session, budget, vendors):
    other = new_tender(app, session, budget, estimated_amount=Decimal("1000000.00"))
    workflow.apply(other, "approve", by=get_user(app, MANAGER))        # commits 1 000 000 of 3 000 000
    t = new_tender(app, session, budget, estimated_amount=Decimal("2000000.01"))
    with pytest.raises(ValidationError, match="2000000.01"):
        workflow.apply(t, "approve", by=get_user(app, MANAGER))
    with pytest.raises(PermissionDenied):
        services.override_budget(t, "紧急", by=get_user(app, OFFICER))
    with pytest.raises(ValidationError):
        services.override_budget(t, "  ", by=get_user(app, MANAGER))
    services.override_budget(t, "院长办公会纪要〔2026〕12号同意追加", by=get_user(app, MANAGER))
    workflow.apply(t, "approve", by=get_user(app, MANAGER))
    session.commit()
    rows = [r for r in audit.history(session, t) if r.action == "budget_override"]
    assert len(rows) == 1 and "12号" in rows[0].data and rows[0].user == "t_procurement_manager"


def test_expert_rules_declaration_range_and_sealed_scores(app, session, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    first, second, third = (m.user for m in t.members)
    label = t.bids[0].label
    crit = t.criteria[0]
    with pytest.raises(Conflict):
        services.score(t, first, [{"bid": label, "criterion": crit.id, "points": "10"}])    # not declared
    services.declare(t, first, no_conflict=True)
    with pytest.raises(ValidationError):
        services.score(t, first, [{"bid": label, "criterion": crit.id, "points": "30.5"}])  # over the maximum
    with pytest.raises(ValidationError):
        services.score(t, first, [{"bid": label, "criterion": crit.id, "points": "-1"}])
    services.declare(t, second, no_conflict=False, statement="与投标人存在亲属关系")
    with pytest.raises(PermissionDenied):
        services.score(t, second, [{"bid": label, "criterion": crit.id, "points": "10"}])
    with pytest.raises(Conflict):
        services.all_scores(t)                                           # sealed until evaluation closes
    outsider = get_user(app, "Auditor")
    with pytest.raises(PermissionDenied):
        services.scoring_sheet(t, outsider)
    sheet = services.scoring_sheet(t, first)
    assert not any(v.legal_name in str(sheet) for v in (b.vendor for b in t.bids))   # blind
    assert sheet["bids_count"] == 3


def test_objection_upheld_disqualifies_and_reranks(app, session, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    score_all(app, session, t, [{b.label: (20, 20, 10) for b in t.bids}] * 3)
    workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    workflow.apply(t, "start_publicity", by=get_user(app, OFFICER))
    first = t.winner
    o = services.raise_objection(t, raised_by="浙江安邦保安服务有限公司", content="第一名人员资质证书造假",
                                 by=get_user(app, OFFICER))
    travel(days=4)
    with pytest.raises(ValidationError):
        workflow.apply(t, "award", by=get_user(app, MANAGER))
    services.answer_objection(t, o.id, answer="经核查属实，取消其中标候选资格", upheld=True, disqualify=first.name,
                              by=get_user(app, MANAGER))
    assert t.winner is not first and t.winner.rank == 1 and first.status == "invalid"
    workflow.apply(t, "award", by=get_user(app, MANAGER))
    assert t.award_amount == t.winner.price


def test_bid_hash_receipt_and_verification(app, session, published, travel):
    t = published()
    results = services.verify(t)
    assert all(not problems for _b, problems in results) and len(results) == 3
    bid = t.bids[0]
    assert len(bid.receipt_hash) == 64
    open_tender(app, session, t, travel)
    assert all(not p for _b, p in services.verify(t))
    env = session.scalars(select(Envelope).where(Envelope.bid_id == bid.id, Envelope.part == "price")).one()
    session.execute(Envelope.__table__.update().where(Envelope.__table__.c.id == env.id)
                    .values(content='{"price": "1.00"}'))
    session.commit()
    session.expire_all()
    problems = dict((b.name, p) for b, p in services.verify(t))
    assert problems[bid.name] and not any(problems[b.name] for b in t.bids[1:])
