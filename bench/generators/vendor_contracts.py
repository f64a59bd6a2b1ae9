"""Five years of monthly assessments for 30 vendors (one contract each): 1,800 assessments."""
from datetime import date, datetime, timezone
from decimal import Decimal

from . import bulk, document_row

VOLUME = "5 years x 30 vendors of assessments"


def generate(session, scale):
    from modules.vendor_contracts.demo import uscc
    from modules.vendor_contracts.models import Assessment, Contract, Vendor
    vendors = [Vendor(legal_name=f"压测物业服务有限公司{i:02d}", credit_code=uscc(f"91330100MA2B{i:05d}"), contact_name="联系人")
               for i in range(30)]
    session.add_all(vendors)
    session.flush()
    this_year = date.today().year
    contracts = [Contract(vendor=v, title=f"压测保洁服务合同{i:02d}", service_category="cleaning",
                          start_date=date(this_year - 5, 1, 1), end_date=date(this_year + 1, 12, 31),
                          monthly_fee=Decimal("50000")) for i, v in enumerate(vendors)]
    session.add_all(contracts)
    session.flush()
    months = max(1, int(60 * scale))
    rows = []
    for c_i, c in enumerate(contracts):
        for m in range(months):
            year, month = this_year - 5 + m // 12, 1 + m % 12
            score = Decimal(80 + (c_i * 7 + m * 3) % 20)
            when = datetime(year, month, 28, 8, tzinfo=timezone.utc)
            rows.append(document_row(
                f"KH-B{c_i:02d}{m:03d}", when, docstatus=1, workflow_state="approved", contract_id=c.id, year=year,
                month=month, inspection_score=score, final_score=score, grade="良好" if score >= 90 else "合格",
                inspector_name="巡检员", payable=Decimal("50000") - (100 - score) * 100))
    return {"vendor_contracts_vendor": 30, "vendor_contracts_contract": 30,
            "vendor_contracts_assessment": bulk(session, Assessment, rows)}
