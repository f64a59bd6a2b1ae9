"""Assessments: snapshot versioning, workflow and immutability, duplicates, roles, API, PDFs."""
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from erp_core import workflow
from erp_core.errors import Conflict, PermissionDenied, ValidationError
from erp_core.testing import get_user
from erp_core.types import now
from modules.vendor_contracts import services
from modules.vendor_contracts.models import Assessment, Contract, Escalation, EscalationRule, Vendor, VendorCertificate
from modules.vendor_contracts.uscc import is_valid


def open_month(app, contract, session, findings=(), month=5):
    a = services.create_assessment(contract, 2026, month, by=get_user(app, "Inspector"))
    for item, area, count in findings:
        services.add_finding(a, item_code=item, area=area, count=count, by="inspector")
    session.commit()
    return a


def approve(app, a, session):
    a.vendor_rep_name = "陈经理"
    workflow.apply(a, "submit_scores", by=get_user(app, "Inspector"))
    workflow.apply(a, "vendor_confirm", by=get_user(app, "Vendor Coordinator"))
    workflow.apply(a, "approve", by=get_user(app, "Logistics Manager"))
    session.commit()
    return a


def test_score_grade_and_payment_to_the_cent(app, session, contract):
    a = open_month(app, contract, session, [("C1", "手术室", 2), ("C1", "门诊", 3)])
    # 门诊 97, 病房 100, 手术室 94 -> 97.0 优秀 ; band deduction 0 ; retention 5 % of 186 000
    assert (a.final_score, a.grade, a.payable, a.retention, a.paid_now) == \
        (Decimal("97.00"), "优秀", Decimal("186000.00"), Decimal("9300.00"), Decimal("0.00"))
    services.add_finding(a, item_code="C6", area="病房", count=1, by="inspector")      # whole item: 20
    assert a.final_score == Decimal("90.30") and a.grade == "优秀"                    # (97 + 80 + 94) / 3 = 90.33 -> 90.3
    approve(app, a, session)
    assert a.paid_now == Decimal("176700.00") and a.docstatus == 1


def test_duplicate_month_is_refused(app, session, contract):
    open_month(app, contract, session)
    with pytest.raises(Conflict):
        services.create_assessment(contract, 2026, 5, by="x")
    session.rollback()
    session.add(Assessment(contract=contract, year=2026, month=5))
    with pytest.raises(IntegrityError):
        session.commit()                                 # the database refuses it too
    session.rollback()


def test_approved_month_is_immutable_and_template_changes_do_not_touch_it(app, session, contract):
    a = approve(app, open_month(app, contract, session, [("C1", "门诊", 4)]), session)
    before = (a.final_score, a.payable, a.template_snapshot)
    with pytest.raises(Conflict):
        services.add_finding(a, item_code="C1", area="门诊", count=1, by="x")
    a.final_score = Decimal("1")
    with pytest.raises(ValidationError):
        session.commit()
    session.rollback()
    tpl = contract.template
    revision = tpl.revision
    tpl.items[0].per_occurrence = Decimal("9")          # a stricter rule next month
    contract.rules[0].percents = "优秀:50"
    session.commit()
    assert tpl.revision > revision
    session.refresh(a)
    assert (a.final_score, a.payable, a.template_snapshot) == before
    nxt = open_month(app, contract, session, [("C1", "门诊", 1)], month=6)
    assert nxt.template_rules()["revision"] == tpl.revision and nxt.final_score == Decimal("97.00")


def test_workflow_roles(app, session, contract):
    a = open_month(app, contract, session, [("C1", "门诊", 1)])
    workflow.apply(a, "submit_scores", by=get_user(app, "Inspector"))
    with pytest.raises(ValidationError):                 # vendor representative's name first
        workflow.apply(a, "vendor_confirm", by=get_user(app, "Vendor Coordinator"))
    a.vendor_rep_name = "陈经理"
    workflow.apply(a, "vendor_confirm", by=get_user(app, "Vendor Coordinator"))
    with pytest.raises(PermissionDenied):
        workflow.apply(a, "approve", by=get_user(app, "Inspector"))
    workflow.apply(a, "approve", by=get_user(app, "Logistics Manager"))
    session.commit()
    assert a.vendor_confirmed_at is not None


