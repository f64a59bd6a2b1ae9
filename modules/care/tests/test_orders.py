from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from erp_core.errors import Conflict, ValidationError
from erp_core.testing import get_user, is_postgres, parallel
from erp_core.types import LOCAL_TZ, clock_at, now
from modules.care import services
from modules.care.hooks import houqin_assessment_evidence, houqin_assessment_evidence_keys
from modules.care.models import ACTIVE, AWAITING, SETTLED, CareOrder
from modules.workforce.models import Violation

from .conftest import PNG, desk, order_data

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=LOCAL_TZ)


def _order(app, care, at=T0, **kw):
    with clock_at(at - timedelta(minutes=1)):          # booked and signed just before care starts
        o = services.create_order(order_data(care, start=at, **kw), by=desk(app))
        services.sign(o, signature=PNG, by=desk(app))
    return o


def test_assignment_refused_for_a_missing_or_expired_certificate(app, session, care):
    with pytest.raises(ValidationError) as missing:
        services.create_order(order_data(care, worker="王芳"), by=desk(app))
    assert "陪护资格证" in str(missing.value) and "王芳" in str(missing.value)
    with pytest.raises(ValidationError) as expired:
        services.create_order(order_data(care, worker="赵丽"), by=desk(app))
    assert "陪护资格证" in str(expired.value) and "赵丽" in str(expired.value)
    o = services.create_order(order_data(care, worker="张红"), by=desk(app))
    with pytest.raises(ValidationError) as change:           # a change of worker goes through the same check
        services.change_worker(o, care["people"]["赵丽"].id, "换人", by=desk(app))
    assert "陪护资格证" in str(change.value)
    assert [p.full_name for p in services.eligible_workers()] == ["张红", "李梅"]


def test_a_double_booked_worker_is_refused(app, session, care):
    first = services.create_order(order_data(care, worker="张红", days=5), by=desk(app))
    session.commit()
    with pytest.raises(Conflict) as clash:
        services.create_order(order_data(care, worker="张红", bed="15", start=now() + timedelta(days=2)), by=desk(app))
    assert first.name in str(clash.value)
    session.rollback()
    # after the first booking ends, the worker is free again
    services.create_order(order_data(care, worker="张红", start=now() + timedelta(days=6)), by=desk(app))
    # one worker may serve several patients on one-to-many orders, but not one-to-one beside them
    services.create_order(order_data(care, worker="李梅", level="L3", bed="1"), by=desk(app))
    services.create_order(order_data(care, worker="李梅", level="L3", bed="2"), by=desk(app))
    with pytest.raises(Conflict):
        services.create_order(order_data(care, worker="李梅", level="L1", bed="3"), by=desk(app))
    with pytest.raises(Conflict):
        services.change_worker(first, care["people"]["李梅"].id, "换人", by=desk(app))


def test_double_booking_api_answers_409(app, session, client, api_token, care):
    h = api_token("Care Desk")
    body = {k: (str(v) if not isinstance(v, datetime) else None) for k, v in order_data(care).items()}
    body.update(start_at=None, planned_end=(now() + timedelta(days=3)).date().isoformat())
    r = client.post("/api/v1/care/orders", headers=h, json=body)
    assert r.status_code == 201, r.json
    r2 = client.post("/api/v1/care/orders", headers=h, json={**body, "bed": "20"})
    assert r2.status_code == 409 and "张红" in r2.json["message"]
    bad = {**body, "worker": str(care["people"]["王芳"].id)}       # not an eligible worker: not offered
    assert client.post("/api/v1/care/orders", headers=h, json=bad).status_code == 422


@pytest.mark.postgres
def test_concurrent_bookings_of_one_worker_give_one_success(app, session, care):
    if not is_postgres(app):
        pytest.skip("row locks need PostgreSQL")
    tomorrow = (now() + timedelta(days=4)).date().isoformat()
    base = {k: str(v) for k, v in order_data(care).items() if k not in ("start_at", "planned_end")}
    session.commit()
    tokens = {}
    from erp_core.testing import PASSWORD, ensure_user
    name = ensure_user(app, "Care Desk")
    token = app.test_client().post("/api/v1/security/login", json={"username": name, "password": PASSWORD,
                                                                   "provider": "db"}).json["access_token"]
    tokens["h"] = {"Authorization": f"Bearer {token}"}

    def book(i):
        return app.test_client().post("/api/v1/care/orders", headers=tokens["h"],
                                      json={**base, "bed": f"B{i}", "planned_end": tomorrow}).status_code
    codes = parallel(6, book)
    assert sorted(codes) == [201] + [409] * 5, codes
    assert session.query(CareOrder).count() == 1


