from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.testing import get_user
from modules.vendor_contracts.demo import uscc
from modules.vendor_contracts.models import Contract, PaymentRule, Vendor, VendorCertificate
from modules.workforce.models import CertificateType, Post, today

# valid 18-character resident ID numbers (check character computed)
def id_number(seq):
    body = f"11010119900101{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


@pytest.fixture
def setup(app, session):
    """A vendor with an active care contract; posts cleaner (上岗证) and care worker (上岗证 + 陪护资格证)."""
    admin = get_user(app, "Admin")
    with acting_as("setup"):
        vendor = Vendor(legal_name="北京康护人力服务有限公司", credit_code=uscc("91110105MA01ABCDE"), contact_name="王经理")
        vendor.certificates.append(VendorCertificate(kind="营业执照", number="1", valid_from=date(2020, 1, 1),
                                                     valid_until=today() + timedelta(days=400)))
        c = Contract(vendor=vendor, title="护工与保洁服务", service_category="care", monthly_fee=Decimal("90000.00"),
                     start_date=date(2026, 1, 1), end_date=date(2027, 12, 31))
        c.rules.append(PaymentRule(kind="band_percent"))
        work = CertificateType(code="SGZ", title="上岗证")
        care = CertificateType(code="PHZ", title="陪护资格证")
        cleaner = Post(code="cleaner", title="保洁员", required=[work])
        carer = Post(code="care_worker", title="护工", required=[work, care])
        session.add_all([c, cleaner, carer])
        session.commit()
        workflow.apply(c, "activate", by=admin)
        session.commit()
    return dict(vendor=vendor, contract=c, work=work, care=care, cleaner=cleaner, carer=carer)
