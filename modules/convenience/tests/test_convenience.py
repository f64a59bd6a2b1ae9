"""Stock never negative (also in parallel), sales and refunds, storage pick-up, bookings."""
import subprocess
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from erp_core.errors import Conflict, ValidationError
from erp_core.testing import is_postgres
from erp_core.types import now
from modules.convenience import services
from modules.convenience.models import Booking, BookingType, SaleItem, StockMove


def test_sale_totals_to_the_cent_and_refund_restocks(session, shelf):
    sale = services.sell([(shelf["tape"], 2), (shelf["cups"], 3)], payment_method="wechat", by="clerk")
    session.commit()
    assert sale.total == Decimal("22.00") and shelf["tape"].stock == 1 and shelf["cups"].stock == 7
    services.refund(sale, reason="买错了", by="supervisor")
    session.commit()
    assert shelf["tape"].stock == 3 and shelf["cups"].stock == 10 and sale.status == "refunded"
    with pytest.raises(Conflict):
        services.refund(sale, reason="again", by="supervisor")
    kinds = [m.kind for m in session.query(StockMove).filter_by(item_id=shelf["tape"].id).order_by(StockMove.id)]
    assert kinds == ["receipt", "sale", "refund"]


def test_stock_never_goes_negative(session, shelf):
    with pytest.raises(Conflict, match="3"):
        services.sell([(shelf["cups"], 1), (shelf["tape"], 4)], by="clerk")
    session.rollback()
    session.expire_all()
    assert session.get(SaleItem, shelf["cups"].id).stock == 10          # nothing half-sold
    with pytest.raises(Conflict):
        services.adjust_stock(shelf["tape"], -4, reason="盘亏", by="supervisor")
    session.rollback()
    with pytest.raises(ValidationError):
        services.adjust_stock(shelf["tape"], -1, reason=" ", by="supervisor")
    for bad in (0, -1, "x", None):
        with pytest.raises(ValidationError):
            services.sell([(shelf["tape"], bad)], by="clerk")
        session.rollback()


def test_parallel_sales_never_oversell(app, session, shelf):
    if not is_postgres(app):
        pytest.skip("needs PostgreSQL for real parallel writers")
    from erp_core.extensions import db
    results, barrier = [], threading.Barrier(8)

    def clerk(i):
        with app.app_context():
            try:
                barrier.wait()
                services.sell([(services.find_item("JD-01"), 1)], by=f"c{i}")
                db.session.commit()
                results.append("sold")
            except Conflict:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()
    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    session.expire_all()
    assert results.count("sold") == 3 and session.get(SaleItem, shelf["tape"].id).stock == 0


def test_low_stock_list(session, shelf):
    services.sell([(shelf["tape"], 1)], by="clerk")
    session.commit()
    assert [i.code for i in services.low_stock()] == ["JD-01"]


def test_storage_pick_up_needs_tag_and_phone_digits(session):
    s = services.store(owner_name="赵桂兰", phone="139-0000-1111", description="行李箱", items_count=2, by="clerk")
    session.commit()
    assert s.tag == "S0001"
    with pytest.raises(ValidationError):
        services.pick_up(s, tag="S0001", phone_last4="0000", by="clerk")
    with pytest.raises(ValidationError):
        services.pick_up(s, tag="S0002", phone_last4="1111", by="clerk")
    services.pick_up(s, tag="s0001", phone_last4="1111", by="clerk")
    session.commit()
    assert s.status == "picked_up" and s.picked_up_by == "赵桂兰"
    with pytest.raises(Conflict):
        services.pick_up(s, tag="S0001", phone_last4="1111", by="clerk")
    with pytest.raises(ValidationError):
        services.store(owner_name="x", phone="12", description="y", by="clerk")


def test_unclaimed_after_n_days(session):
    old = services.store(owner_name="甲", phone="13900001111", description="包", by="clerk")
    old.stored_at = now() - timedelta(days=40)
    services.store(owner_name="乙", phone="13900002222", description="袋", by="clerk")
    session.commit()
    assert [s.owner_name for s in services.unclaimed(30)] == ["甲"]
    assert len(services.unclaimed(0)) == 2


