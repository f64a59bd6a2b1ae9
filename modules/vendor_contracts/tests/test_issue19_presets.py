"""Less set-up: a contract's rules from a preset or copied from another contract, in one request."""
from datetime import date
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.testing import get_user
from modules.vendor_contracts import services
from modules.vendor_contracts.models import Contract
from modules.vendor_contracts.presets import PRESETS


@pytest.mark.parametrize("kind", sorted(PRESETS))
def test_a_preset_sets_a_contract_up_in_one_request(app, client, api_token, session, contract, kind):
    h = api_token("Vendor Coordinator")
    draft = Contract(vendor=contract.vendor, title=f"{kind} 服务", service_category=contract.service_category,
                     monthly_fee=Decimal("60000"), start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    session.add(draft)
    session.commit()
    resp = client.post(f"/api/v1/contract_rules/{draft.name}/preset", json={"preset": kind}, headers=h)
    assert resp.status_code == 200, resp.json
    session.expire_all()
    draft = session.get(Contract, draft.id)
    assert draft.template.revision == 1 and draft.template.items and draft.template.bands
    assert len(draft.rules) == len(PRESETS[kind]["rules"])
    workflow.apply(draft, "activate", by=get_user(app, "Admin"))
    session.commit()
    a = services.create_assessment(draft, 2026, 3, by=get_user(app, "Inspector"))
    item = draft.template.items[0]
    services.add_finding(a, item_code=item.code, area=(a.template_rules()["areas"] or [""])[0], count=1, by="x")
    session.commit()
    assert a.final_score is not None and Decimal(0) <= a.payable <= Decimal("60000")
    # copy the rules onto another draft contract
    other = Contract(vendor=contract.vendor, title="另一份", service_category=contract.service_category,
                     monthly_fee=Decimal("1000"), start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    session.add(other)
    session.commit()
    resp = client.post(f"/api/v1/contract_rules/{other.name}/copy", json={"from": draft.name}, headers=h)
    assert resp.status_code == 200 and resp.json["template"] == draft.template.name
    assert len(resp.json["rules"]) == len(draft.rules) and len(resp.json["escalations"]) == len(draft.escalation_rules)


def test_presets_refuse_contracts_in_force_and_unknown_kinds(app, client, api_token, session, contract):
    h = api_token("Vendor Coordinator")
    assert client.post(f"/api/v1/contract_rules/{contract.name}/preset", json={"preset": "cleaning"},
                       headers=h).status_code == 409
    assert client.post(f"/api/v1/contract_rules/{contract.name}/preset", json={"preset": "nope"},
                       headers=h).status_code in (409, 422)
    assert client.post(f"/api/v1/contract_rules/{contract.name}/preset", json={"preset": "cleaning"},
                       headers=api_token("Inspector")).status_code == 403


def test_the_template_page_lists_its_items_and_bands(app, client, login_as, session, contract):
    login_as("Vendor Coordinator")
    page = client.get(f"/vendor_contracts/assessment_template/show/{contract.template.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "template-items" in html and "医废收集" in html and "[80, 90)" in html
