"""Actions in the pages: a document's page offers the actions the user may take, each with its
form, and says in words why one is not possible now; an action that is not taken on one
document has a page of its own, linked from the list. Same declaration as the API."""
from decimal import Decimal

from sqlalchemy import select

from erp_core.context import acting_as


def _loan(session):
    from modules.rentals import services
    from modules.rentals.models import Asset, ItemType
    with acting_as("setup"):
        kind = ItemType(title="轮椅", deposit=Decimal("300.00"), rate_unit="day", rate=Decimal("10.00"))
        asset = Asset(code="LY-101", item_type=kind)
        session.add_all([kind, asset])
        session.flush()
        loan = services.lend(asset, borrower_name="王秀英", phone="13800000000", by="setup")
        session.commit()
    return loan


def test_a_document_page_offers_its_actions_with_forms_and_reasons(app, session, client, login_as):
    loan = _loan(session)
    login_as("Front Desk")
    page = client.get(f"/rentals/loan/show/{loan.id}").get_data(as_text=True)
    assert 'data-action="return_"' in page and 'data-action="lost"' not in page     # lost needs the supervisor
    assert 'name="damage_note"' in page and 'name="loan"' not in page               # the loan is this page's
    login_as("Front Desk Supervisor")
    page = client.get(f"/rentals/loan/show/{loan.id}").get_data(as_text=True)
    assert 'data-action="lost"' in page
    r = client.post(f"/rentals/loan/action/{loan.id}/lost")
    assert r.status_code == 302
    session.expire_all()
    assert loan.status == "lost"
    page = client.get(f"/rentals/loan/show/{loan.id}").get_data(as_text=True)
    assert "houqin-action-why" in page                         # why not now, in words on the page
    assert client.post(f"/rentals/loan/action/{loan.id}/lost").status_code == 409
    login_as("Auditor")
    assert client.post(f"/rentals/loan/action/{loan.id}/return_").status_code == 403


def test_an_action_without_a_document_has_its_page_linked_from_the_list(app, session, client, login_as):
    from modules.convenience.models import Storage
    login_as("Front Desk")
    assert "/do/Storage/store" in client.get("/convenience/storage/list/").get_data(as_text=True)
    assert client.get("/do/Storage/store").status_code == 200
    bad = client.post("/do/Storage/store", data={"owner_name": "", "items_count": "2"})
    assert bad.status_code == 422 and session.scalars(select(Storage)).first() is None
    r = client.post("/do/Storage/store", data={"owner_name": "李建国", "phone": "13900000000",
                                               "description": "行李箱一只", "items_count": "1"})
    assert r.status_code == 302
    assert session.scalars(select(Storage)).one().owner_name == "李建国"
    login_as("Auditor")
    assert client.get("/do/Storage/store").status_code == 403
    assert client.get("/do/Storage/nope").status_code == 404
