"""Issue 17.5: the inspector takes back a wrong tap while the month is a draft; afterwards the
undo is refused (409); it needs the write permission (403) and is audited with what went."""
from erp_core import workflow
from erp_core.audit import AuditLog
from erp_core.testing import get_user
from modules.vendor_contracts import services
from modules.vendor_contracts.models import Assessment

API = "/api/v1/assessments"


def test_undo_a_finding_while_draft_only(app, client, api_token, session, contract):
    a = services.create_assessment(contract, 2026, 8, by=get_user(app, "Inspector"))
    session.commit()
    h = api_token("Inspector")
    first = client.post(f"{API}/{a.id}/finding", json={"item_code": "C1", "area": "手术室"}, headers=h)
    assert first.status_code == 200, first.json
    body = first.json
    recorded = body["items"][-1]
    assert recorded["title"] and recorded["area"] == "手术室" and body["final_score"] == "99.0"
    assert body["effects"]["手术室"]["C1"]             # how one more would move the score, in words
    # what the page refreshes from on an area switch
    assert client.get(f"{API}/{a.id}/findings", headers=h).json["items"] == body["items"]
    assert client.post(f"{API}/{a.id}/finding/undo", json={"finding": recorded["id"]},
                       headers=api_token("Logistics Manager")).status_code == 403
    undone = client.post(f"{API}/{a.id}/finding/undo", json={"finding": recorded["id"]}, headers=h)
    assert undone.status_code == 200 and undone.json["items"] == [] and undone.json["final_score"] == "100.0"
    log = session.query(AuditLog).filter_by(docname=a.name, action="remove_finding").one()
    assert "C1" in log.data and "手术室" in log.data
    assert client.post(f"{API}/{a.id}/finding/undo", json={"finding": recorded["id"]}, headers=h).status_code == 404
    again = client.post(f"{API}/{a.id}/finding", json={"item_code": "C1", "area": "手术室"}, headers=h).json
    session.expire_all()
    workflow.apply(session.get(Assessment, a.id), "submit_scores", by=get_user(app, "Inspector"))
    session.commit()
    late = client.post(f"{API}/{a.id}/finding/undo", json={"finding": again["items"][-1]["id"]}, headers=h)
    assert late.status_code == 409
    session.expire_all()
    assert len(session.get(Assessment, a.id).findings) == 1
