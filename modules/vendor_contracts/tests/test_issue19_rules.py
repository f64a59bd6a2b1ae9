"""Issue 19, service and API level: rule input that cannot break a month, the draft that
follows its inputs, the two rules that had no test, one revision per change."""
import json
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.errors import ValidationError
from erp_core.testing import get_user
from modules.vendor_contracts import services
from modules.vendor_contracts.models import (Assessment, Contract, Escalation, EscalationRule, GradeBand,
                                             PaymentRule, TemplateItem)

from .test_assessment import approve, open_month


def test_bad_rule_input_is_refused_at_save_naming_the_problem(app, client, api_token, session, contract):
    h = api_token("Vendor Coordinator")

    def refused(url, body, *words):
        resp = client.post(url, json=body, headers=h)
        assert resp.status_code == 422, (body, resp.status_code, resp.json)
        for w in words:
            assert w in resp.json["message"], (body, resp.json["message"])

    rule = {"contract": contract.id, "kind": "formula"}
    refused("/api/v1/payment_rule/", {**rule, "expression": "100 / 0"}, "0")
    refused("/api/v1/payment_rule/", {**rule, "expression": "min(100, 100 / abs(score - 89))"}, "89")
    refused("/api/v1/payment_rule/", {**rule, "expression": "score * 2"}, "50.01")      # pays more than 100 %
    refused("/api/v1/payment_rule/", {**rule, "expression": "score - 50"}, "-50")        # a negative share at score 0
    assert client.post("/api/v1/payment_rule/", json={**rule, "expression": "if(score >= 85, 100, 15 + score)"},
                       headers=h).status_code == 201
    refused("/api/v1/payment_rule/", {"contract": contract.id, "kind": "band_percent", "percents": "合格:-5"}, "-5")
    refused("/api/v1/payment_rule/", {"contract": contract.id, "kind": "band_percent", "percents": "合格:150"}, "150")
    tpl = contract.template
    band = {"template": tpl.id, "band_name": "x", "deduct_percent": "0"}
    refused("/api/v1/grade_band/", {**band, "lower": "95", "upper": "90"}, "x")
    refused("/api/v1/grade_band/", {**band, "lower": "50", "upper": "60"}, "50")           # overlaps 不合格
    from modules.vendor_contracts.demo import template
    session.add(template("有缺口", "cleaning", [("x", "X", "x", 10, 1, "", "deduct")],
                         bands=[("合格", 80, 100, 0, True, ""), ("不合格", 0, 70, 10, False, "")]))
    with pytest.raises(ValidationError, match="70"):                                       # 70-80 has no grade
        session.commit()
    session.rollback()
    refused("/api/v1/grade_band/", {**band, "lower": "60", "upper": "70", "deduct_percent": "150"})
    base = {"title": "t", "service_category": "cleaning", "areas": "病房, 门诊", "area_combine": "weighted"}
    refused("/api/v1/assessment_template/", {**base, "area_weights": "病房:0, 门诊:0"}, "0")
    refused("/api/v1/assessment_template/", {**base, "area_weights": "病房:-1, 门诊:2"}, "-1")
    refused("/api/v1/assessment_template/", {**base, "area_weights": "病房:abc, 门诊:1"}, "abc")
    refused("/api/v1/assessment_template/", {"title": "t", "service_category": "cleaning", "full_marks": "-5"})
    inspector = api_token("Inspector")
    resp = client.post("/api/v1/assessments/open", json={"contract": contract.name, "year": 2030, "month": 1},
                       headers=inspector)                                   # the contract ends 2027-12
    assert resp.status_code == 422 and "2027" in resp.json["message"]


def test_saving_the_satisfaction_score_recomputes_the_draft(app, client, api_token, session, contract):
    a = open_month(app, contract, session, [("C1", "门诊", 3)])             # 97, 100, 100 -> 99.0
    rules = a.template_rules()
    rules.update(inspection_weight="0.8", satisfaction_weight="0.2")
    a.template_snapshot = json.dumps(rules, ensure_ascii=False)
    session.commit()
    h = api_token("Inspector")
    resp = client.put(f"/api/v1/assessment/{a.id}", json={"satisfaction_score": "80", "version": a.version}, headers=h)
    assert resp.status_code == 200, resp.json
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert a.final_score == Decimal("95.20")                              # 99 x 0.8 + 80 x 0.2, before approval


