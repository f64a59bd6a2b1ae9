"""Every case issue 16 found, as the role that tried it, through the API and (where a form
exists) the HTML form: each write is refused with a 422 naming the field, the row unchanged.
And the real actor: a token request is recorded as its user, exactly like a browser session."""
import pytest
from sqlalchemy import select

from erp_core.audit import AuditLog
from erp_core.document import snapshot
from erp_core.testing import ensure_user, username_for


def _first(session, cls, **where):
    stmt = select(cls).order_by(cls.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(cls, k) == v)
    row = session.scalars(stmt).first()
    assert row is not None, f"demo data has no {cls.__name__} with {where}"
    return row


def _cases():
    from modules.catering.models import Order
    from modules.convenience.models import SaleItem, Storage
    from modules.procurement.models import Bid, Tender
    from modules.rentals.models import Asset, Loan
    from modules.vendor_contracts.models import Assessment, Contract
    return [
        # the officer rewrites a bid: price, recommendation, rank, state, bidder, time, hash, sealed proposal
        *[("Procurement Officer", Bid, {}, f, v) for f, v in
          [("price", "1.00"), ("recommended", True), ("rank", 1), ("status", "valid"), ("vendor", 1),
           ("submitted_at", "2026-01-01T00:00:00+08:00"), ("receipt_hash", "0" * 64), ("technical", "")]],
        # the manager's decisions and the award through the tender API
        *[("Procurement Officer", Tender, {}, f, v) for f, v in
          [("proceed_decision", "继续"), ("budget_override", "超支"), ("award_amount", "1.00")]],
        # a returned loan reopened for a second refund; the return time from the client
        ("Front Desk", Loan, {"status": "returned"}, "status", "open"),
        ("Front Desk", Loan, {}, "returned_at", "9999-01-01T00:00:00+08:00"),
        ("Front Desk", Loan, {}, "refund", "300.00"),
        # a returned asset put back into lending without disinfection
        ("Front Desk Supervisor", Asset, {}, "status", "available"),
        # the approved month's payment, and a draft's computed results
        ("Inspector", Assessment, {"workflow_state": "approved"}, "paid_now", "1.00"),
        *[("Inspector", Assessment, {"workflow_state": "draft"}, f, v) for f, v in
          [("final_score", "99.00"), ("grade", "优"), ("payable", "1.00"), ("inspection_score", "100")]],
        # a signed contract's vendor (a relation past the submitted lock)
        ("Vendor Coordinator", Contract, {"workflow_state": "active"}, "vendor", 2),
        # the ledger: stock without a stock move; a storage's state, tag and phone
        ("Front Desk Supervisor", SaleItem, {}, "stock", 100000),
        *[("Front Desk", Storage, {}, f, v) for f, v in [("status", "picked_up"), ("tag", "X-1"), ("phone", "1")]],
        # a nurse moves her accepted order to another ward, clears its diet, rates it 99
        *[("Ward Nurse", Order, {"workflow_state": "accepted"}, f, v) for f, v in
          [("ward", 2), ("diet", None), ("rating", 99)]],
    ]


def _give_nurse_her_wards(app, session):
    from modules.catering.models import Ward
    nurse = app.appbuilder.sm.find_user(username=ensure_user(app, "Ward Nurse"))
    for ward in session.scalars(select(Ward)).all():
        if nurse not in ward.nurses:
            ward.nurses.append(nurse)
    session.commit()