def _slot(hours=26):
    return (now() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def test_booking_slot_capacity_and_rules(session):
    haircut = BookingType(title="理发", kind="haircut", fee=Decimal("20"), slot_minutes=30, capacity=1)
    session.add(haircut)
    session.commit()
    first = Booking(booking_type=haircut, requester="吴大爷", phone="137", location="5床", slot_start=_slot())
    session.add(first)
    session.commit()
    assert first.fee == Decimal("20.00") and first.workflow_state == "requested"
    session.add(Booking(booking_type=haircut, requester="李", phone="1", location="x", slot_start=_slot()))
    with pytest.raises(ValidationError, match="已满|full"):
        session.commit()
    session.rollback()
    for start in (now() - timedelta(hours=1), _slot() + timedelta(minutes=10)):
        session.add(Booking(booking_type=haircut, requester="李", phone="1", location="x", slot_start=start))
        with pytest.raises(ValidationError):
            session.commit()
        session.rollback()


API = "/api/v1"


def test_api_counter_actions_and_bad_input(client, api_token, shelf):
    h = api_token("Front Desk")
    sale = client.post(f"{API}/convenience_sales/sell", json={"lines": [{"code": "jd-01", "qty": 2}]}, headers=h)
    assert sale.status_code == 201 and sale.json["total"] == "7.00"
    for body, status in [({"lines": [{"code": "JD-01", "qty": -1}]}, 422), ({"lines": [{"code": "NOPE"}]}, 404),
                         ({"lines": [{"code": "JD-01", "qty": 5}]}, 409), ({"lines": "x"}, 422), ({}, 422)]:
        resp = client.post(f"{API}/convenience_sales/sell", json=body, headers=h)
        assert resp.status_code == status and resp.json["message"], (body, resp.json)
    stored = client.post(f"{API}/convenience_storage/store", json={"owner_name": "孙强", "phone": "13900002222",
                                                                   "description": "衣物"}, headers=h)
    assert stored.status_code == 201
    assert client.post(f"{API}/convenience_storage/pickup", json={"tag": "S9999", "phone_last4": "2222"},
                       headers=h).status_code == 404
    assert client.post(f"{API}/convenience_storage/pickup", json={"tag": stored.json["tag"], "phone_last4": "1234"},
                       headers=h).status_code == 422
    assert client.post(f"{API}/convenience_storage/pickup", json={"tag": stored.json["tag"], "phone_last4": "2222"},
                       headers=h).json["status"] == "picked_up"
    assert client.get(f"{API}/convenience_storage/unclaimed?days=abc", headers=h).status_code == 400


def test_roles(app, client, api_token, login_as, shelf):
    desk, boss, auditor = api_token("Front Desk"), api_token("Front Desk Supervisor"), api_token("Auditor")
    assert client.post(f"{API}/convenience_stock/receive", json={"code": "JD-01", "qty": 5}, headers=desk).status_code == 403
    assert client.post(f"{API}/convenience_stock/receive", json={"code": "JD-01", "qty": 5}, headers=boss).json["stock"] == 8
    assert client.post(f"{API}/convenience_sales/sell", json={"lines": [{"code": "JD-01"}]}, headers=auditor).status_code == 403
    sale = client.post(f"{API}/convenience_sales/sell", json={"lines": [{"code": "JD-01"}]}, headers=desk).json["name"]
    assert client.post(f"{API}/convenience_sales/refund", json={"sale": sale, "reason": "x"}, headers=desk).status_code == 403
    assert client.post(f"{API}/convenience_sales/refund", json={"sale": sale, "reason": "x"}, headers=boss).status_code == 200
    assert app.test_client().post(f"{API}/convenience_sales/sell", json={}).status_code == 401
    login_as("Front Desk")
    assert client.get("/convenience/low-stock/").status_code == 200
    assert client.get("/convenience/sale_item/add").status_code == 403


def test_printed_receipt_tag_and_booking(client, login_as, session, shelf):
    sale = services.sell([(shelf["tape"], 1)], by="clerk")
    storage = services.store(owner_name="赵桂兰", phone="13900001111", description="行李箱", by="clerk")
    session.commit()
    login_as("Front Desk")
    for url, words in [(f"/print/convenience.receipt/{sale.name}.pdf", ["销售小票", "透明胶带", "¥3.50"]),
                       (f"/print/convenience.storage_tag/{storage.name}.pdf", ["寄存牌", "S0001", "赵桂兰"]),
                       (f"/print/convenience.pickup_slip/{storage.name}.pdf", ["取物单", "行李箱"])]:
        pdf = client.get(url).data
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode().replace(" ", "")
        fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
        assert all(w in text for w in words), (url, text[:300])
        assert "WenQuanYi" in fonts
