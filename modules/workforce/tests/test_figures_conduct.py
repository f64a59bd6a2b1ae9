"""Headcount and turnover by hand, conduct and removal, the assessment evidence, home counts."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from erp_core.context import acting_as
from erp_core.home import for_user
from erp_core.testing import get_user
from modules.workforce import hooks
from modules.workforce.models import (ACTIVE, LEFT, AgreedHeadcount, Certificate, Issue, Person, Violation, today)
from modules.workforce.services import figures, totals

from .conftest import id_number


def _cleaner(s, session, seq, entry, exit=None, **kw):
    with acting_as("setup"):
        p = Person(full_name=f"保洁{seq}", id_card=id_number(seq), vendor=s["vendor"], contract=s["contract"],
                   entry_date=entry, **kw)
        p.certificates.append(Certificate(certificate_type=s["work"], number=f"S{seq}", valid_from=date(2020, 1, 1),
                                          valid_until=date(2099, 1, 1)))
        session.add(p)
        session.flush()
        p.post, p.status = s["cleaner"], ACTIVE
        session.flush()
        if exit is not None:
            p.exit_date, p.status = exit, LEFT
        session.commit()
    return p


def test_headcount_and_turnover_by_hand(setup, session):
    """November 2026 (30 days), cleaners, agreed headcount 4:
    A from before, stays: 30 days; B from before, leaves 11-11 (counted 1st-10th): 10 days;
    C enters 11-21, stays: 10 days; D enters 10-01, leaves 11-30 (counted to 11-29): 29 days;
    E left in October: not counted; F registered only (pending): not counted.
    start (11-01) = A, B, D = 3; end (11-30) = A, C = 2 (D's exit day is not counted);
    person-days = 30 + 10 + 10 + 29 = 79; average = 79 / 30 = 2.63; missing = 4 × 30 − 79 = 41;
    exits = B, D = 2; turnover = 2 / ((3 + 2) / 2) = 80.0 %."""
    s = setup
    _cleaner(s, session, 61, date(2026, 5, 1))
    b = _cleaner(s, session, 62, date(2026, 5, 1), exit=date(2026, 11, 11))
    _cleaner(s, session, 63, date(2026, 11, 21))
    d = _cleaner(s, session, 64, date(2026, 10, 1), exit=date(2026, 11, 30))
    _cleaner(s, session, 65, date(2026, 5, 1), exit=date(2026, 10, 20))
    with acting_as("setup"):
        session.add(Person(full_name="待岗", id_card=id_number(66), vendor=s["vendor"], contract=s["contract"],
                           entry_date=date(2026, 5, 1)))
        session.add(AgreedHeadcount(contract=s["contract"], post=s["cleaner"], headcount=4))
        session.add(AgreedHeadcount(contract=s["contract"], post=s["carer"], headcount=0))
        session.commit()
    rows = figures(2026, 11)
    row = next(r for r in rows if r["post"] is s["cleaner"])
    assert (row["agreed"], row["start"], row["end"], row["person_days"], row["days"]) == (4, 3, 2, 79, 30)
    assert row["average"] == Decimal("2.63") and row["missing_days"] == 41 and row["understaffed"]
    assert row["exits"] == 2 and sorted(row["exit_refs"]) == sorted([b.name, d.name])
    assert row["turnover"] == Decimal("80.0")
    assert totals(rows)["turnover"] == Decimal("80.0")
    carer = next(r for r in rows if r["post"] is s["carer"])
    assert carer["agreed"] == 0 and not carer["understaffed"] and carer["turnover"] is None
    # the hook offers the same to the assessment of that contract
    ev = {e["evidence"]: e for e in hooks.houqin_assessment_evidence(contract=s["contract"], year=2026, month=11)}
    assert ev["workforce.understaffed"]["count"] == 1 and "41" in ev["workforce.understaffed"]["note"]
    assert ev["workforce.understaffed"]["refs"] == ["保洁员: 2.63/4"]
    assert ev["workforce.turnover"]["count"] == 2 and "80.0%" in ev["workforce.turnover"]["note"]
    assert ev["workforce.violation"]["count"] == 0 and ev["workforce.violation"]["refs"] == []
    assert {k for k, _l in hooks.houqin_assessment_evidence_keys()} == set(ev)


def test_figures_page_and_refusal(setup, session, client, login_as):
    s = setup
    _cleaner(s, session, 67, date(2026, 5, 1))
    login_as("Logistics Manager")
    r = client.get("/workforce/figures/?month=2026-11")
    assert r.status_code == 200 and "保洁员" in r.get_data(as_text=True)
    assert client.get("/workforce/figures/?month=2026-13").status_code == 422
    login_as("Front Desk")
    assert client.get("/workforce/figures/?month=2026-11").status_code in (302, 403)


def test_violations_flag_for_removal_and_vendor_reply(setup, session, app, api_token):
    s = setup
    p = _cleaner(s, session, 71, date(2026, 1, 1))
    other = _cleaner(s, session, 72, date(2026, 1, 1))
    c = app.test_client()
    h = api_token("Workforce Officer")
    post = lambda who, day, sev: c.post("/api/v1/violation/", json=dict(  # noqa: E731
        person=who.id, occurred_on=day, rule="医疗废物未按规定交接", witness="护士长", severity=sev, penalty="书面警告",
        fine="100.00"), headers=h)
    assert post(p, "2026-11-02", "serious").status_code == 201
    assert post(p, "2026-11-05", "minor").status_code == 201
    assert post(other, "2026-11-06", "serious").status_code == 201
    session.expire_all()
    assert not session.get(Person, p.id).removal_flagged          # one serious one: not yet
    r = post(p, "2026-11-20", "serious")
    assert r.status_code == 201
    session.expire_all()
    flagged = session.get(Person, p.id)
    assert flagged.removal_flagged and "2" in flagged.removal_reason and r.json["id"]
    assert not session.get(Person, other.id).removal_flagged
    assert post(p, "2026-11-21", "terrible").status_code == 422
    # the month's violations are offered to the assessment, by number
    names = session.scalars(select(Violation.name).where(Violation.occurred_on.between(date(2026, 11, 1),
                                                                                       date(2026, 11, 30)))).all()
    ev = {e["evidence"]: e for e in hooks.houqin_assessment_evidence(contract=s["contract"], year=2026, month=11)}
    assert ev["workforce.violation"]["count"] == 4 and sorted(ev["workforce.violation"]["refs"]) == sorted(names)
    assert {e["evidence"]: e for e in hooks.houqin_assessment_evidence(
        contract=s["contract"], year=2026, month=10)}["workforce.violation"]["count"] == 0
    # the vendor's reply: the coordinator records it; accepted means the person leaves
    hc = api_token("Vendor Coordinator")
    v = session.scalars(select(Violation).where(Violation.person_id == p.id)).first()
    assert c.post(f"/api/v1/workforce_violations/{v.id}/reply", json={"reply": "已批评教育"}, headers=hc).status_code == 200
    assert c.post(f"/api/v1/workforce_violations/{v.id}/reply", json={"reply": "x"},
                  headers=api_token("Auditor")).status_code == 403
    assert c.post(f"/api/v1/workforce/{other.id}/removal_reply", json={"reply": "x", "outcome": "accepted"},
                  headers=hc).status_code == 409                                  # not flagged
    r = c.post(f"/api/v1/workforce/{p.id}/removal_reply", json={"reply": "同意辞退，已另派人员", "outcome": "accepted"},
               headers=hc)
    assert r.status_code == 200 and r.json["status"] == "left"
    session.expire_all()
    assert session.get(Person, p.id).exit_date == today()
    # a manual flag by the officer, refused for the coordinator
    assert c.post(f"/api/v1/workforce/{other.id}/flag_removal", json={"reason": "x"}, headers=hc).status_code == 403
    assert c.post(f"/api/v1/workforce/{other.id}/flag_removal", json={"reason": "多次投诉"},
                  headers=h).status_code == 200


def test_expiring_expired_overdue_lists_and_home_counts(setup, session, app, client, login_as):
    s = setup
    day = today()
    p = _cleaner(s, session, 81, day - timedelta(days=400))
    q = _cleaner(s, session, 82, day - timedelta(days=400))
    gone = _cleaner(s, session, 83, day - timedelta(days=400), exit=day - timedelta(days=1))
    with acting_as("setup"):
        p.certificates[0].valid_until = day + timedelta(days=30)       # expiring (the 30th day counts)
        q.certificates[0].valid_until = day - timedelta(days=1)        # expired
        gone.certificates[0].valid_until = day - timedelta(days=5)     # left: not on the lists
        session.add(Issue(person=p, item="工作服", quantity=2, issued_on=day - timedelta(days=400),
                          replace_due=day - timedelta(days=35)))
        session.add(Issue(person=q, item="工作服", quantity=2, issued_on=day - timedelta(days=10),
                          replace_due=day + timedelta(days=355)))
        session.commit()
    login_as("Workforce Officer")
    page = client.get("/workforce/certificates/expiring/").get_data(as_text=True)
    assert p.full_name in page and q.full_name not in page
    page = client.get("/workforce/certificates/expired/").get_data(as_text=True)
    assert q.full_name in page and p.full_name not in page and gone.full_name not in page
    page = client.get("/workforce/issues/overdue/").get_data(as_text=True)
    assert p.full_name in page and q.full_name not in page
    with app.test_request_context():
        waiting = for_user(get_user(app, "Workforce Officer"))["waiting"]
        counts = {w["link"]: w["count"] for w in waiting}
        assert counts["/workforce/certificates/expiring/"] == 1 and counts["/workforce/certificates/expired/"] == 1
        assert counts["/workforce/issues/overdue/"] == 1, waiting
        assert not any(w["link"].startswith("/workforce/") for w in for_user(get_user(app, "Front Desk"))["waiting"])
    login_as("Front Desk")
    assert client.get("/workforce/certificates/expired/").status_code in (302, 403)
