"""20 parallel writers on PostgreSQL: one success (or as many as stock allows) and 409s, never
a 500 (issue 18.2). SQLite serialises writers, so these run on PostgreSQL only."""
from collections import Counter

import pytest
from sqlalchemy import func, select

from erp_core.testing import is_postgres, parallel
from modules.convenience.models import SaleItem, StockMove, Storage

N = 20


@pytest.fixture(autouse=True)
def _postgres_only(app):
    if not is_postgres(app):
        pytest.skip("race tests need PostgreSQL (SQLite serialises writers)")


def test_selling_and_receiving_one_item_in_parallel(app, shelf, api_token, session):
    clerk, supervisor = api_token("Front Desk"), api_token("Front Desk Supervisor")
    tape_id = shelf["tape"].id

    def hit(i):
        c = app.test_client()
        if i % 2:
            return c.post("/api/v1/convenience_sales/sell", headers=clerk,
                          json={"lines": [{"code": "JD-01", "qty": 1}, {"code": "ZB-01", "qty": 1}]}).status_code
        return c.post("/api/v1/convenience_stock/receive", headers=supervisor,
                      json={"code": "JD-01", "qty": 1}).status_code
    codes = Counter(parallel(N, hit))
    assert set(codes) <= {200, 201, 409}, codes
    session.expire_all()
    stock = session.get(SaleItem, tape_id).stock
    moves = session.scalar(select(func.sum(StockMove.qty)).where(StockMove.item_id == tape_id))
    assert stock == moves >= 0, (stock, moves)


def test_twenty_check_ins_get_twenty_different_tags(app, api_token, session):
    clerk = api_token("Front Desk")

    def hit(i):
        return app.test_client().post("/api/v1/convenience_storage/store", headers=clerk, json={
            "owner_name": f"病人{i}", "phone": "13800001234", "description": "行李箱"}).status_code
    codes = Counter(parallel(N, hit))
    assert codes == {201: N}, codes
    tags = session.scalars(select(Storage.tag)).all()
    assert len(set(tags)) == N


def test_same_hand_typed_tag_in_parallel_is_one_success_and_409s(app, api_token, session):
    clerk = api_token("Front Desk")

    def hit(i):
        return app.test_client().post("/api/v1/convenience_storage/store", headers=clerk, json={
            "owner_name": f"病人{i}", "phone": "13800001234", "description": "行李箱", "tag": "X1"}).status_code
    codes = Counter(parallel(N, hit))
    assert codes == {201: 1, 409: N - 1}, codes
