"""Demo: the front desk's shelf of small items, some stored belongings and bookings."""
from datetime import timedelta
from decimal import Decimal

from erp_core.context import acting_as
from erp_core.types import now

from . import services
from .models import Booking, BookingType, SaleItem

ITEMS = [("ZB-01", "纸杯", "包", "5.00", 40), ("JD-01", "透明胶带", "卷", "3.50", 12), ("HXZ-01", "回形针", "盒", "2.00", 8),
         ("DSJ-01", "订书机", "个", "15.00", 3), ("ZXB-01", "针线包", "个", "6.00", 10), ("JD-02", "剪刀", "把", "8.00", 6),
         ("JS-01", "胶水", "瓶", "3.00", 2), ("XF-01", "信封", "个", "0.50", 100), ("QZB-01", "签字笔", "支", "2.50", 30),
         ("XDY-01", "消毒液（500ml）", "瓶", "12.00", 9), ("CKT-01", "创可贴", "盒", "6.50", 4), ("WSZ-01", "卫生纸", "卷", "2.00", 50)]


def load(session):
    if session.query(SaleItem).count():
        return
    with acting_as("front_desk"):
        items = {}
        for code, title, unit, price, stock in ITEMS:
            items[code] = SaleItem(code=code, title=title, unit=unit, price=Decimal(price), stock=0,
                                   low_stock_level=5)
            session.add(items[code])
        session.flush()
        for code, *_rest, stock in ITEMS:
            services.receive_stock(items[code], stock, reason="期初入库", by="front_desk")
        services.sell([(items["ZB-01"], 2), (items["QZB-01"], 1)], payment_method="wechat", by="front_desk")
        services.sell([(items["CKT-01"], 1)], by="front_desk")
        old = services.store(owner_name="赵桂兰", phone="13900001111", description="行李箱一个、被褥一套", items_count=2,
                             location="A-03", by="front_desk")
        old.stored_at = now() - timedelta(days=45)
        services.store(owner_name="孙强", phone="13900002222", description="手提袋（衣物）", location="B-01", by="front_desk")
        types = [BookingType(title="出院出租车预约", kind="taxi", fee=Decimal("0"), slot_minutes=30, capacity=3),
                 BookingType(title="住院患者理发", kind="haircut", fee=Decimal("20"), slot_minutes=30, capacity=1),
                 BookingType(title="殡葬服务咨询", kind="funeral", fee=Decimal("0"), slot_minutes=60, capacity=1),
                 BookingType(title="职工家庭维修", kind="repair", fee=Decimal("50"), slot_minutes=120, capacity=2)]
        session.add_all(types)
        session.flush()
        start = (now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        session.add_all([
            Booking(booking_type=types[0], requester="周敏（骨科二病区 8床）", phone="13700003333", location="住院部一楼大门",
                    slot_start=start),
            Booking(booking_type=types[1], requester="吴大爷（心内科一病区 5床）", phone="13700004444",
                    location="心内科一病区", slot_start=start + timedelta(hours=4)),
            Booking(booking_type=types[3], requester="郑护士（职工）", phone="13700005555", location="职工宿舍 3 栋 402",
                    slot_start=start + timedelta(days=1), note="厨房水龙头漏水")])
    session.commit()