def test_charges_across_level_changes_and_part_days(app, session, care):
    # L2 ¥150.50 from 11-02 08:00; L1 ¥200.00 from 11-03 18:00 (10 h of care day 2 on L2, 14 h on L1)
    o = _order(app, care, level="L2", deposit=Decimal("500.00"))
    with clock_at(T0 + timedelta(days=1, hours=10)):
        services.change_level(o, care["levels"]["L1"].id, "病情加重", by=desk(app))
    with clock_at(T0 + timedelta(days=3, hours=3)):          # discharged 11-05 11:00: a 3 h part day
        services.settle(o, by=desk(app))
    lines = services.charge_lines(o)
    assert [(l["level"].code, l["fraction"], l["amount"]) for l in lines] == [
        ("L2", 1, Decimal("150.50")), ("L1", 1, Decimal("200.00")), ("L1", 1, Decimal("200.00")),
        ("L1", Decimal("0.5"), Decimal("100.00"))]
    # 150.50 + 200.00 + 200.00 + 100.00 = 650.50; deposit 500.00 -> 150.50 due
    assert (o.care_days, o.charges, o.balance_due, o.refund) == (Decimal("3.5"), Decimal("650.50"),
                                                                 Decimal("150.50"), Decimal("0.00"))
    assert o.workflow_state == SETTLED and [s.level.code for s in o.segments] == ["L2", "L1"]


def test_part_day_rule_half_up_and_refund(app, session, care):
    # L3 ¥99.99: 1 day + 2 h -> 99.99 + half of 99.99 = 49.995 -> 50.00 (half-up) = 149.99
    o = _order(app, care, worker="李梅", level="L3", deposit=Decimal("300.00"))
    with clock_at(T0 + timedelta(days=1, hours=2)):
        services.settle(o, by=desk(app))
    assert (o.care_days, o.charges, o.balance_due, o.refund) == (Decimal("1.5"), Decimal("149.99"), Decimal("0.00"),
                                                                 Decimal("150.01"))
    # 4 h or more is a full day: 2 days + 4 h = 3 × 99.99 = 299.97
    o2 = _order(app, care, worker="李梅", level="L3", at=T0 + timedelta(days=10), deposit=Decimal("299.97"))
    with clock_at(T0 + timedelta(days=12, hours=4)):
        services.settle(o2, by=desk(app))
    assert (o2.charges, o2.balance_due, o2.refund) == (Decimal("299.97"), Decimal("0.00"), Decimal("0.00"))


def test_part_day_threshold_is_a_setting_kept_on_the_order(app, session, care):
    app.config["HOUQIN_CARE_PART_DAY_HOURS"] = 6
    try:
        o = _order(app, care, level="L1")
    finally:
        app.config.pop("HOUQIN_CARE_PART_DAY_HOURS")
    with clock_at(T0 + timedelta(hours=29)):          # 1 day + 5 h: under 6 h, half a day
        services.settle(o, by=desk(app))
    assert (o.part_day_hours, o.charges) == (6, Decimal("300.00"))


def test_a_change_of_worker_keeps_the_history_and_not_the_price(app, session, care):
    o = _order(app, care, level="L1")
    with clock_at(T0 + timedelta(hours=30)):
        services.change_worker(o, care["people"]["李梅"].id, "家属要求更换", by=desk(app))
    with clock_at(T0 + timedelta(days=2)):
        services.settle(o, by=desk(app))
    assert [(s.worker.full_name, s.reason) for s in o.segments] == [("张红", ""), ("李梅", "家属要求更换")]
    assert o.segments[0].until_at == o.segments[1].from_at == T0 + timedelta(hours=30)
    assert o.charges == Decimal("400.00")