def test_each_reported_write_is_refused_for_its_role(app, session, client, api_token, login_as):
    from erp_core.demo import load_demo
    load_demo(app)
    _give_nurse_her_wards(app, session)
    failures, api = [], app.test_client()          # no session cookie: it would win over the token
    for role, cls, where, field, value in _cases():
        row = _first(session, cls, **where)
        before = snapshot(row)
        r = api.put(f"/api/v1/{cls._meta.resource_name}/{row.id}", json={field: value, "version": row.version},
                    headers=api_token(role))
        if r.status_code == 422:
            ok = field in r.json.get("fields", {})
        else:
            ok = r.status_code == 405 and not cls._meta.edit_columns    # no generic edit at all
        # the HTML edit form, where the document has one
        view = getattr(cls, "_view", None)
        if view is not None and cls._meta.edit_columns:
            login_as(role)
            module = app.extensions["houqin"].registry.module_of(cls).name
            f = client.post(f"/{module}/{cls._meta.resource_name}/edit/{row.id}",
                            data={field: "" if value is None else str(value), "seen_version": row.version})
            ok = ok and f.status_code in (403, 422)
        session.expire_all()
        if not ok or snapshot(session.get(cls, row.id)) != before:
            failures.append(f"{role} {cls.__name__}.{field}: PUT {r.status_code} {r.get_data(as_text=True)[:120]}")
    assert not failures, "\n".join(failures)


def test_a_token_request_is_recorded_as_its_user_like_a_session(app, session, client, api_token, login_as):
    """The sample module's request walks create, edit, transition; an action and a delete too."""
    for how in ("token", "cookie"):
        user = ensure_user(app, "Admin")
        headers = api_token("Admin") if how == "token" else {}
        c = client if how == "token" else app.test_client()
        if how == "cookie":
            login_as("Admin", c)
        r = c.post("/api/v1/sample_request/", json={"title": f"via {how}", "amount": "5.00"}, headers=headers)
        assert r.status_code == 201, r.get_data(as_text=True)
        pk = r.json["id"]
        r = c.put(f"/api/v1/sample_request/{pk}", json={"title": f"edited via {how}", "version": 1}, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        assert c.post(f"/api/v1/sample_request/{pk}/transition/approve", headers=headers).status_code == 200
        from tests.sample_module.models import SampleRequest
        session.expire_all()
        doc = session.get(SampleRequest, pk)
        assert (doc.created_by, doc.modified_by) == (user, user), how
        users = {row.user for row in session.scalars(select(AuditLog).where(AuditLog.docname == doc.name))}
        assert users == {user}, (how, users)
        r = c.post("/api/v1/sample_request/", json={"title": "to delete"}, headers=headers)
        assert c.delete(f"/api/v1/sample_request/{r.json['id']}", headers=headers).status_code == 200
        assert session.scalars(select(AuditLog.user).where(AuditLog.action == "delete")
                               .order_by(AuditLog.id.desc())).first() == user


def test_an_action_by_token_is_recorded_as_its_user(app, session, client, api_token):
    from decimal import Decimal
    from erp_core.context import acting_as
    from modules.rentals.models import Asset, ItemType, Loan
    with acting_as("setup"):
        kind = ItemType(title="轮椅", deposit=Decimal("300.00"), rate_unit="day", rate=Decimal("10.00"))
        session.add(kind)
        session.add(Asset(code="LY-009", item_type=kind))
        session.commit()
    r = client.post("/api/v1/rentals/lend", json={"asset_code": "LY-009", "borrower_name": "王秀英", "phone": "1"},
                    headers=api_token("Front Desk"))
    assert r.status_code == 201, r.get_data(as_text=True)
    loan = session.scalars(select(Loan)).one()
    clerk = username_for("Front Desk")
    assert (loan.created_by, loan.lent_by) == (clerk, clerk)
    assert {row.user for row in session.scalars(select(AuditLog).where(AuditLog.docname == loan.name))} == {clerk}


def test_a_relation_cannot_slip_past_the_submitted_lock_even_in_code(app, session):
    """The lock sits in the session, below every path: a service or script changing a signed
    contract's vendor, or an accepted order's dishes, is refused like a plain column."""
    from erp_core.demo import load_demo
    from erp_core.errors import ValidationError
    from modules.vendor_contracts.models import Contract, Vendor
    load_demo(app)
    contract = _first(session, Contract, workflow_state="active")
    other = session.scalars(select(Vendor).where(Vendor.id != contract.vendor_id)).first()
    contract.vendor = other
    with pytest.raises(ValidationError):
        session.flush()
    session.rollback()
    from modules.catering.models import Order
    order = _first(session, Order, workflow_state="accepted")
    order.diet = None
    with pytest.raises(ValidationError):
        session.flush()
    session.rollback()
