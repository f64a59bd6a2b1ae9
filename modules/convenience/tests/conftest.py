from decimal import Decimal

import pytest

from erp_core.context import acting_as
from modules.convenience import services
from modules.convenience.models import SaleItem


@pytest.fixture
def shelf(session):
    with acting_as("setup"):
        tape = SaleItem(code="JD-01", title="透明胶带", unit="卷", price=Decimal("3.50"), low_stock_level=2)
        cups = SaleItem(code="ZB-01", title="纸杯", unit="包", price=Decimal("5.00"), low_stock_level=5)
        session.add_all([tape, cups])
        session.flush()
        services.receive_stock(tape, 3, by="setup")
        services.receive_stock(cups, 10, by="setup")
        session.commit()
    return {"tape": tape, "cups": cups}
