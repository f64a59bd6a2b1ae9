"""100,000 meal orders (one line each) over 120 days, 12 wards, 3 diets, 3 meal slots."""
from datetime import datetime, time, timedelta
from decimal import Decimal

from . import bulk, document_row

VOLUME = "100,000 meal orders"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
STATES = ["delivered"] * 8 + ["cancelled", "placed"]


def generate(session, scale):
    from erp_core.types import LOCAL_TZ, now
    from modules.catering.models import Diet, Dish, MealSlot, Order, OrderLine, Ward
    wards = [Ward(code=f"BW{i}", title=f"压测{i}病区") for i in range(1, 13)]
    diets = [Diet(code=f"b_{c}", title=t, kind="basic") for c, t in (("regular", "普通饮食"), ("soft", "软食"),
                                                                     ("low_salt", "低盐饮食"))]
    slots = [MealSlot(code=f"b_{c}", title=t, start_time=s, end_time=e)
             for c, t, s, e in (("breakfast", "早餐", "06:30", "07:30"), ("lunch", "午餐", "11:00", "12:00"),
                                ("supper", "晚餐", "17:00", "18:00"))]
    dishes = [Dish(title=f"压测菜品{i:02d}", price=Decimal("6.50") + i) for i in range(20)]
    session.add_all([*wards, *diets, *slots, *dishes])
    session.flush()
    n = int(100_000 * scale)
    today = now().astimezone(LOCAL_TZ).date()
    orders, lines = [], []
    first_id = 1 + (session.query(Order.id).order_by(Order.id.desc()).limit(1).scalar() or 0)
    for i in range(n):
        day = today - timedelta(days=120 * (n - i) // max(n, 1))
        slot = slots[i % 3]
        start = datetime.combine(day, time.fromisoformat(slot.start_time), LOCAL_TZ)
        dish = dishes[i % 20]
        state = STATES[i % 10]
        orders.append(document_row(
            f"DC-B{i:07d}", start - timedelta(hours=3), id=first_id + i,
            docstatus={"placed": 0, "cancelled": 2}.get(state, 1), workflow_state=state,
            ward_id=wards[i % 12].id, bed=f"{i % 40:02d}", patient_name=f"{SURNAMES[i % 20]}{'伟芳娜敏静丽强磊军洋'[(i // 20) % 10]}",
            inpatient_no=f"ZY{i:08d}", diet_id=diets[i % 3].id, slot_id=slot.id, day=day, deliver_from=start,
            deliver_until=start + timedelta(hours=1), total=dish.price))
        lines.append(dict(order_id=first_id + i, dish_id=dish.id, qty=1, price=dish.price, amount=dish.price))
    done = bulk(session, Order, orders)
    _reset_sequence(session, Order)
    return {"catering_order": done, "catering_order_line": bulk(session, OrderLine, lines)}


def _reset_sequence(session, model):
    """Explicit ids skip PostgreSQL's sequence: move it past them."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text
        table = model.__table__.name
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
