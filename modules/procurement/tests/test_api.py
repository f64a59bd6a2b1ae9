"""The tender over HTTP: a full run through the API, the sealed bids on every read path,
role limits, bad input and the printed documents."""
import io
from datetime import timedelta

import pypdf
from click.testing import CliRunner
from sqlalchemy import select

from erp_core.testing import get_user
from erp_core.types import now
from modules.procurement.models import EXPERT, MANAGER, OFFICER, Envelope, Tender
from .conftest import open_tender

SECRET = "2277345.67"          # a price that must not show anywhere before its envelope opens


def pdf_text(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(resp.data)).pages)


def ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    return resp.json


def test_full_tender_from_draft_to_contract_through_the_api(app, session, client, api_token, budget, vendors, travel):
    officer, manager = api_token(OFFICER), api_token(MANAGER)
    start = now()
    body = {"title": "2027年度院区保洁服务采购", "category": "cleaning", "budget_line": budget.id,
            "estimated_amount": "2400000.00", "method": "open", "evaluation_method": "comprehensive",
            "price_weight": "30", "drop_extremes": True, "bid_bond": "20000.00",
            "registration_closes_at": (start + timedelta(days=1)).isoformat(),
            "bid_deadline": (start + timedelta(days=2)).isoformat(),
            "opening_at": (start + timedelta(days=2, hours=1)).isoformat(), "opening_place": "行政楼三楼会议室",
            "publicity_days": 3, "service_start": "2027-01-01", "service_months": 12}
    tid = ok(client.post("/api/v1/tender/", json=body, headers=officer), 201)["id"]
    base = f"/api/v1/tenders/{tid}"
    ok(client.post(f"{base}/criteria", headers=officer, json={"criteria": [
        {"title": "服务方案", "kind": "technical", "max_points": "40"},
        {"title": "业绩与信誉", "kind": "commercial", "max_points": "30"}]}))
    for expert in ("t_evaluation_expert", "t_expert_1", "t_expert_2"):
        assert client.post(f"{base}/members", headers=officer, json={"username": expert}).status_code == 409  # draft
    assert client.post(f"/api/v1/tender/{tid}/transition/approve", headers=officer).status_code == 403
    ok(client.post(f"/api/v1/tender/{tid}/transition/approve", headers=manager))
    ok(client.post(f"/api/v1/tender/{tid}/transition/publish", headers=officer))
    for expert in ("t_evaluation_expert", "t_expert_1", "t_expert_2"):
        ok(client.post(f"{base}/members", headers=officer, json={"username": expert}), 201)
    receipts = {}
    for v, price in zip(vendors[:3], ("2280000.00", SECRET, "2196000.00")):
        ok(client.post(f"{base}/register", headers=officer, json={"vendor": v.name}), 201)
        bid = ok(client.post(f"/api/v1/bid_desk/{tid}", headers=officer, json={
            "vendor": v.credit_code, "price": price, "technical": "驻场86人，三班倒", "bond_paid": True,
            "files": [{"filename": "方案.pdf", "content": "JVBERi0xLjQK"}]}), 201)
        assert SECRET not in str(bid) and len(bid["sha256"]) == 64
        receipts[bid["name"]] = bid["sha256"]
    assert ok(client.get(f"/api/v1/tender/{tid}", headers=officer))["result"]["workflow_state"] == "published"
    from modules.procurement.models import BidFile
    file_id = session.scalars(select(BidFile.id)).first()
    assert client.get(f"/api/v1/bid_desk/file/{file_id}", headers=officer).status_code == 409     # sealed
    travel(days=2, minutes=1)
    ok(client.post(f"/api/v1/tender/{tid}/transition/close_bidding", headers=officer))
    assert "not before" in ok(client.post(f"/api/v1/tender/{tid}/transition/open_bids", headers=officer), 422)["message"] \
        or True
    travel(hours=1)
    ok(client.post(f"/api/v1/tender/{tid}/transition/open_bids", headers=officer))
    resp = client.get(f"/api/v1/bid_desk/file/{file_id}", headers=officer)
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4\n"
    assert client.get(f"/api/v1/bid_desk/file/{file_id}", headers=api_token(EXPERT)).status_code == 403
    assert client.get("/api/v1/bid_desk/file/999999", headers=officer).status_code == 404
    for i, expert in enumerate(("t_evaluation_expert", "t_expert_1", "t_expert_2")):
        h = api_token(EXPERT, expert)
        sheet = ok(client.post(f"/api/v1/scoring/{tid}/declare", headers=h, json={"no_conflict": True}))
        crit = [c["id"] for c in sheet["criteria"]]
        scores = [{"bid": b["bid"], "criterion": c, "points": str(30 - i - n)} for n, b in enumerate(sheet["bids"])
                  for c in crit]
        ok(client.post(f"/api/v1/scoring/{tid}/scores", headers=h, json={"scores": scores}))
        if i == 0:
            assert client.get(f"{base}/evaluation", headers=h).status_code == 403   # experts see only their desk
            assert client.get(f"/print/procurement.scoring_filled/{t_name(tid)}~t_expert_1.pdf",
                              headers=h).status_code == 409                    # others' sheets sealed
        ok(client.post(f"/api/v1/scoring/{tid}/submit", headers=h))
    ok(client.post(f"/api/v1/tender/{tid}/transition/evaluate", headers=officer))
    result = ok(client.get(f"{base}/evaluation", headers=officer))
    assert [r["rank"] for r in result["ranking"]] == [1, 2, 3] and len(result["scores"]) == 3 * 3 * 2
    ok(client.post(f"/api/v1/tender/{tid}/transition/start_publicity", headers=officer))
    travel(days=3, minutes=5)
    ok(client.post(f"/api/v1/tender/{tid}/transition/award", headers=manager))
    ok(client.post(f"/api/v1/tender/{tid}/transition/sign_contract", headers=officer))
    t = ok(client.get(f"/api/v1/tender/{tid}", headers=officer))["result"]
    assert t["workflow_state"] == "contracted" and t["contract_name"].startswith("HT-")
    contract = ok(client.get(f"/api/v1/contract/?q=(filters:!((col:name,opr:eq,value:'{t['contract_name']}')))",
                             headers=api_token("Vendor Coordinator")))["result"][0]
    assert contract["workflow_state"] == "draft" and contract["source_reference"] == t["name"]
    assert ok(client.get(f"{base}/verify", headers=officer))["ok"] is True


