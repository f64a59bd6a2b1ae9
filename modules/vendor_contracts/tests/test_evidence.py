"""Other modules' evidence reaches the monthly assessment (issue 21.6, issue 22): pre-filled
findings on open and on refresh, adjusted only with a reason, the month working without
(or despite) the modules that report."""
import logging
from decimal import Decimal

import pytest

from erp_core.audit import AuditLog
from erp_core.display import choices_of
from erp_core.hookspecs import hookimpl
from erp_core.testing import get_user
from modules.vendor_contracts import services
from modules.vendor_contracts.models import Assessment, Finding, TemplateItem

from .test_assessment import approve, pdf_text

KEY = "fake_desk.sla_breach"


class FakeDesk:
    """A module reporting SLA breaches of the month (what service_desk will implement)."""

    def __init__(self):
        self.rows = [{"evidence": KEY, "count": 3, "note": "3 张工单超时", "refs": ["GD-1", "GD-2", "GD-3"]}]

    @hookimpl
    def houqin_assessment_evidence_keys(self):
        return [(KEY, "服务台：SLA 超时")]

    @hookimpl
    def houqin_assessment_evidence(self, contract, year, month):
        return self.rows


class Broken:
    @hookimpl
    def houqin_assessment_evidence_keys(self):
        raise RuntimeError("keys broken")

    @hookimpl
    def houqin_assessment_evidence(self, contract, year, month):
        raise RuntimeError("evidence broken")


@pytest.fixture
def plugins(app):
    pm = app.extensions["houqin"].registry.pm
    added = []

    def add(plugin, name):
        pm.register(plugin, name=name)
        added.append(name)
        return plugin
    yield add
    for name in added:
        pm.unregister(name=name)


@pytest.fixture
def desk(plugins, session, contract):
    """The fake desk enabled and the template's 地面清洁 item (C1) taking its SLA breaches."""
    fake = plugins(FakeDesk(), "fake_desk")
    contract.template.items[0].evidence = KEY
    session.commit()
    return fake


def prefilled(a):
    return sorted([(f.item_code, f.count, f.refs, f.prefilled_count, f.adjust_reason) for f in a.findings
                   if f.evidence == KEY])


def test_open_prefills_the_matching_item(app, session, contract, desk):
    a = services.create_assessment(contract, 2026, 5, by=get_user(app, "Inspector"))
    session.commit()
    assert a.template_rules()["items"][0]["evidence"] == KEY          # frozen with the template
    assert prefilled(a) == [("C1", 3, "GD-1、GD-2、GD-3", 3, None)]
    f = a.findings[0]
    assert f.note == "3 张工单超时" and f.area == "门诊" and f.source == "服务台：SLA 超时（预填）"
    assert a.final_score == Decimal("99.00")                           # 门诊 97, 病房 100, 手术室 100


def test_refresh_keeps_adjusted_and_adjusting_needs_a_reason(app, client, api_token, session, contract, desk):
    desk.rows.append({"evidence": KEY, "count": 1, "note": "投诉", "refs": ["GD-7"]})
    h = api_token("Inspector")
    pk = client.post("/api/v1/assessments/open", json={"contract": contract.name, "year": 2026, "month": 6},
                     headers=h).json["id"]
    a = session.get(Assessment, pk)
    three = next(f for f in a.findings if f.count == 3)
    url = f"/api/v1/assessments/{pk}/adjust"
    # no reason: refused in words, nothing changed
    for body in ({"finding": three.id, "count": 1}, {"finding": three.id, "count": 1, "reason": "  "}):
        resp = client.post(url, json=body, headers=h)
        assert resp.status_code == 422 and "原因" in resp.json["message"]
    # a role without write on the assessment is refused
    assert client.post(url, json={"finding": three.id, "count": 1, "reason": "x"},
                       headers=api_token("Logistics Manager")).status_code == 403
    assert client.post(f"/api/v1/assessments/{pk}/refresh_evidence", json={},
                       headers=api_token("Auditor")).status_code == 403
    ok = client.post(url, json={"finding": three.id, "count": 1, "reason": "两张为院方停电所致"}, headers=h)
    assert ok.status_code == 200, ok.json
    session.expire_all()
    log = session.query(AuditLog).filter_by(docname=a.name, action="action").order_by(AuditLog.id.desc()).first()
    assert log.payload()["name"] == "adjust" and log.payload()["inputs"]["reason"] == "两张为院方停电所致"
    # the desk now reports more: the adjusted finding stands, the other is replaced
    desk.rows[:] = [{"evidence": KEY, "count": 5, "note": "5 张工单超时", "refs": ["GD-1", "GD-2", "GD-3", "GD-4", "GD-5"]},
                    {"evidence": KEY, "count": 2, "note": "投诉", "refs": ["GD-7", "GD-8"]}]
    assert client.post(f"/api/v1/assessments/{pk}/refresh_evidence", json={}, headers=h).status_code == 200
    session.expire_all()
    a = session.get(Assessment, pk)
    assert prefilled(a) == [("C1", 1, "GD-1、GD-2、GD-3", 3, "两张为院方停电所致"), ("C1", 2, "GD-7、GD-8", 2, None)]
    assert a.final_score == Decimal("99.00")                           # 门诊 100 − 1 − 2 = 97
    adjusted = next(f for f in a.findings if f.adjust_reason)
    assert adjusted.source == "服务台：SLA 超时（预填）；已调整 3 → 1：两张为院方停电所致"