def test_escalation_after_two_failing_months(app, session, contract):
    contract.escalation_rules.append(EscalationRule(fail_below=Decimal("80"), consecutive=2, action="termination_right",
                                                    clause="第十二条：连续两个月低于 80 分，甲方有权解除合同。"))
    session.commit()
    for month in (3, 4):
        approve(app, open_month(app, contract, session, [("C7", "门诊", 1)], month=month), session)   # veto: 0
    esc = session.query(Escalation).all()
    assert len(esc) == 1 and "第十二条" in esc[0].clause and esc[0].workflow_state == "open"
    with pytest.raises(PermissionDenied):
        workflow.apply(esc[0], "acknowledge", by=get_user(app, "Vendor Coordinator"))
    workflow.apply(esc[0], "acknowledge", by=get_user(app, "Logistics Manager"))


def test_settlement_and_excel(app, client, api_token, session, contract):
    approve(app, open_month(app, contract, session, [("C6", "病房", 1), ("C1", "门诊", 20)]), session)
    # 门诊 85 (capped 15), 病房 80, 手术室 100 -> 88.3 良好 -> 2 % = 3 720
    row = services.settlement(2026, 5)[0]
    assert (row["grade"], row["grade_deduction"], row["payable"], row["paid_now"]) == \
        ("良好", Decimal("3720.00"), Decimal("182280.00"), Decimal("173166.00"))
    h = api_token("Logistics Manager")
    assert client.get("/api/v1/assessments/settlement?year=2026&month=5", headers=h).json["result"][0]["payable"] \
        == "182280.00"
    xlsx = client.get("/api/v1/assessments/settlement?year=2026&month=5&format=xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/api/v1/assessments/settlement?year=x&month=5", headers=h).status_code == 422


def test_api_findings_roles_and_bad_input(app, client, api_token, session, contract):
    inspector = api_token("Inspector")
    opened = client.post("/api/v1/assessments/open", json={"contract": contract.name, "year": 2026, "month": 7},
                         headers=inspector)
    assert opened.status_code == 201
    pk = opened.json["id"]
    ok = client.post(f"/api/v1/assessments/{pk}/finding", json={"item_code": "C1", "area": "手术室", "count": 2},
                     headers=inspector)
    assert ok.status_code == 200 and Decimal(ok.json["final_score"]) == Decimal("98")
    for body in ({"item_code": "NOPE"}, {"item_code": "C1", "area": "火星"}, {"item_code": "C1", "count": -1},
                 {"item_code": "C1", "photo": "data:text/html;base64,PGI+"}):
        assert client.post(f"/api/v1/assessments/{pk}/finding", json=body, headers=inspector).status_code == 422
    assert client.post("/api/v1/assessments/open", json={"contract": contract.name, "year": 2026, "month": 7},
                       headers=inspector).status_code == 409
    # an inspector cannot edit contracts or approve
    assert client.put(f"/api/v1/contract/{contract.id}", json={"title": "x", "version": contract.version},
                      headers=inspector).status_code == 403
    assert client.post(f"/api/v1/assessment/{pk}/transition/approve", headers=inspector).status_code in (403, 409)
    assert client.post("/api/v1/assessments/open", json={}, headers=api_token("Auditor")).status_code == 403


def test_contract_rules_bad_input(app, client, api_token, session, contract):
    h = api_token("Vendor Coordinator")
    base = {"vendor": contract.vendor.id, "title": "x", "service_category": "cleaning", "monthly_fee": "100",
            "start_date": "2026-01-01", "end_date": "2027-01-01"}
    assert client.post("/api/v1/contract/", json=base, headers=h).status_code == 201
    for bad in ({"end_date": "2025-01-01"}, {"monthly_fee": "-5"}, {"service_category": "nope"}):
        resp = client.post("/api/v1/contract/", json={**base, **bad}, headers=h)
        assert resp.status_code == 422 and resp.json["message"], bad
    bad_vendor = client.post("/api/v1/vendor/", json={"legal_name": "某公司", "credit_code": "91330100MA2KX12340"},
                             headers=h)
    assert bad_vendor.status_code == 422
    formula = client.post("/api/v1/payment_rule/", json={"contract": contract.id, "kind": "formula",
                                                          "expression": "score.__class__"}, headers=h)
    assert formula.status_code == 422 and "6" in formula.json["message"]


def test_expired_mandatory_certificate_blocks_a_new_contract(app, session, contract):
    contract.vendor.certificates.append(VendorCertificate(kind="保洁资质", number="2", valid_from=date(2020, 1, 1),
                                                          valid_until=now().date() - timedelta(days=1)))
    session.commit()
    session.add(Contract(vendor=contract.vendor, title="新合同", service_category="cleaning", monthly_fee=Decimal(1),
                         start_date=date(2027, 1, 1), end_date=date(2028, 1, 1)))
    with pytest.raises(ValidationError, match="过期|expired"):
        session.commit()
    session.rollback()
    assert [c.kind for c in services.expiring_certificates(30)] == ["保洁资质"]


