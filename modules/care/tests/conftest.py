from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.testing import ensure_user, get_user
from erp_core.types import now
from modules.care.models import DESK, NURSE, CareLevel, CareRule
from modules.catering.models import Ward
from modules.vendor_contracts.demo import uscc
from modules.vendor_contracts.models import Contract, PaymentRule, Vendor
from modules.workforce.models import ACTIVE, Certificate, CertificateType, Person, Post


def id_number(seq):
    body = f"11010119800101{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


@pytest.fixture(autouse=True)
def _users(app):
    ensure_user(app, NURSE)
    ensure_user(app, NURSE, "t_nurse_b")


@pytest.fixture
def care(app, session):
    """Ward A (t_ward_nurse) and B (t_nurse_b); a care vendor with an active contract; the care
    worker post needing 上岗证 + 陪护资格证; workers 张 and 李 fully certified, 王 without 陪护资格证,
    赵 with an expired one; levels L1 (1:1, ¥200.00), L2 (1:1, ¥150.50), L3 (1:many, ¥99.99), LX unpublished."""
    admin = get_user(app, "Admin")
    nurse_a, nurse_b = get_user(app, NURSE), app.appbuilder.sm.find_user(username="t_nurse_b")
    today = now().date()
    with acting_as("setup"):
        a = Ward(code="A", title="心内科一病区", nurses=[nurse_a])
        b = Ward(code="B", title="骨科二病区", nurses=[nurse_b])
        vendor = Vendor(legal_name="滨江康护服务有限公司", credit_code=uscc("91330100MA2CARE01"), contact_name="周经理")
        contract = Contract(vendor=vendor, title="护工服务", service_category="care", monthly_fee=Decimal("50000.00"),
                            start_date=today - timedelta(days=400), end_date=today + timedelta(days=400))
        contract.rules.append(PaymentRule(kind="band_percent"))
        work, cert = CertificateType(code="SGZ", title="上岗证"), CertificateType(code="PHZ", title="陪护资格证")
        post = Post(code="care_worker", title="护工", required=[work, cert])
        session.add_all([a, b, contract, post])
        session.flush()
        people = {}
        for i, (name, certs) in enumerate([("张红", "ok"), ("李梅", "ok"), ("王芳", "missing"), ("赵丽", "expired")]):
            p = Person(full_name=name, id_card=id_number(i + 1), vendor=vendor, contract=contract, post=post,
                       entry_date=today - timedelta(days=300), status=ACTIVE)
            p.certificates.append(Certificate(certificate_type=work, number=f"SG{i}", valid_from=date(2020, 1, 1),
                                              valid_until=today + timedelta(days=500)))
            p.certificates.append(Certificate(certificate_type=cert, number=f"PH{i}", valid_from=date(2020, 1, 1),
                                              valid_until=today + timedelta(days=500)))
            people[name] = p
        session.add_all(people.values())
        session.flush()
        # put on duty fully certified; since then 王芳's 陪护资格证 was withdrawn, 赵丽's expired
        session.delete(people["王芳"].certificates[-1])
        people["赵丽"].certificates[-1].valid_until = today - timedelta(days=3)
        levels = {"L1": CareLevel(code="L1", title="一级陪护", ratio="one_to_one", shift="24h",
                                  daily_price=Decimal("200.00"), duties="协助翻身\n协助进食", published=True, sort=1),
                  "L2": CareLevel(code="L2", title="二级陪护", ratio="one_to_one", shift="day",
                                  daily_price=Decimal("150.50"), duties="协助如厕", published=True, sort=2),
                  "L3": CareLevel(code="L3", title="三级陪护", ratio="one_to_many", shift="24h",
                                  daily_price=Decimal("99.99"), duties="同室照护", published=True, sort=3),
                  "LX": CareLevel(code="LX", title="内部试行等级", ratio="one_to_one", shift="night",
                                  daily_price=Decimal("888.00"), duties="未公布", published=False, sort=4)}
        session.add_all(levels.values())
        session.add_all([CareRule(sort=1, text="不准从事护理技术操作"), CareRule(sort=2, text="不准收受患者财物")])
        session.commit()
        workflow.apply(contract, "activate", by=admin)
        session.commit()
    return dict(A=a, B=b, vendor=vendor, contract=contract, post=post, people=people, levels=levels)


def order_data(care, worker="张红", level="L1", ward="A", start=None, days=5, **kw):
    start = start or now()
    return dict(ward=str(care[ward].id), bed=kw.pop("bed", "12"), patient_name=kw.pop("patient_name", "王建国"),
                level=str(care["levels"][level].id), worker=str(care["people"][worker].id), start_at=start,
                planned_end=start + timedelta(days=days), family_name="王丽", family_phone="13800000000",
                deposit=kw.pop("deposit", Decimal("500.00")), **kw)


def desk(app):
    return get_user(app, DESK)


PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//8/AAX+Av6n1qTyAAAAAElFTkSuQmCC")
