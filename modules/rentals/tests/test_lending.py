"""Lending, returns, the deposit ledger, disinfection, the API and its permissions."""
import base64
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from erp_core.errors import Conflict, ValidationError
from erp_core.testing import is_postgres
from erp_core.types import now
from modules.rentals import services
from modules.rentals.models import Asset, Loan

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def lend(session, code="LY-001", **kw):
    loan = services.lend(services.find_asset(code), borrower_name=kw.pop("borrower_name", "王秀英"),
                         ward_bed=kw.pop("ward_bed", "心内科 12床"), by=kw.pop("by", "clerk_a"), **kw)
    session.commit()
    return loan


def test_lend_return_with_fee_refund_and_ledger(session, wheelchair):
    loan = lend(session)
    assert loan.asset.status == "lent" and loan.deposit == Decimal("300.00")
    loan = services.return_loan(loan, returned_at=loan.lent_at + timedelta(hours=5, minutes=10), by="clerk_b")
    session.commit()
    assert (loan.rental_fee, loan.late_fee, loan.refund, loan.balance_due) == \
        (Decimal("10.00"), Decimal("0.00"), Decimal("290.00"), Decimal("0.00"))
    assert [(m.kind, m.amount, m.by) for m in loan.movements] == [
        ("held", Decimal("300.00"), "clerk_a"), ("deducted", Decimal("10.00"), "clerk_b"),
        ("refunded", Decimal("290.00"), "clerk_b")]
    assert loan.modified_by == "clerk_b"


def test_returned_item_waits_for_disinfection(session, wheelchair):
    loan = lend(session)
    services.return_loan(loan, by="clerk_a")
    session.commit()
    asset = services.find_asset("LY-001")
    assert asset.status == "disinfection"
    with pytest.raises(Conflict):
        lend(session)
    session.rollback()
    with pytest.raises(ValidationError):
        services.disinfect(asset, method=" ", by="clerk_a")
    services.disinfect(asset, method="含氯消毒液擦拭", by="clerk_a")
    session.commit()
    assert lend(session).asset.code == "LY-001"


def test_damage_beyond_deposit_leaves_a_balance_and_goes_to_maintenance(session, wheelchair):
    loan = lend(session, deposit="100")
    loan = services.return_loan(loan, returned_at=loan.lent_at + timedelta(hours=2), damaged=True,
                                damage_note="扶手断裂", damage_charge=Decimal("150.50"), by="clerk_a")
    session.commit()
    assert loan.refund == Decimal("0.00") and loan.balance_due == Decimal("54.50")     # 4 + 150.50 - 100
    assert loan.asset.status == "maintenance"
    with pytest.raises(ValidationError):
        services.return_loan(lend(session, code="LY-002"), damage_charge=Decimal("5"), by="x")


def test_lost_item_forfeits_the_deposit(session, wheelchair):
    loan = services.mark_lost(lend(session), by="supervisor")
    session.commit()
    assert loan.status == "lost" and loan.asset.status == "lost"
    assert [m.kind for m in loan.movements] == ["held", "forfeited"]


def test_cash_summary_separates_deposits_from_income_and_balances(session, wheelchair):
    a = lend(session, by="clerk_a")
    b = lend(session, code="LY-002", deposit="50", by="clerk_a")
    services.return_loan(a, returned_at=a.lent_at + timedelta(hours=3), by="clerk_a")     # fee 6, refund 294
    services.return_loan(b, returned_at=b.lent_at + timedelta(days=4, hours=1), by="clerk_b",
                         damaged=True, damage_note="刹车失灵", damage_charge=Decimal("20.33"))
    session.commit()
    rows = {r["clerk"]: r for r in services.cash_summary(now().date())}
    ra, rb = rows["clerk_a"], rows["clerk_b"]
    assert ra["deposits_taken"] == Decimal("350.00") and ra["deposits_refunded"] == Decimal("294.00")
    assert ra["fee_income"] == Decimal("6.00")
    # b: 4 days capped (40) + 1 hour (2) + 2 late days (10) + damage 20.33 = 72.33; deposit 50 applied, 22.33 paid
    assert rb["deposits_applied"] == Decimal("50.00") and rb["balances_paid"] == Decimal("22.33")
    for r in rows.values():
        assert r["deposit_change"] + r["fee_income"] == r["cash"]


def test_parallel_lending_of_the_last_wheelchair(app, session, wheelchair):
    if not is_postgres(app):
        pytest.skip("needs PostgreSQL for real parallel writers")
    from erp_core.extensions import db
    session.query(Asset).filter(Asset.code == "LY-002").update({"status": "retired"})
    session.commit()
    results, barrier = [], threading.Barrier(6)

    def clerk(i):
        with app.app_context():
            try:
                barrier.wait()
                services.lend(services.find_asset("LY-001"), borrower_name=f"病人{i}", phone="1", by=f"c{i}")
                db.session.commit()
                results.append("ok")
            except Conflict:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()
    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count("ok") == 1 and results.count("refused") == 5
    assert session.query(Loan).count() == 1


API = "/api/v1/rentals"