def test_unified_social_credit_code_checksum():
    assert is_valid("91350100M000100Y43") and not is_valid("91350100M000100Y44") and not is_valid("123")


def pdf_text(pdf):
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode().replace(" ", "")
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    return text, fonts


def test_filled_and_blank_forms_print_the_computed_totals(app, client, login_as, session, contract):
    a = approve(app, open_month(app, contract, session, [("C6", "病房", 1), ("C1", "门诊", 20)]), session)
    login_as("Logistics Manager")
    text, fonts = pdf_text(client.get(f"/print/vendor_contracts.assessment/{a.name}.pdf").data)
    assert "外包服务月度质量考核表" in text and "WenQuanYi" in fonts
    # the final score as rounded by the template (one place), not the column's two
    assert "88.3" in text and "88.30" not in text and "¥182,280.00" in text and "良好" in text and "计算方法" in text
    assert "检查人" in text and "乙方确认" in text and "管理部门意见" in text
    text, fonts = pdf_text(client.get(f"/print/vendor_contracts.blank_form/{contract.template.name}.pdf").data)
    assert "医废收集" in text and "全扣" in text and "[90,+∞)" in text and "WenQuanYi" in fonts
    text, _f = pdf_text(client.get("/print/vendor_contracts.settlement/2026-05.pdf").data)
    assert "月度结算单" in text and "¥173,166.00" in text
    from erp_core import audit       # issue 18.5: the settlement prints the anchored audit chain head
    anchors, _forged = audit.read_anchors()
    assert "审计链锚点" in text and anchors[-1]["hash"][:16] in text
    assert client.get("/print/vendor_contracts.settlement/2026-13.pdf").status_code == 404


def test_batch_print_of_a_months_forms(app, client, login_as, session, contract):
    from io import BytesIO
    from pypdf import PdfReader
    names = [open_month(app, contract, session, [("C1", "门诊", m)], month=m).name for m in (1, 2, 3)]
    login_as("Vendor Coordinator")
    resp = client.post("/print/vendor_contracts.assessment/batch", json={"names": names})
    assert resp.status_code == 202
    assert len(PdfReader(BytesIO(client.get(resp.json["pdf"]).data)).pages) >= 3


def test_correction_by_cancel_and_amend(app, session, contract):
    a = approve(app, open_month(app, contract, session, [("C1", "门诊", 2)]), session)
    workflow.apply(a, "cancel_month", by=get_user(app, "Logistics Manager"), reason="漏记一处医废问题")
    session.commit()
    from erp_core import document
    fixed = document.amend(a, by="coordinator")
    session.commit()
    assert fixed.name == f"{a.name}-1" and fixed.workflow_state == "draft" and len(fixed.findings) == 1
    services.add_finding(fixed, item_code="C6", area="病房", count=1, by="inspector")
    session.commit()
    assert fixed.final_score < a.final_score


def test_renewal_creates_the_successor_draft(app, session, contract):
    workflow.apply(contract, "renew", by=get_user(app, "Vendor Coordinator"))
    session.commit()
    new = session.query(Contract).filter(Contract.source_reference == contract.name).one()
    assert new.workflow_state == "draft" and new.start_date == date(2028, 1, 1) and new.end_date == date(2029, 12, 31)
    assert [r.kind for r in new.rules] == ["band_percent"] and new.template == contract.template


def test_year_end_retention_settles_by_the_years_result(app, session, contract):
    # as if the contract had been signed with this clause (an active contract is read-only)
    session.execute(Contract.__table__.update().where(Contract.__table__.c.id == contract.id)
                    .values(retention_rule="grade", retention_release="良好:50, 不合格:100"))
    session.commit()
    session.expire_all()
    for month, count in ((1, 12), (2, 12)):            # 门诊 88 -> (88 + 100 + 100) / 3 = 96.0 ; with C6 below
        a = open_month(app, contract, session, [("C6", "病房", 1), ("C1", "门诊", count)], month=month)
        approve(app, a, session)                         # 门诊 88, 病房 80, 手术室 100 -> 89.3 良好
    out = services.year_end_retention(contract, 2026)
    # retention 5 % of (186 000 - 2 %) = 9 114.00 a month -> 18 228.00 held; 良好 keeps half
    assert out["held"] == Decimal("18228.00") and out["band"]["name"] == "良好"
    assert out["forfeited"] == Decimal("9114.00") and out["released"] == Decimal("9114.00")
