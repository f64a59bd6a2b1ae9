"""End to end with vendor_contracts (branch i21ev): a template item taking
``workforce.violation`` gets the month's violations pre-filled when the month is opened."""
from datetime import date

from erp_core.context import acting_as
from erp_core.testing import get_user
from modules.vendor_contracts import services as vc
from modules.vendor_contracts.models import TemplateItem
from modules.vendor_contracts.tests.conftest import contract  # noqa: F401 - the fixture
from modules.workforce.models import ACTIVE, Certificate, CertificateType, Person, Post, Violation

from .conftest import id_number


def test_violations_prefill_the_assessment(app, session, contract):  # noqa: F811
    item = contract.template.items[0]
    item.evidence = "workforce.violation"
    with acting_as("setup"):
        work = CertificateType(code="SGZ", title="上岗证")
        post = Post(code="cleaner", title="保洁员", required=[work])
        p = Person(full_name="郑洁", id_card=id_number(91), vendor=contract.vendor, contract=contract,
                   entry_date=date(2026, 1, 1))
        p.certificates.append(Certificate(certificate_type=work, number="S", valid_from=date(2025, 1, 1),
                                          valid_until=date(2099, 1, 1)))
        session.add_all([post, p])
        session.flush()
        p.post, p.status = post, ACTIVE
        session.flush()
        for day in (3, 17):
            session.add(Violation(person=p, occurred_on=date(2026, 5, day), rule="拖布未分区", severity="minor"))
        session.add(Violation(person=p, occurred_on=date(2026, 4, 30), rule="迟到", severity="minor"))
        session.commit()
    names = sorted(v.name for v in session.query(Violation).filter(Violation.occurred_on >= date(2026, 5, 1)))
    assert {k for k in dict(__import__("modules.vendor_contracts.evidence", fromlist=["x"]).evidence_keys())} >= {
        "workforce.understaffed", "workforce.turnover", "workforce.violation"}
    a = vc.create_assessment(contract, 2026, 5, by=get_user(app, "Inspector"))
    session.commit()
    found = [f for f in a.findings if f.evidence == "workforce.violation"]
    assert len(found) == 1 and found[0].item_code == item.code and found[0].count == 2
    assert found[0].refs == "、".join(names)
    assert isinstance(session.get(TemplateItem, item.id).evidence, str)