def test_api_lend_return_and_bad_input(client, api_token, wheelchair):
    h = api_token("Front Desk")
    bad = [({"asset_code": "NOPE", "borrower_name": "x", "phone": "1"}, 404),
           ({"asset_code": "LY-001", "borrower_name": "", "phone": "1"}, 422),
           ({"asset_code": "LY-001", "borrower_name": "x", "phone": "1", "deposit": "-5"}, 422),
           ({"asset_code": "LY-001", "borrower_name": "x", "phone": "1", "deposit": "abc"}, 422),
           ({"asset_code": "LY-001", "borrower_name": "x", "phone": "1", "id_card": "123"}, 422),
           ({"asset_code": "LY-001", "borrower_name": "x", "phone": "1", "due_at": "tomorrow"}, 422)]
    for body, status in bad:
        resp = client.post(f"{API}/lend", json=body, headers=h)
        assert resp.status_code == status, (body, resp.json)
        assert resp.json["message"]
    assert client.post(f"{API}/lend", data="x", headers=h).status_code == 400
    ok = client.post(f"{API}/lend", json={"asset_code": "ly-001", "borrower_name": "王秀英", "ward_bed": "3床",
                                          "signature": "data:image/png;base64," + base64.b64encode(PNG).decode()},
                     headers=h)
    assert ok.status_code == 201 and ok.json["name"].startswith("LN-")
    assert client.post(f"{API}/lend", json={"asset_code": "LY-001", "borrower_name": "x", "phone": "1"},
                       headers=h).status_code == 409
    # the return time is the server's: a clerk cannot give one; a supervisor may, with a reason
    early = client.post(f"{API}/return", json={"loan": ok.json["name"], "returned_at": "2000-01-01T00:00"}, headers=h)
    assert early.status_code == 403
    sup = api_token("Front Desk Supervisor")
    assert client.post(f"{API}/return", json={"loan": ok.json["name"], "returned_at": "2000-01-01T00:00"},
                       headers=sup).status_code == 422                  # no reason given
    early = client.post(f"{API}/return", json={"loan": ok.json["name"], "returned_at": "2000-01-01T00:00",
                                               "time_reason": "补录"}, headers=sup)
    assert early.status_code == 422                                     # return before lend
    assert client.post(f"{API}/return", json={"loan": ok.json["name"], "returned_at": "9999-01-01T00:00",
                                               "time_reason": "x"}, headers=sup).status_code == 422
    assert client.post(f"{API}/return", json={"loan": "LN-NOPE"}, headers=h).status_code == 404
    back = client.post(f"{API}/return", json={"asset_code": "LY-001"}, headers=h)
    assert back.status_code == 200 and back.json["refund"] == "300.00"
    assert client.post(f"{API}/return", json={"loan": ok.json["name"]}, headers=h).status_code == 409
    assert client.post(f"{API}/disinfect", json={"asset_code": "LY-001", "method": "紫外线"}, headers=h).json["status"] \
        == "available"


def test_roles_are_enforced(app, client, api_token, login_as, session, wheelchair):
    auditor = api_token("Auditor")
    assert client.post(f"{API}/lend", json={"asset_code": "LY-001", "borrower_name": "x", "phone": "1"},
                       headers=auditor).status_code == 403
    assert client.get(f"{API}/availability", headers=auditor).status_code == 200
    loan = lend(session)
    desk = api_token("Front Desk")
    assert client.post(f"{API}/lost", json={"loan": loan.name}, headers=desk).status_code == 403
    assert client.post(f"{API}/lost", json={"loan": loan.name}, headers=api_token("Front Desk Supervisor")).status_code == 200
    assert app.test_client().post(f"{API}/lend", json={}).status_code == 401
    # loans are never created or deleted through the generic API
    assert client.post("/api/v1/loan/", json={"borrower_name": "x"}, headers=api_token("Admin")).status_code in (404, 405)
    login_as("Front Desk")
    assert client.get("/rentals/board/").status_code == 200
    assert client.get("/rentals/overdue/").status_code == 200
    assert client.get("/rentals/item_type/add").status_code == 403


def test_overdue_list_and_board(client, login_as, session, wheelchair):
    loan = lend(session)
    loan.due_at = now() - timedelta(hours=3)
    session.commit()
    login_as("Front Desk")
    assert loan.name in client.get("/rentals/overdue/").get_data(as_text=True)
    assert "轮椅" in client.get("/rentals/board/").get_data(as_text=True)


def test_the_overdue_list_costs_the_same_statements_for_one_loan_or_many(app, client, api_token, session, wheelchair):
    """The overdue API and page load each loan's asset and type with it, not one query per loan."""
    from erp_core.context import acting_as
    from erp_core.extensions import db
    from tests.test_list_queries import Counter
    h = api_token("Front Desk")

    def statements():
        with app.app_context():
            engine = db.engine
        with Counter(engine) as counted:
            resp = client.get("/api/v1/rentals/overdue", headers=h)
        assert resp.status_code == 200
        return counted.n, len(resp.json["result"])

    def overdue_loan(code):
        loan = lend(session, code)
        loan.due_at = now() - timedelta(hours=3)
        session.commit()
    overdue_loan("LY-001")
    one = statements()
    with acting_as("setup"):
        session.add_all([Asset(code=f"LY-1{i:02d}", item_type=wheelchair) for i in range(6)])
        session.commit()
    for i in range(6):
        overdue_loan(f"LY-1{i:02d}")
    many = statements()
    assert (one[1], many[1]) == (1, 7) and many[0] == one[0], (one, many)