def test_the_order_becomes_active_only_with_the_signed_agreement(app, session, care):
    o = services.create_order(order_data(care), by=desk(app))
    assert o.workflow_state == AWAITING
    with pytest.raises(ValidationError):
        services.sign(o, by=desk(app))
    with pytest.raises(ValidationError):
        services.sign(o, signature="data:image/png;base64,AAAA", by=desk(app))
    with pytest.raises(Conflict):
        services.settle(o, by=desk(app))
    services.sign(o, signature=PNG, by=desk(app))
    assert o.workflow_state == ACTIVE and o.signature.startswith(b"\x89PNG") and o.signed_at is not None


def test_signed_paper_upload_is_judged_by_content(app, session, client, login_as, care):
    from io import BytesIO
    o = services.create_order(order_data(care), by=desk(app))
    session.commit()
    login_as("Care Desk")
    url = f"/care/care_order/action/{o.id}/sign"
    fake = {"scan": (BytesIO(b"MZ\x90\x00 not a pdf at all"), "agreement.pdf", "application/pdf")}
    assert client.post(url, data=fake, content_type="multipart/form-data").status_code == 422
    big = {"scan": (BytesIO(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)), "agreement.pdf", "application/pdf")}
    assert client.post(url, data=big, content_type="multipart/form-data").status_code == 422
    session.expire_all()
    assert session.get(CareOrder, o.id).workflow_state == AWAITING
    good = {"scan": (BytesIO(b"%PDF-1.4\n%signed by the family\n"), "agreement.pdf", "application/octet-stream")}
    assert client.post(url, data=good, content_type="multipart/form-data").status_code == 302
    session.expire_all()
    o = session.get(CareOrder, o.id)
    assert o.workflow_state == ACTIVE and o.signed_scan_id is not None
    from erp_core.models import Attachment
    assert session.get(Attachment, o.signed_scan_id).mimetype == "application/pdf"


def test_settlement_refuses_bad_input(app, session, client, api_token, care):
    o = _order(app, care, at=now() - timedelta(days=1))
    session.commit()
    h = api_token("Care Desk")
    url = f"/api/v1/care/orders/{o.id}/settle"
    assert client.post(url, headers=h, json={"ended_at": (now() + timedelta(hours=2)).isoformat()}).status_code == 422
    assert client.post(url, headers=h, json={"ended_at": (now() - timedelta(days=3)).isoformat()}).status_code == 422
    assert client.post(url, headers=h, json={"payment_method": "gold"}).status_code == 422
    r = client.post(url, headers=h, json={"payment_method": "cash"})
    assert r.status_code == 200, r.json
    assert client.post(url, headers=h, json={}).status_code == 409


def test_complaints_ratings_and_violations_reach_the_vendor_assessment(app, session, care):
    o = _order(app, care, at=now() - timedelta(days=1))
    services.add_feedback(o, "rating", 2, "", by=desk(app))
    services.add_feedback(o, "rating", 5, "", by=desk(app))
    services.add_feedback(o, "complaint", None, "夜间离岗", by=get_user(app, "Ward Nurse"))
    rule = services.active_rules()[0]
    services.record_violation(o, rule.id, "护士长", "serious", "罚款 200 元", by=get_user(app, "Ward Nurse"))
    session.commit()
    v = session.query(Violation).one()          # recorded in workforce's conduct register, once
    assert v.person.full_name == "张红" and rule.text in v.rule and v.severity == "serious"
    today = now()
    got = {e["evidence"]: e for e in houqin_assessment_evidence(care["contract"], today.year, today.month)}
    assert (got["care.complaint"]["count"], got["care.low_rating"]["count"], got["care.violation"]["count"]) == (1, 1, 1)
    assert got["care.violation"]["refs"] == [o.name]
    assert {k for k, _l in houqin_assessment_evidence_keys()} == set(got)
    other = type(care["contract"])(service_category="cleaning", vendor_id=care["vendor"].id)
    assert houqin_assessment_evidence(other, today.year, today.month) == []
    with pytest.raises(ValidationError):
        services.add_feedback(o, "rating", None, "", by=desk(app))