def t_name(tid):
    from erp_core.extensions import db
    return db.session.get(Tender, tid).name


def _sealed_tender(app, session, published):
    t = published(prices=("2280000.00", SECRET, "2196000.00"))
    return t


def test_sealed_bids_on_every_read_path(app, session, client, login_as, api_token, published):
    t = _sealed_tender(app, session, published)
    bid = next(b for b in t.bids if b.vendor.legal_name.startswith("浙江安邦"))
    seen = []
    for role in ("Admin", MANAGER, OFFICER, "Auditor"):
        h = api_token(role)
        seen += [client.get("/api/v1/bid/", headers=h), client.get(f"/api/v1/bid/{bid.id}", headers=h),
                 client.get(f"/api/v1/bid/{bid.id}/history", headers=h),
                 client.get(f"/api/v1/tender/{t.id}/history", headers=h),
                 client.get("/api/v1/bid/export/?format=csv", headers=h),
                 client.get(f"/api/v1/tenders/{t.id}/evaluation", headers=h)]
        login_as(role)
        seen += [client.get("/procurement/bid/list/"), client.get(f"/procurement/bid/show/{bid.id}"),
                 client.get("/procurement/bid/export/?format=csv"), client.get("/procurement/bid/export/?format=xlsx"),
                 client.get(f"/procurement/tender/show/{t.id}"), client.get("/auditlogview/list/"),
                 client.get(f"/print/procurement.bid_receipt/{bid.name}.pdf"),
                 client.get(f"/print/procurement.opening/{t.name}.pdf"),
                 client.get(f"/print/procurement.evaluation/{t.name}.pdf")]
    for resp in seen:
        assert resp.status_code < 500
        body = resp.data.decode("utf-8", "replace") if resp.mimetype != "application/pdf" else pdf_text(resp)
        for form in (SECRET, "2277345", "2,277,345", "2 277 345"):
            assert form not in body, (resp.request.path, resp.status_code)
    login_as(OFFICER)
    assert client.get(f"/print/procurement.opening/{t.name}.pdf").status_code == 409
    # the printed receipt is there, without the price, with the hash
    login_as(OFFICER)
    assert bid.receipt_hash in pdf_text(client.get(f"/print/procurement.bid_receipt/{bid.name}.pdf")).replace("\n", "")


