from decimal import Decimal

import pytest

from erp_core.context import acting_as
from modules.rentals.models import Asset, ItemType


@pytest.fixture
def wheelchair(session):
    """A wheelchair type (30 free minutes, ¥2/hour, ¥10 a day at most, ¥5 a late day) and 2 chairs."""
    with acting_as("setup"):
        kind = ItemType(title="轮椅", deposit=Decimal("300"), free_minutes=30, rate_unit="hour", rate=Decimal("2"),
                        daily_cap=Decimal("10"), late_fee_per_day=Decimal("5"), loan_hours=72)
        session.add(kind)
        session.add_all([Asset(code="LY-001", item_type=kind), Asset(code="LY-002", item_type=kind)])
        session.commit()
    return kind
