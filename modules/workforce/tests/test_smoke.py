from datetime import timedelta

import pytest

from erp_core.context import acting_as
from erp_core.errors import ValidationError
from modules.workforce import api
from modules.workforce.models import Certificate, Person, today

from .conftest import id_number


def test_check_assignable_and_eligible(setup, session):
    s = setup
    with acting_as("setup"):
        p = Person(full_name="李梅", id_card=id_number(1), vendor=s["vendor"], contract=s["contract"],
                   entry_date=today())
        session.add(p)
        session.commit()
        with pytest.raises(ValidationError, match="陪护资格证|上岗证"):
            api.check_assignable(p, s["carer"], today())
        session.add(Certificate(person=p, certificate_type=s["work"], number="S1", valid_from=today() - timedelta(days=10),
                                valid_until=today() + timedelta(days=300)))
        session.add(Certificate(person=p, certificate_type=s["care"], number="P1", valid_from=today() - timedelta(days=10),
                                valid_until=today() + timedelta(days=300)))
        session.commit()
        session.refresh(p)
        api.check_assignable(p, s["carer"], today())
        p.post, p.status = s["carer"], "active"
        session.commit()
    assert p.id_card.startswith("110") and "*" in p.id_card
    assert [x.id for x in api.eligible(s["vendor"].id, "care_worker", today())] == [p.id]
    assert api.eligible(s["vendor"].id, "care_worker", today() + timedelta(days=400)) == []
    assert api.person_label(p) == "李梅（护工）"