def test_a_month_is_computed_from_its_frozen_template_copy(app, session, contract):
    a = open_month(app, contract, session, [("C1", "门诊", 1)])
    contract.template.items[0].per_occurrence = Decimal("10")           # the live template gets stricter
    session.commit()
    services.add_finding(a, item_code="C1", area="门诊", count=1, by="inspector")
    session.commit()
    assert a.final_score == Decimal("99.30")                             # 门诊 98 -> (98 + 100 + 100) / 3 = 99.33


def test_year_end_retention_reads_the_terms_frozen_in_the_months(app, session, contract):
    for month in (1, 2):
        approve(app, open_month(app, contract, session, [("C1", "门诊", 3)], month=month), session)   # 99.0 优秀
    # today's contract would keep everything; the months were assessed under "released in full"
    session.execute(Contract.__table__.update().where(Contract.__table__.c.id == contract.id)
                    .values(retention_rule="average", retention_mark=Decimal("100")))
    session.commit()
    session.expire_all()
    out = services.year_end_retention(contract, 2026)
    assert out["held"] == Decimal("18600.00") and out["released"] == Decimal("18600.00")   # 2 x 5 % of 186 000


def test_the_year_end_retention_prints_its_calculation(app, client, login_as, session, contract):
    session.execute(Contract.__table__.update().where(Contract.__table__.c.id == contract.id)
                    .values(retention_rule="average", retention_mark=Decimal("90")))
    session.commit()
    session.expire_all()
    for month, count in ((1, 3), (2, 60)):             # 99.0 and (85 + 100 + 100) / 3 = 95.0 -> average 97.0
        approve(app, open_month(app, contract, session, [("C1", "门诊", count)], month=month), session)
    login_as("Logistics Manager")
    from .test_assessment import pdf_text
    text, _f = pdf_text(client.get(f"/print/vendor_contracts.retention/{contract.name}_2026.pdf").data)
    assert "97.0" in text and "¥18,600.00" in text and "返还" in text


def test_consecutive_months_are_calendar_months_a_draft_month_breaks_the_run(app, session, contract):
    contract.escalation_rules.append(EscalationRule(fail_below=Decimal("80"), consecutive=2, action="termination_right",
                                                    clause="第十二条：连续两个月低于 80 分，甲方有权解除合同。"))
    session.commit()
    approve(app, open_month(app, contract, session, [("C7", "门诊", 1)], month=3), session)        # veto: 0
    open_month(app, contract, session, [("C7", "门诊", 1)], month=4)                                # still a draft
    approve(app, open_month(app, contract, session, [("C7", "门诊", 1)], month=5), session)
    assert session.query(Escalation).count() == 0


def test_escalation_deductions_are_in_the_payable_and_named(app, client, login_as, session, contract):
    contract.escalation_rules.append(EscalationRule(
        fail_below=Decimal("80"), consecutive=1, action="extra_deduction", extra_deduction=Decimal("3000"),
        clause="第十条：任一月低于 80 分，当月扣款 3000 元"))
    session.commit()
    a = approve(app, open_month(app, contract, session, [("C7", "门诊", 1)]), session)       # veto 0: 不合格 10 %
    # 186 000 - 18 600 - 3 000 = 164 400
    assert (a.payable, a.extra_deductions) == (Decimal("164400.00"), Decimal("3000.00"))
    row = services.settlement(2026, 5)[0]
    assert row["payable"] == Decimal("164400.00") and row["grade_deduction"] == Decimal("18600.00")
    assert row["clauses"][0][0].startswith("第十条")
    login_as("Logistics Manager")
    from .test_assessment import pdf_text
    text, _f = pdf_text(client.get(f"/print/vendor_contracts.assessment/{a.name}.pdf").data)
    assert "第十条" in text and "3,000.00" in text and "164,400.00" in text
    text, _f = pdf_text(client.get("/print/vendor_contracts.settlement/2026-05.pdf").data)
    assert "第十条" in text and "¥3,000.00" in text and "¥164,400.00" in text
    api = client.get("/api/v1/assessments/settlement?year=2026&month=5").json["result"][0]
    assert api["clauses"] == [{"clause": "第十条：任一月低于 80 分，当月扣款 3000 元", "amount": "3000.00"}]


