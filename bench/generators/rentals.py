"""20,000 loans over two years at 200 assets of 4 types: most returned, the last ones open."""
from datetime import timedelta
from decimal import Decimal

from . import bulk, document_row

VOLUME = "20,000 loans"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def generate(session, scale):
    from erp_core.types import now
    from modules.rentals.models import Asset, ItemType, Loan
    kinds = [ItemType(title=f"压测{t}", deposit=Decimal("300"), free_minutes=30, rate=Decimal("2"),
                      daily_cap=Decimal("10"), needs_disinfection=False) for t in ("轮椅", "陪护床", "拐杖", "助行器")]
    session.add_all(kinds)
    session.flush()
    assets = [Asset(code=f"BA-{i:04d}", item_type=kinds[i % 4]) for i in range(200)]
    session.add_all(assets)
    session.flush()
    n = int(20_000 * scale)
    start = now() - timedelta(days=730)
    step = timedelta(days=730) / max(n, 1)
    rows = []
    for i in range(n):
        lent = start + step * i
        returned = i < n - 150
        asset = assets[i % 200]
        rows.append(document_row(
            f"LN-B{i:06d}", lent, asset_id=asset.id, item_type_id=asset.item_type_id,
            borrower_name=f"{SURNAMES[i % 20]}{'伟芳娜敏静丽强磊军洋'[(i // 20) % 10]}", ward_bed=f"{1 + i % 24}病区{i % 40:02d}床",
            phone=f"138{i:08d}", deposit=Decimal("300"), lent_at=lent, due_at=lent + timedelta(hours=24),
            returned_at=lent + timedelta(hours=6) if returned else None,
            rental_fee=Decimal("10") if returned else Decimal("0"), status="returned" if returned else "open",
            lent_by="bench", returned_by="bench" if returned else ""))
    return {"rentals_item_type": 4, "rentals_asset": 200, "rentals_loan": bulk(session, Loan, rows)}
