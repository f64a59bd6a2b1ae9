"""The counter API: lookups, actions as the clerk on duty, permissions."""
from erp_core.audit import AuditLog
from erp_core.context import acting_as
from erp_core.testing import ensure_user
from modules.rentals import services as rentals
from modules.rentals.models import Loan

API = "/api/v1/counter"


def test_lookup_tells_what_a_code_is(client, api_token, wheelchair, shelf):
    h = api_token("Front Desk")
    assert client.get(f"{API}/lookup?code=ly-001", headers=h).json["kind"] == "asset"
    assert client.get(f"{API}/lookup?code=JD-01", headers=h).json["kind"] == "item"
    assert client.get(f"{API}/lookup?code=NOPE", headers=h).status_code == 404
    assert client.get(f"{API}/lookup?code=", headers=h).status_code == 422


def test_lend_return_sell_store_pickup_in_a_row(client, api_token, wheelchair, shelf):
    h = api_token("Front Desk")
    lent = client.post(f"{API}/act/lend", json={"code": "LY-001", "borrower_name": "王秀英", "ward_bed": "12床"},
                       headers=h)
    assert lent.status_code == 200 and lent.json["print"].startswith("/print/rentals.receipt/")
    back = client.post(f"{API}/act/return", json={"code": "LY-001"}, headers=h)
    assert back.status_code == 200 and back.json["refund"] == "300.00"
    assert client.get(f"{API}/lookup?code=LY-001", headers=h).json["status"] == "disinfection"
    assert client.post(f"{API}/act/disinfect", json={"code": "LY-001", "method": "擦拭"}, headers=h).json["status"] \
        == "available"
    sold = client.post(f"{API}/act/sell", json={"lines": [{"code": "JD-01", "qty": 2}]}, headers=h)
    assert sold.status_code == 200 and sold.json["total"] == "7.00"
    stored = client.post(f"{API}/act/store", json={"owner_name": "孙强", "phone": "13900002222", "description": "衣物"},
                         headers=h).json
    assert client.post(f"{API}/act/pickup", json={"code": stored["tag"], "phone_last4": "0000"},
                       headers=h).status_code == 422
    assert client.post(f"{API}/act/pickup", json={"code": stored["tag"], "phone_last4": "2222"},
                       headers=h).json["status"] == "picked_up"
    assert client.post(f"{API}/act/nope", json={}, headers=h).status_code == 404
    assert client.post(f"{API}/act/sell", json={"lines": [{"code": "JD-01", "qty": 99}]}, headers=h).status_code == 409


def test_clerk_switch_with_pin_names_the_clerk(app, client, login_as, session, wheelchair):
    clerk = ensure_user(app, "Front Desk", username="li_na")
    with acting_as("setup"):
        rentals.set_clerk_pin(clerk, "246802")
        session.commit()
    login_as("Front Desk")                       # the shared counter account
    assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "000000"}).status_code == 403
    assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "246802"}).json["clerk"] == "li_na"
    client.post(f"{API}/act/lend", json={"code": "LY-001", "borrower_name": "王秀英", "phone": "1"})
    loan = session.query(Loan).one()
    assert loan.lent_by == "li_na" and loan.created_by == "li_na"
    assert session.query(AuditLog).filter_by(docname=loan.name, action="create").one().user == "li_na"
    assert client.delete(f"{API}/clerk").json["clerk"] == "t_front_desk"


def test_counter_permissions(app, client, api_token, login_as, wheelchair, shelf):
    auditor = api_token("Auditor")
    assert client.get(f"{API}/lookup?code=LY-001", headers=auditor).status_code == 403
    assert client.post(f"{API}/act/lend", json={"code": "LY-001"}, headers=auditor).status_code == 403
    assert app.test_client().get(f"{API}/lookup?code=LY-001").status_code == 401
    # a clerk sets only her own PIN (no username input), of at least 6 digits
    assert client.post(f"{API}/pin", json={"username": "t_front_desk", "pin": "123456"},
                       headers=api_token("Front Desk")).status_code == 422
    assert client.post(f"{API}/pin", json={"pin": "1234"}, headers=api_token("Front Desk")).status_code == 422
    assert client.post(f"{API}/pin", json={"pin": "135792"}, headers=api_token("Front Desk")).json == \
        {"username": "t_front_desk"}
    # a supervisor can reset it, not set it; a clerk cannot reset
    assert client.post(f"{API}/pin/reset", json={"username": "t_front_desk"},
                       headers=api_token("Front Desk")).status_code == 403
    assert client.post(f"{API}/pin/reset", json={"username": "t_front_desk"},
                       headers=api_token("Front Desk Supervisor")).status_code == 200
    login_as("Auditor")
    assert client.get("/counter/").status_code == 403


def test_pin_locks_after_five_wrong_tries_and_a_reset_forces_a_new_one(app, client, login_as, session, travel):
    clerk = ensure_user(app, "Front Desk", username="wang_fang")
    with acting_as("setup"):
        rentals.set_clerk_pin(clerk, "975310")
        session.commit()
    login_as("Front Desk")
    for _ in range(5):
        assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "000000"}).status_code == 403
    # locked: even the right PIN is refused, and the lock is audited
    assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "975310"}).status_code == 409
    assert session.query(AuditLog).filter_by(docname=clerk, action="pin_locked").count() == 1
    travel(minutes=16)
    assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "975310"}).status_code == 200
    with acting_as("setup"):
        rentals.reset_clerk_pin(clerk, by="t_front_desk_supervisor")
        session.commit()
    assert client.post(f"{API}/clerk", json={"username": clerk, "pin": "975310"}).status_code == 403
