from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.testing import get_user
from erp_core.types import now
from modules.vendor_contracts.demo import template, uscc
from modules.vendor_contracts.models import Contract, PaymentRule, Vendor, VendorCertificate


@pytest.fixture
def contract(app, session):
    """An active cleaning contract (¥186,000 a month, grade bands 0/2/5/10 %) with its template."""
    admin = get_user(app, "Admin")
    with acting_as("setup"):
        vendor = Vendor(legal_name="杭州洁康物业服务有限公司", credit_code=uscc("91330100MA2KX1234"), contact_name="陈经理")
        vendor.certificates.append(VendorCertificate(kind="营业执照", number="1", valid_from=date(2020, 1, 1),
                                                     valid_until=now().date() + timedelta(days=400)))
        tpl = template("保洁服务月度考核表", "cleaning", [
            ("诊室", "C1", "地面清洁", 15, 1, "手术室:3", "deduct"), ("感控", "C6", "医废收集", 20, 5, "", "zero"),
            ("感控", "C7", "院感暴发", 20, 20, "", "veto")], areas="门诊, 病房, 手术室")
        c = Contract(vendor=vendor, title="保洁服务", service_category="cleaning", monthly_fee=Decimal("186000.00"),
                     start_date=date(2026, 1, 1), end_date=date(2027, 12, 31), template=tpl,
                     retention_percent=Decimal("5"))
        c.rules.append(PaymentRule(kind="band_percent"))
        session.add(c)
        session.commit()
        workflow.apply(c, "activate", by=admin)
        session.commit()
    return c