def test_a_broken_month_is_cancelled_and_reopened_by_a_manager(app, client, api_token, session, contract):
    a = open_month(app, contract, session, [("C1", "门诊", 1)])
    rules = a.contract_rules()
    rules["rules"] = [{"kind": "formula", "expression": "100 / (score - 88.3)"}]   # as stored before validation
    a.contract_snapshot = json.dumps(rules)
    session.commit()
    inspector = api_token("Inspector")
    resp = client.post(f"/api/v1/assessments/{a.id}/finding", json={"item_code": "C1", "area": "门诊", "count": 30},
                       headers=inspector)                                    # 门诊 85 -> 95.0: 100 / 6.7
    assert resp.status_code == 200
    resp = client.post(f"/api/v1/assessments/{a.id}/finding", json={"item_code": "C6", "area": "病房", "count": 1},
                       headers=inspector)                                    # 88.3: division by zero
    assert resp.status_code == 422 and "88.3" not in resp.json["message"] and "作废" in resp.json["message"]
    session.rollback()
    with pytest.raises(Exception):
        workflow.apply(a, "cancel_open", by=get_user(app, "Inspector"), reason="规则错误")
    session.rollback()
    workflow.apply(a, "cancel_open", by=get_user(app, "Logistics Manager"), reason="付款公式错误")
    session.commit()
    new = services.reopen(a, by=get_user(app, "Logistics Manager"))
    session.commit()
    assert new.workflow_state == "draft" and new.amended_from == a.name and len(new.findings) == 2
    assert new.final_score == Decimal("95.00") and new.payable == Decimal("186000.00")   # today's band_percent rule


def test_one_revision_per_saved_change(app, session, contract):
    tpl = contract.template
    assert tpl.revision == 1                                   # created with its items and bands: r1
    tpl.items.append(TemplateItem(sort=9, section="公共", code="C9", title="电梯", max_points=Decimal(5)))
    tpl.items.append(TemplateItem(sort=10, section="公共", code="C10", title="走廊", max_points=Decimal(5)))
    tpl.bands[0].action = "表扬"
    session.commit()
    assert tpl.revision == 2



def test_reopen_through_the_api_is_for_the_manager(app, client, api_token, session, contract):
    a = open_month(app, contract, session, [("C1", "门诊", 1)])
    workflow.apply(a, "cancel_open", by=get_user(app, "Logistics Manager"), reason="规则录错")
    session.commit()
    assert client.post(f"/api/v1/assessments/{a.id}/reopen", headers=api_token("Inspector")).status_code == 403
    resp = client.post(f"/api/v1/assessments/{a.id}/reopen", headers=api_token("Logistics Manager"))
    assert resp.status_code == 201 and resp.json["state"] == "draft" and resp.json["name"] == f"{a.name}-1"


def test_two_deduction_clauses_on_the_same_months_need_the_contract_to_say_so(app, session, contract):
    contract.escalation_rules.append(EscalationRule(fail_below=Decimal("80"), consecutive=1, action="extra_deduction",
                                                    extra_deduction=Decimal("3000"), clause="A：低于 80 分扣 3000"))
    session.commit()
    contract.escalation_rules.append(EscalationRule(fail_below=Decimal("90"), cumulative=2, action="extra_deduction",
                                                    extra_deduction=Decimal("1000"), clause="B：低于 90 分两次扣 1000"))
    with pytest.raises(ValidationError, match="A："):
        session.commit()
    session.rollback()
    contract.escalation_rules.append(EscalationRule(lower=Decimal("80"), fail_below=Decimal("90"), cumulative=2,
                                                    action="extra_deduction", extra_deduction=Decimal("1000"),
                                                    clause="B：80-90 分两次扣 1000"))
    session.commit()                                            # bands that do not overlap are fine


def test_a_finding_of_one_kind_through_the_api(app, client, api_token, session, contract):
    a = open_month(app, contract, session)
    rules = a.template_rules()
    rules["items"][0]["kinds"] = {"积灰": "2", "污渍": "5"}                      # C1, 15 points
    a.template_snapshot = json.dumps(rules, ensure_ascii=False)
    session.commit()
    h = api_token("Inspector")
    url = f"/api/v1/assessments/{a.id}/finding"
    assert client.post(url, json={"item_code": "C1", "kind": "积灰", "area": "门诊", "count": 2}, headers=h).status_code == 200
    ok = client.post(url, json={"item_code": "C1", "kind": "污渍", "area": "门诊", "count": 3}, headers=h)
    # 4 + 15 = 19, capped at 15: 门诊 85 -> (85 + 100 + 100) / 3 = 95.0
    assert ok.status_code == 200 and ok.json["final_score"] == "95.0"
    bad = client.post(url, json={"item_code": "C1", "kind": "火灾", "area": "门诊"}, headers=h)
    assert bad.status_code == 422 and "火灾" in bad.json["message"]
