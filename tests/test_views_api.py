"""Generated views and APIs: CRUD, stale edits, workflow actions, record rules, export, print."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_core.audit import AuditLog
from erp_core.context import acting_as
from erp_core.testing import ensure_user
from tests.sample_module.models import SampleInvoice, SampleRequest

API = "/api/v1/sample_request/"


def make_request(session, by="someone", **kw):
    with acting_as(by):
        req = SampleRequest(title=kw.pop("title", "轮椅申请"), amount=kw.pop("amount", Decimal("12.30")), **kw)
        session.add(req)
        session.commit()
    return req


def test_list_and_add_through_the_ui(client, login_as, session):
    login_as("Sample Clerk")
    resp = client.post("/sample/sample_request/add", data={"title": "平车", "ward": "B", "amount": "3.50"})
    assert resp.status_code == 302
    req = session.scalars(select(SampleRequest)).one()
    assert req.title == "平车" and req.amount == Decimal("3.50") and req.created_by == "t_sample_clerk"
    page = client.get("/sample/sample_request/list/")
    assert page.status_code == 200 and "平车" in page.get_data(as_text=True)


def test_ui_bad_input_is_422(client, login_as):
    login_as("Sample Clerk")
    resp = client.post("/sample/sample_request/add", data={"title": "x", "amount": "not a number"})
    assert resp.status_code == 422


def test_ui_stale_edit_is_refused_with_message(client, login_as, session):
    req = make_request(session)
    login_as("Sample Clerk")
    seen = req.version
    req.title = "someone else edited"
    session.commit()
    resp = client.post(f"/sample/sample_request/edit/{req.id}",
                       data={"title": "mine", "ward": "A", "amount": "1", "seen_version": seen})
    assert resp.status_code == 409
    assert "reload" in resp.get_data(as_text=True) or "重新" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(SampleRequest, req.id).title == "someone else edited"


def test_ui_edit_with_current_version_saves(client, login_as, session):
    req = make_request(session)
    login_as("Sample Clerk")
    resp = client.post(f"/sample/sample_request/edit/{req.id}",
                       data={"title": "改好了", "ward": "A", "amount": "1", "seen_version": req.version})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(SampleRequest, req.id).title == "改好了"


def test_api_crud_and_version_lock(client, api_token, session):
    h = api_token("Sample Clerk")
    resp = client.post(API, json={"title": "雨伞", "ward": "C", "amount": "2.00"}, headers=h)
    assert resp.status_code == 201, resp.json
    pk = resp.json["id"]
    got = client.get(f"{API}{pk}", headers=h).json["result"]
    assert got["name"].startswith("SRQ-") and got["version"] == 1
    assert client.put(f"{API}{pk}", json={"title": "无版本"}, headers=h).status_code == 422
    assert client.put(f"{API}{pk}", json={"title": "新", "version": 1}, headers=h).status_code == 200
    stale = client.put(f"{API}{pk}", json={"title": "旧", "version": 1}, headers=h)
    assert stale.status_code == 409 and stale.json["message"]


def test_api_bad_input_is_4xx(client, api_token):
    h = api_token("Sample Clerk")
    for body in ({"title": "x", "amount": "abc"}, {"nope": 1}, ["not", "an", "object"]):
        resp = client.post(API, json=body, headers=h)
        assert 400 <= resp.status_code < 500, (body, resp.status_code)
    resp = client.post(API, json={"title": "bad <forbidden>", "amount": "1"}, headers=h)
    assert resp.status_code == 422 and "forbidden" in resp.json["message"]


def test_api_workflow_transitions(client, api_token, session):
    req = make_request(session, amount=Decimal("0"))
    clerk, manager = api_token("Sample Clerk"), api_token("Sample Manager")
    url = f"{API}{req.id}/transition/approve"
    assert client.post(url, headers=clerk).status_code == 403
    refused = client.post(url, headers=manager)
    assert refused.status_code == 422 and "金额" in refused.json["message"]
    assert client.post(f"{API}{req.id}/transition/close", headers=manager).status_code == 409
    assert client.post(f"{API}{req.id}/transition/nope", headers=manager).status_code == 422
    session.expire_all()
    req = session.get(SampleRequest, req.id)
    req.amount = Decimal("5")
    session.commit()
    ok = client.post(url, headers=manager)
    assert ok.status_code == 200 and ok.json["workflow_state"] == "approved" and ok.json["docstatus"] == 1
    assert client.post(f"{API}{req.id}/transition/reject", json={}, headers=manager).status_code == 422
    assert client.post(f"{API}{req.id}/transition/reject", json={"reason": "重复"}, headers=manager).status_code == 200
    rows = session.scalars(select(AuditLog).where(AuditLog.doc_id == req.id, AuditLog.action == "transition")).all()
    assert [r.payload()["action"] for r in rows] == ["approve", "reject"]


def test_ui_workflow_button_and_refusal(client, login_as, session):
    req = make_request(session, amount=Decimal("0"))
    login_as("Sample Manager")
    page = client.get(f"/sample/sample_request/show/{req.id}").get_data(as_text=True)
    assert 'data-action="approve"' in page and "disabled" in page      # condition not met: greyed with reason
    resp = client.post(f"/sample/sample_request/transition/{req.id}/approve")
    assert resp.status_code == 422 and "金额" in resp.get_data(as_text=True)


def test_submit_cancel_amend_through_api(client, api_token, session):
    h = api_token("Sample Clerk")
    pk = client.post("/api/v1/sample_invoice/", json={"payee": "甲", "total": "10.00"}, headers=h).json["id"]
    assert client.post(f"/api/v1/sample_invoice/{pk}/submit", headers=h).json["docstatus"] == 1
    assert client.put(f"/api/v1/sample_invoice/{pk}", json={"payee": "乙", "version": 2},
                      headers=h).status_code == 422
    assert client.post(f"/api/v1/sample_invoice/{pk}/cancel", json={}, headers=h).status_code == 422
    assert client.post(f"/api/v1/sample_invoice/{pk}/cancel", json={"reason": "错开"}, headers=h).status_code == 200
    amended = client.post(f"/api/v1/sample_invoice/{pk}/amend", headers=h)
    assert amended.status_code == 200 and amended.json["name"].endswith("-1")
    assert client.post(f"/api/v1/sample_invoice/{pk}/amend", headers=api_token("Auditor")).status_code == 403
    history = client.get(f"/api/v1/sample_invoice/{pk}/history", headers=h).json["result"]
    assert [r["action"] for r in history] == ["create", "submit", "cancel"]


def test_record_rules_apply_to_every_read_path(app, client, login_as, api_token, session):
    own = ensure_user(app, "Sample Own")
    mine = make_request(session, by=own, title="我的申请")
    theirs = make_request(session, by="other", title="别人的申请")
    login_as("Sample Own")
    listing = client.get("/sample/sample_request/list/").get_data(as_text=True)
    assert "我的申请" in listing and "别人的申请" not in listing
    assert client.get(f"/sample/sample_request/show/{theirs.id}").status_code == 404
    assert client.get(f"/sample/sample_request/show/{mine.id}").status_code == 200
    assert client.post(f"/sample/sample_request/edit/{theirs.id}", data={"title": "x"}).status_code == 404
    csv = client.get("/sample/sample_request/export/?format=csv").get_data(as_text=True)
    assert "我的申请" in csv and "别人的申请" not in csv
    assert client.get(f"/print/sample.request/{theirs.name}.pdf").status_code == 404
    assert client.get(f"/print/sample.request/{mine.name}.pdf").status_code == 200
    h = api_token("Sample Own")
    names = [r["title"] for r in client.get(API, headers=h).json["result"]]
    assert names == ["我的申请"]
    assert client.get(f"{API}{theirs.id}", headers=h).status_code == 404
    assert client.put(f"{API}{theirs.id}", json={"title": "x", "version": 1}, headers=h).status_code == 404
    assert client.get(f"{API}export/?format=xlsx", headers=h).status_code == 200


def test_hidden_fields_are_masked_in_api_and_export(client, api_token, login_as, session):
    sealed = make_request(session, ward="SEALED", amount=Decimal("999.99"))
    h = api_token("Sample Clerk")
    assert client.get(f"{API}{sealed.id}", headers=h).json["result"]["amount"] is None
    assert [r["amount"] for r in client.get(API, headers=h).json["result"]] == [None]
    login_as("Sample Clerk")
    csv = client.get("/sample/sample_request/export/?format=csv").get_data(as_text=True)
    assert "999.99" not in csv


def test_export_formats(client, login_as, session):
    make_request(session, title="导出")
    login_as("Sample Clerk")
    xlsx = client.get("/sample/sample_request/export/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/sample/sample_request/export/?format=exe").status_code == 422


def test_print_needs_print_permission_and_writes_audit(client, login_as, session):
    req = make_request(session)
    login_as("Auditor")
    assert client.get(f"/print/sample.request/{req.name}.pdf").status_code == 403
    login_as("Sample Clerk")
    resp = client.get(f"/print/sample.request/{req.name}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data[:4] == b"%PDF"
    assert client.get("/print/sample.request/NOPE-1.pdf").status_code == 404
    assert client.get("/print/no.such/x.pdf").status_code == 404
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "print")).all()
    assert len(rows) == 1 and rows[0].docname == req.name and rows[0].user == "t_sample_clerk"
    blank = client.get("/print/sample.blank/empty.pdf")
    assert blank.status_code == 200 and blank.data[:4] == b"%PDF"


def test_print_anonymous_goes_to_login(client, session):
    req = make_request(session)
    resp = client.get(f"/print/sample.request/{req.name}.pdf")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_batch_print_endpoint(client, login_as, session):
    a, b = make_request(session, title="一"), make_request(session, title="二")
    login_as("Sample Clerk")
    resp = client.post("/print/sample.request/batch", json={"names": [a.name, b.name]})
    assert resp.status_code == 202 and resp.json["state"] == "done"      # a job; eager in tests
    assert client.get(resp.json["status"]).json["pdf"] == resp.json["pdf"]
    assert client.get(resp.json["pdf"]).data[:4] == b"%PDF"
    assert client.post("/print/sample.request/batch", json={"names": "x"}).status_code == 422
    assert client.post("/print/sample.request/batch", json={"names": ["NOPE"]}).status_code == 404


def test_import_csv_and_excel_all_or_nothing(app, client, api_token, login_as, session):
    import io
    from erp_core.exports import to_xlsx
    h = api_token("Sample Clerk")
    good = "title,ward,amount\n轮椅,A,12.50\n雨伞,B,3\n".encode("utf-8-sig")
    resp = client.post(f"{API}import/", data={"file": (io.BytesIO(good), "x.csv")}, headers=h,
                       content_type="multipart/form-data")
    assert resp.status_code == 201 and len(resp.json["created"]) == 2
    bad = "title,amount\n好的,1\n坏的,abc\n".encode()
    resp = client.post(f"{API}import/", data={"file": (io.BytesIO(bad), "x.csv")}, headers=h,
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "3" in resp.json["message"]          # row 3 is named
    assert session.query(SampleRequest).count() == 2                     # nothing half-written
    unknown = client.post(f"{API}import/", data={"file": (io.BytesIO(b"colour\nred\n"), "x.csv")},
                          headers=h, content_type="multipart/form-data")
    assert unknown.status_code == 422 and "colour" in unknown.json["message"]
    exe = client.post(f"{API}import/", data={"file": (io.BytesIO(b"MZ"), "x.exe")}, headers=h,
                      content_type="multipart/form-data")
    assert exe.status_code == 422
    xlsx = to_xlsx(["title", "amount"], [["平车", "7.00"]])
    login_as("Sample Clerk")
    resp = client.post("/sample/sample_request/import/", data={"file": (io.BytesIO(xlsx), "x.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and session.query(SampleRequest).count() == 3
    fresh = app.test_client()       # the cookie of login_as would win over the bearer token
    assert fresh.post(f"{API}import/", data={"file": (io.BytesIO(good), "x.csv")},
                      headers=api_token("Auditor"), content_type="multipart/form-data").status_code == 403


def test_attachments_follow_the_documents_permissions(app, client, api_token, login_as, session):
    import io
    req = make_request(session)
    clerk, auditor = api_token("Sample Clerk"), api_token("Auditor")
    url = f"{API}{req.id}/attachments"
    pdf = (io.BytesIO(b"%PDF-1.4 scan"), "营业执照扫描件.pdf", "application/pdf")
    up = client.post(url, data={"file": pdf}, headers=clerk, content_type="multipart/form-data")
    assert up.status_code == 201
    assert client.post(url, data={"file": (io.BytesIO(b"MZ"), "x.exe", "application/x-msdownload")}, headers=clerk,
                       content_type="multipart/form-data").status_code == 422
    assert client.post(url, data={"file": (io.BytesIO(b"%PDF"), "a.pdf", "application/pdf")}, headers=auditor,
                       content_type="multipart/form-data").status_code == 403
    listed = client.get(url, headers=auditor).json["result"]
    assert [a["filename"] for a in listed] == ["营业执照扫描件.pdf"]
    got = client.get(f"{url}/{listed[0]['id']}", headers=auditor)
    assert got.data == b"%PDF-1.4 scan" and "attachment" in got.headers["Content-Disposition"]
    other = make_request(session, title="另一份")
    assert client.get(f"{API}{other.id}/attachments/{listed[0]['id']}", headers=auditor).status_code == 404
    login_as("Sample Clerk")
    page = client.get(f"/sample/sample_request/show/{req.id}").get_data(as_text=True)
    assert "营业执照扫描件.pdf" in page
    assert session.query(AuditLog).filter_by(action="attach", docname=req.name).count() == 1
