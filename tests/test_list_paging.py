"""Issue 23: lists at volume. Deep pages are read from the nearer end (reverse order, short
offset) and must hold exactly the rows FAB's plain OFFSET query gives; the count stops at a
cap and then reads "more than 10,000" on the page and ``count_capped`` in the API."""
import pytest
from flask_appbuilder.models.sqla.interface import SQLAInterface

from erp_core.extensions import db
from erp_core.permissions import COUNT_CAP, CappedCount, ScopedInterface

from .test_list_queries import clone_rows

ROWS = 60


@pytest.fixture
def loans(app):
    from erp_core.demo import load_demo
    from modules.rentals.models import Loan
    with app.app_context():
        load_demo(app)
        clone_rows(Loan, ROWS)
    return Loan


@pytest.mark.parametrize("order", [("lent_at", "desc"), ("lent_at", "asc"), ("name", "desc")])
def test_every_page_read_from_the_nearer_end_matches_the_offset_query(app, loans, order):
    with app.test_request_context():
        ours, plain = ScopedInterface(loans), SQLAInterface(loans)
        ours.count_cap = 0                 # exact counts: every page past the middle is read backwards
        total = plain.query()[0]
        assert total >= ROWS
        for size in (7, 25):
            for page in range(0, total // size + 2):
                count, rows = ours.query(None, *order, page=page, page_size=size)
                want_count, want = plain.query(None, *order, page=page, page_size=size)
                assert count == want_count
                assert [r.id for r in rows] == [r.id for r in want], (order, size, page)


def test_count_stops_at_the_cap(app, loans):
    with app.test_request_context():
        ours = ScopedInterface(loans)
        ours.count_cap = 20
        count, rows = ours.query(None, "lent_at", "desc", page=0, page_size=5)
        assert isinstance(count, CappedCount) and count == 21 and len(rows) == 5
        # a page beyond the cap takes the exact count (needed to read it from the end)
        count, rows = ours.query(None, "lent_at", "desc", page=10, page_size=5)
        assert not isinstance(count, CappedCount) and count >= ROWS and len(rows) == 5
    assert COUNT_CAP == 10_000


def test_capped_count_reads_in_words_on_the_page_and_is_flagged_in_the_api(app, loans, monkeypatch):
    from erp_core.testing import PASSWORD, ensure_user
    from modules.rentals.models import Loan
    monkeypatch.setattr(ScopedInterface, "count_cap", 30)   # above the page (25)
    client = app.test_client()
    user = ensure_user(app, "Front Desk")
    assert client.post("/login/", data={"username": user, "password": PASSWORD}).status_code == 302
    page = client.get(f"{Loan._view.route_base}/list/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "超过 30 条" in text or "more than 30" in text
    api = client.get("/api/v1/loan/?q=(page:0,page_size:5)")
    assert api.status_code == 200
    assert api.json["count"] == 31 and api.json["count_capped"] is True
    with app.app_context():
        db.session.remove()


def test_list_queries_are_checked_against_a_schema_checked_once(app, client, api_token, monkeypatch):
    """FAB's ``?q=`` schema is checked against the meta-schema once, not on every call
    (erp_core.validation._CheckedSchemas); bad queries are still refused the same way."""
    import jsonschema
    from flask_appbuilder.api.schemas import get_list_schema
    cls = jsonschema.validators.validator_for(get_list_schema)
    checks = []
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, **kw: checks.append(s) or original(c, s, **kw)))
    h = api_token("Front Desk")
    for page in range(3):
        assert client.get(f"/api/v1/loan/?q=(page:{page},page_size:5)", headers=h).status_code == 200
    assert checks.count(get_list_schema) <= 1
    bad = client.get("/api/v1/loan/?q=(page:(x:1))", headers=h)
    assert bad.status_code == 400 and "page" in bad.get_data(as_text=True)


@pytest.mark.parametrize("order", [("lent_at", "desc"), ("lent_at", "asc"), ("name", "desc"), ("id", "asc")])
def test_a_cursor_reads_the_whole_list_once_in_order(app, loans, api_token, order):
    """``?after=`` pages by key (WHERE (sort, id) past the last row, no OFFSET): walking
    next_cursor to the end gives every row once, in the order of the plain query."""
    client, h = app.test_client(), api_token("Front Desk")
    with app.test_request_context():
        want = [r.id for r in SQLAInterface(loans).query(None, *order)[1]]
    seen, cursor = [], ""
    for _ in range(len(want)):
        q = f"(order_column:{order[0]},order_direction:{order[1]},page_size:7,columns:!(id))"
        resp = client.get(f"/api/v1/loan/?q={q}&after={cursor}", headers=h)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        seen += resp.json["ids"]
        assert resp.json["count"] == len(want)
        cursor = resp.json["next_cursor"]
        if cursor is None:
            break
    assert seen == want


def test_a_cursor_keeps_the_filter_and_refuses_what_it_cannot_page(app, loans, api_token):
    from modules.rentals.models import Loan
    client, h = app.test_client(), api_token("Front Desk")
    with app.app_context():
        want = sorted((r.lent_at, r.id) for r in db.session.query(Loan).filter(Loan.status == "returned"))[::-1]
        db.session.remove()
    q = "(filters:!((col:status,opr:eq,value:returned)),page_size:5,columns:!(id,status))"
    seen, cursor = [], ""
    while cursor is not None:
        resp = client.get(f"/api/v1/loan/?q={q}&after={cursor}", headers=h).json
        assert {r["status"] for r in resp["result"]} <= {"returned"}
        seen, cursor = seen + resp["ids"], resp["next_cursor"]
    assert seen == [pk for _, pk in want] and len(seen) > 5
    for bad in ("not-a-cursor", "WzEsMl0", "WyJ4IiwgIjEiXQ"):       # garbage, [1,2] as a time, ["x","1"]
        resp = client.get(f"/api/v1/loan/?after={bad}", headers=h)
        message = resp.json["message"]
        assert resp.status_code == 422 and ("cursor" in message or "游标" in message), (bad, message)
    nullable = client.get("/api/v1/loan/?q=(order_column:returned_at,order_direction:desc)&after=", headers=h)
    assert nullable.status_code == 422 and "returned_at" in nullable.json["message"]