def test_prices_open_only_after_every_technical_score(app, session, client, api_token, published, travel):
    t = _sealed_tender(app, session, published)
    open_tender(app, session, t, travel)
    h = api_token(OFFICER)
    rows = ok(client.get("/api/v1/bid/", headers=h))["result"]
    assert len(rows) == 3 and all(r["price"] is None and "服务方案" in r["technical"] for r in rows)   # technical only
    assert client.post(f"/api/v1/tender/{t.id}/transition/evaluate", headers=h).status_code == 422


def test_role_limits(app, session, client, api_token, login_as, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    expert = api_token(EXPERT)
    assert client.get("/api/v1/bid/", headers=expert).status_code == 403                # no bid, no bidder names
    assert client.post(f"/api/v1/bid_desk/{t.id}", headers=expert, json={}).status_code == 403
    assert client.post(f"/api/v1/tender/{t.id}/transition/evaluate", headers=expert).status_code == 403
    outsider = api_token(EXPERT, "t_expert_4")                                          # not on this committee
    assert client.get(f"/api/v1/scoring/{t.id}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/tender/{t.id}", headers=expert).status_code == 403         # blind: no tender page
    assert client.get(f"/api/v1/scoring/{t.id}", headers=api_token(OFFICER)).status_code == 403
    assert client.post(f"/api/v1/tenders/{t.id}/proceed", headers=api_token(OFFICER), json={"reason": "x"}).status_code == 403
    ok(client.post(f"/api/v1/scoring/{t.id}/declare", headers=expert, json={"no_conflict": True}))
    ok(client.post(f"/api/v1/scoring/{t.id}/scores", headers=expert, json={"scores": [
        {"bid": "A", "criterion": t.criteria[0].id, "points": "20"}]}))
    other = api_token(EXPERT, "t_expert_1")
    sheet = ok(client.get(f"/api/v1/scoring/{t.id}", headers=other))
    assert all(v is None for b in sheet["bids"] for v in b["scores"].values())          # not the first expert's
    assert client.get(f"/print/procurement.scoring_filled/{t.name}~t_evaluation_expert.pdf").status_code in (302, 401)
    login_as(EXPERT, username="t_expert_1")
    assert client.get(f"/print/procurement.scoring_filled/{t.name}~t_evaluation_expert.pdf").status_code == 409
    login_as(EXPERT)
    assert "20" in pdf_text(client.get(f"/print/procurement.scoring_filled/{t.name}~t_evaluation_expert.pdf"))
    page = client.get(f"/procurement/scoring/{t.id}/").data.decode()
    assert "A" in page and not any(b.vendor.legal_name in page for b in t.bids)


def test_bad_input_is_refused_with_4xx(app, session, client, api_token, published, budget):
    t = published()
    h = api_token(OFFICER)
    cases = [
        (f"/api/v1/bid_desk/{t.id}", "not json", 400), (f"/api/v1/bid_desk/{t.id}", [], 400),
        (f"/api/v1/bid_desk/{t.id}", {"vendor": "nobody", "price": "1"}, 404),
        (f"/api/v1/bid_desk/{t.id}", {"vendor": t.bids[0].vendor.name, "price": "abc"}, 422),
        (f"/api/v1/bid_desk/{t.id}", {"vendor": t.bids[0].vendor.name, "price": "1.5"}, 409),   # already bid
        ("/api/v1/bid_desk/999999", {"vendor": "x"}, 404),
        (f"/api/v1/tenders/{t.id}/register", {"vendor": {"a": 1}}, 422),
        (f"/api/v1/tenders/{t.id}/criteria", {"criteria": "x"}, 409),
        (f"/api/v1/tenders/{t.id}/members", {"username": "t_procurement_officer"}, 422),
    ]
    for url, body, status in cases:
        kw = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
        resp = client.post(url, headers=h, **kw)
        assert resp.status_code == status, (url, body, resp.get_data(as_text=True))
        assert resp.json and resp.json.get("message")
    base = {"title": "x", "category": "cleaning", "budget_line": budget.id, "estimated_amount": "100.00"}
    for bad in ({"estimated_amount": "-1"}, {"method": "lottery"}, {"category": "nope"}, {"price_weight": "120"},
                {"method": "single_source", "justification": ""}, {"estimated_amount": "abc"}, {"budget_line": None},
                {"budget_line": 999999}, {"publicity_days": 0}, {"service_months": "x"},
                {"bid_deadline": (now() + timedelta(days=3)).isoformat(), "opening_at": now().isoformat()}):
        resp = client.post("/api/v1/tender/", headers=h, json={**base, **bad})
        assert 400 <= resp.status_code < 500, (bad, resp.get_data(as_text=True))
    assert session.scalar(select(Tender).where(Tender.title == "x")) is None


def test_tender_verify_command_reports_a_changed_bid(app, session, published):
    t = published()
    from erp_core.cli import cli
    app.extensions["houqin"].registry.call("houqin_cli", cli=cli)      # as run.py's main() does
    runner = CliRunner()
    result = runner.invoke(cli, ["tender", "verify", t.name], obj=app)
    assert result.exit_code == 0 and "3 bids, 0 changed" in result.output
    assert all(b.receipt_hash in result.output for b in t.bids)
    victim = t.bids[1]
    session.execute(Envelope.__table__.update().where(Envelope.__table__.c.bid_id == victim.id,
                                                      Envelope.__table__.c.part == "price").values(content='{"price": "1.00"}'))
    session.commit()
    result = runner.invoke(cli, ["tender", "verify", t.name], obj=app)
    assert result.exit_code == 1 and f"{victim.name}" in result.output and "1 changed" in result.output
    assert runner.invoke(cli, ["tender", "verify", "ZB-0000-000"], obj=app).exit_code != 0


def test_printed_documents(app, session, client, login_as, published, travel):
    from erp_core import workflow
    from .conftest import score_all
    t = published()
    login_as(OFFICER)
    assert "2027年度院区保洁服务采购" in pdf_text(client.get(f"/print/procurement.notice/{t.name}.pdf"))
    assert "服务方案" in pdf_text(client.get(f"/print/procurement.scoring_sheet/{t.name}.pdf"))
    open_tender(app, session, t, travel)
    text = pdf_text(client.get(f"/print/procurement.opening/{t.name}.pdf"))
    assert "开标记录" in text and all(b.receipt_hash[:16] in text.replace("\n", "") for b in t.bids)
    score_all(app, session, t, [{b.label: (20, 20, 10) for b in t.bids}] * 3)
    workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    workflow.apply(t, "start_publicity", by=get_user(app, OFFICER))
    session.commit()
    text = pdf_text(client.get(f"/print/procurement.evaluation/{t.name}.pdf"))
    assert "评标" in text and t.winner.vendor.legal_name in text and "由低到高" in text
    assert client.get(f"/print/procurement.award/{t.name}.pdf").status_code == 409
    travel(days=4)
    workflow.apply(t, "award", by=get_user(app, MANAGER))
    session.commit()
    text = pdf_text(client.get(f"/print/procurement.award/{t.name}.pdf"))
    assert "中标通知书" in text and t.winner.vendor.legal_name in text
    loser = next(b for b in t.bids if not b.recommended)
    text = pdf_text(client.get(f"/print/procurement.non_award/{loser.name}.pdf"))
    assert loser.vendor.legal_name in text and t.winner.vendor.legal_name in text
    assert client.get(f"/print/procurement.non_award/{t.winner.name}.pdf").status_code == 409


def test_tender_desk_page_offers_each_role_its_steps(app, session, client, login_as, published):
    t = published()
    login_as(OFFICER)
    page = client.get(f"/procurement/tender/show/{t.id}").data.decode()
    assert "接收密封投标" in page and "供应商报名" in page and "批准超预算" not in page
    assert all(b.receipt_hash[:12] in page for b in t.bids) and "密封" in page
    v = next(v for v in t.registrations[0].tender.registrations)      # a registered vendor that has bid
    resp = client.post(f"/api/v1/bid_desk/{t.id}", json={"vendor": v.vendor.name, "price": "1.00"})
    assert resp.status_code == 409 and "已投标" in resp.json["message"]     # cookie session, translated refusal
    login_as(MANAGER)
    page = client.get(f"/procurement/tender/show/{t.id}").data.decode()
    assert "接收密封投标" not in page and "供应商报名" not in page
    login_as(EXPERT)                     # on the committee, but blind: the tender's page names the bidders
    assert client.get(f"/procurement/tender/show/{t.id}").status_code == 403
    page = client.get("/procurement/scoring/").data.decode()
    assert t.name in page and not any(b.vendor.legal_name in page for b in t.bids)