def test_page_and_pdf_show_source_and_adjustment(app, client, login_as, session, contract, desk):
    a = services.create_assessment(contract, 2026, 7, by=get_user(app, "Inspector"))
    services.adjust_finding(a, finding=a.findings[0].id, count=2, reason="一张重复", by=get_user(app, "Inspector"))
    session.commit()
    login_as("Inspector")
    page = client.get(f"/vendor_contracts/assessment/show/{a.id}").get_data(as_text=True)
    assert "服务台：SLA 超时（预填）；已调整 3 → 2：一张重复" in page and "GD-1、GD-2、GD-3" in page
    assert "刷新外部依据" in page and "调整预填发现" in page
    text, _fonts = pdf_text(client.get(f"/print/vendor_contracts.assessment/{a.name}.pdf").data)
    flat = text.replace("\n", "")                       # the reasons cell wraps between other columns
    assert all(x in flat for x in ("服务台：SLA超时", "（预填）；已调整3→2", "GD-1、GD-2、GD-3")), flat


def test_only_prefilled_findings_are_adjusted_and_bad_input(app, session, contract, desk):
    from erp_core.errors import NotFound, ValidationError
    a = services.create_assessment(contract, 2026, 8, by=get_user(app, "Inspector"))
    services.add_finding(a, item_code="C1", area="病房", count=1, by="inspector")
    hand = next(f for f in a.findings if not f.evidence)
    with pytest.raises(ValidationError):
        services.adjust_finding(a, finding=hand.id, count=0, reason="x", by="inspector")
    with pytest.raises(NotFound):
        services.adjust_finding(a, finding=10 ** 8, count=0, reason="x", by="inspector")
    session.rollback()


def test_approved_month_refuses_refresh_and_adjust(app, client, api_token, session, contract, desk):
    a = services.create_assessment(contract, 2026, 9, by=get_user(app, "Inspector"))
    session.commit()
    fid = a.findings[0].id
    approve(app, a, session)
    h = api_token("Inspector")
    assert client.post(f"/api/v1/assessments/{a.id}/refresh_evidence", json={}, headers=h).status_code == 409
    assert client.post(f"/api/v1/assessments/{a.id}/adjust", json={"finding": fid, "count": 0, "reason": "x"},
                       headers=h).status_code == 409
    session.expire_all()
    assert session.get(Finding, fid).count == 3


def test_unknown_evidence_key_is_refused_naming_the_field(app, client, api_token, session, contract, desk):
    item = contract.template.items[1]
    h = api_token("Vendor Coordinator")
    resp = client.put(f"/api/v1/template_item/{item.id}", json={"evidence": "nobody.nothing", "version": item.version},
                      headers=h)
    assert resp.status_code == 422 and "evidence" in resp.json["fields"] and "nobody.nothing" in resp.json["message"]
    ok = client.put(f"/api/v1/template_item/{item.id}", json={"evidence": KEY, "version": item.version}, headers=h)
    assert ok.status_code == 200, ok.json
    assert dict(choices_of(TemplateItem, "evidence"))[KEY] == "服务台：SLA 超时"      # beside the installed modules' keys


def test_month_opens_without_the_module_and_despite_a_broken_one(app, client, api_token, session, contract, plugins,
                                                                 desk, caplog):
    pm = app.extensions["houqin"].registry.pm
    pm.unregister(name="fake_desk")                      # the desk disabled: its key is not offered
    try:
        assert KEY not in choices_of(TemplateItem, "evidence")
        a = services.create_assessment(contract, 2026, 10, by=get_user(app, "Inspector"))
        assert prefilled(a) == [] and a.final_score == Decimal("100.00")
        session.commit()
    finally:
        pm.register(desk, name="fake_desk")
    plugins(Broken(), "broken")                          # a module whose hooks raise: logged, not a 500
    with caplog.at_level(logging.ERROR, logger="modules.vendor_contracts.evidence"):
        assert KEY in choices_of(TemplateItem, "evidence")
        resp = client.post("/api/v1/assessments/open", json={"contract": contract.name, "year": 2026, "month": 11},
                           headers=api_token("Inspector"))
    assert resp.status_code == 201, resp.json
    session.expire_all()
    a = session.get(Assessment, resp.json["id"])
    assert prefilled(a) == [("C1", 3, "GD-1、GD-2、GD-3", 3, None)]         # the working module still counts
    assert "evidence broken" in caplog.text and "broken" in caplog.text
