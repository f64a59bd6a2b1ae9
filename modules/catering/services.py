"""Catering rules: what may be ordered for whom and when, the kitchen's flow, and the
figures (production sheet, delivery lists, monthly satisfaction)."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, extract, func, select

from erp_core import audit
from erp_core.context import acting_as, username_of
from erp_core.errors import NotFound, PermissionDenied, ValidationError
from erp_core.extensions import db
from erp_core.money import cents
from erp_core.permissions import rule_clause, user_can
from erp_core.types import LOCAL_TZ, now

from .models import PAYMENTS, Diet, Dish, MealSlot, DailyMenu, Order, OrderLine, Ward, tags

MAX_QTY = 20


def _text(value, limit):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Expected text, got %(value)s.", value=str(value)[:40]))
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(_("At most %(n)s characters.", n=limit))
    return value


def _whole(value):
    """A quantity: 2, "2" or 2.0 — not 1.5, not true, not "two"."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value).strip())
        if number != number.to_integral_value():
            raise ValueError
        return int(number)
    except (ValueError, ArithmeticError):
        raise ValidationError(_("The quantity must be a whole number."))


def _by_code(cls, code, label):
    obj = db.session.scalars(select(cls).where(cls.code == str(code or "").strip())).first()
    if obj is None:
        raise NotFound(_("Unknown %(what)s: %(code)s", what=label, code=str(code)[:40]))
    return obj


def _day(value):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("Give the day as YYYY-MM-DD."))


def window(day, slot):
    return (datetime.combine(day, slot.starts, tzinfo=LOCAL_TZ), datetime.combine(day, slot.ends, tzinfo=LOCAL_TZ))


def conflicts(dish, diet, allergies=""):
    """Why ``dish`` does not suit the patient (translated reasons; empty when it does)."""
    reasons = []
    if diet is not None and diet.kind != "basic" and diet.code not in tags(dish.diets):
        reasons.append(_("%(dish)s is not suitable for the %(diet)s diet", dish=dish.title, diet=diet.title))
    banned = (tags(diet.contraindications) if diet else set()) | tags(allergies)
    hit = sorted(banned & tags(dish.allergens))
    if hit:
        reasons.append(_("%(dish)s contains %(items)s", dish=dish.title, items="、".join(hit)))
    return reasons


def place_order(data, *, by):
    """``data``: order_for, ward (code), bed, patient_name, inpatient_no, diet (code), allergies,
    department, staff_name, slot (code), day, instructions, payment, lines [{dish, qty}],
    override_reason. Refuses what the diet, the window or the cut-off forbids."""
    if not user_can(by, "create", "Order"):
        raise PermissionDenied(_("You are not allowed to place orders."))
    order_for = data.get("order_for") or "patient"
    if order_for not in ("patient", "staff"):
        raise ValidationError(_("An order is for a patient or a staff member."))
    payment = data.get("payment") or ("inpatient" if order_for == "patient" else "staff_card")
    if payment not in PAYMENTS:
        raise ValidationError(_("Unknown payment: %(p)s", p=str(payment)[:20]))
    slot = _by_code(MealSlot, data.get("slot"), _("meal slot"))
    day = _day(data.get("day") or now().date().isoformat())
    start, end = window(day, slot)
    if end <= now():
        raise ValidationError(_("The %(slot)s slot of %(day)s is over.", slot=slot.title, day=day))
    if now() > start - timedelta(minutes=slot.cutoff_minutes):
        raise ValidationError(_("Orders for %(slot)s on %(day)s closed at %(at)s.", slot=slot.title, day=day,
                                at=(start - timedelta(minutes=slot.cutoff_minutes)).strftime("%H:%M")))
    o = Order(order_for=order_for, slot=slot, day=day, deliver_from=start, deliver_until=end, payment=payment,
              instructions=_text(data.get("instructions"), 300))
    if order_for == "patient":
        o.ward = _by_code(Ward, data.get("ward"), _("ward"))
        if rule_clause(Order, by) is not None and not _may_order_for(by, o.ward):    # a ward nurse
            raise PermissionDenied(_("You may order only for your own wards."))
        o.bed, o.patient_name = _text(data.get("bed"), 20), _text(data.get("patient_name"), 60)
        o.inpatient_no, o.allergies = _text(data.get("inpatient_no"), 30), _text(data.get("allergies"), 300)
        o.diet = _by_code(Diet, data.get("diet"), _("diet"))
        if not o.bed or not o.patient_name:
            raise ValidationError(_("A patient's order needs the bed and the patient's name."))
    else:
        o.department, o.staff_name = _text(data.get("department"), 80), _text(data.get("staff_name"), 60)
        if not o.department or not o.staff_name:
            raise ValidationError(_("A staff order needs the department and the name."))
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError(_("Order at least one dish."))
    menu = db.session.scalars(select(DailyMenu).where(DailyMenu.day == day, DailyMenu.slot_id == slot.id)).first()
    offered = {d.id for d in menu.dishes} if menu else set()
    problems = []
    for line in lines:
        if not isinstance(line, dict):
            raise ValidationError(_("Each line is an object with dish and qty."))
        dish = db.session.scalars(select(Dish).where(Dish.name == str(line.get("dish", "")))).first()
        if dish is None or not dish.active:
            raise NotFound(_("Unknown dish: %(dish)s", dish=str(line.get("dish"))[:40]))
        qty = _whole(line.get("qty", 1))
        if not 1 <= qty <= MAX_QTY:
            raise ValidationError(_("The quantity is 1 to %(n)s.", n=MAX_QTY))
        if dish.id not in offered:
            raise ValidationError(_("%(dish)s is not on the %(slot)s menu of %(day)s.", dish=dish.title,
                                    slot=slot.title, day=day))
        if not (dish.available_at(slot.starts) and dish.available_at(slot.ends)):
            raise ValidationError(_("%(dish)s is served only %(a)s–%(b)s.", dish=dish.title,
                                    a=dish.available_from, b=dish.available_until))
        if order_for == "patient":
            problems += conflicts(dish, o.diet, o.allergies)
        o.lines.append(OrderLine(dish=dish, qty=qty, price=dish.price, amount=cents(dish.price * qty)))
    override = _text(data.get("override_reason"), 1000)
    if problems:
        if not override:
            raise ValidationError("; ".join(problems) + _(". A dietitian may override with a reason."))
        if not user_can(by, "override", "Order"):
            raise PermissionDenied(_("Only a dietitian may override a diet conflict."))
        o.override_reason = override
    o.total = cents(sum((l.amount for l in o.lines), Decimal(0)))
    with acting_as(username_of(by)):
        db.session.add(o)
        db.session.flush()
        if problems:
            audit.record(db.session, o, "diet_override", conflicts=problems, reason=override)
    return o


def _may_order_for(user, ward):
    """A user restricted by the ward rule orders for the wards she is on."""
    return any(n.id == user.id for n in ward.nurses)


def can_deliver(o):
    if not (o.received_by or "").strip():
        return _("Record who received the meal.")
    return None


def on_deliver(o, *, by, reason=None):
    o.delivered_at = now()
    o.late = o.delivered_at > o.deliver_until


def deliver(o, received_by, *, by):
    from erp_core import workflow
    received_by = _text(received_by, 60)
    if not received_by:
        raise ValidationError(_("Record who received the meal."))
    if o.workflow_state != "out":
        from erp_core.errors import Conflict
        raise Conflict(_("%(doc)s is not out for delivery.", doc=o.name))
    with acting_as(username_of(by)):
        o.received_by = received_by
        workflow.apply(o, "deliver", by=by)
    return o


def feedback(o, rating, comment, *, by):
    if o.workflow_state != "delivered":
        from erp_core.errors import Conflict
        raise Conflict(_("Only a delivered order can be rated."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError(_("The rating is a whole number from 1 to 5."))
    with acting_as(username_of(by)):
        o.rating, o.comment = rating, _text(comment, 500)
    return o


def overdue(at=None):
    """Orders not delivered by the end of their slot (flagged on the kitchen's board)."""
    at = at or now()
    return db.session.scalars(select(Order).where(Order.workflow_state.in_(("placed", "accepted", "prepared", "out")),
                                                  Order.deliver_until < at).order_by(Order.deliver_until)).all()


def orders_of(day, slot, ward=None, user=None):
    q = select(Order).where(Order.day == day, Order.slot_id == slot.id, Order.workflow_state != "cancelled")
    if ward is not None:
        q = q.where(Order.ward_id == ward.id)
    clause = rule_clause(Order, user) if user is not None else None
    if clause is not None:
        q = q.where(clause)
    return db.session.scalars(q.order_by(Order.ward_id, Order.bed, Order.id)).all()


def production(day, slot):
    """The kitchen's sheet: ``[(dish, {diet title: qty}, total qty)]`` and the order count."""
    rows = db.session.execute(
        select(Dish.id, Diet.title, func.sum(OrderLine.qty))
        .join(OrderLine, OrderLine.dish_id == Dish.id).join(Order, Order.id == OrderLine.order_id)
        .outerjoin(Diet, Diet.id == Order.diet_id)
        .where(Order.day == day, Order.slot_id == slot.id, Order.workflow_state != "cancelled")
        .group_by(Dish.id, Diet.title)).all()
    dishes = {d.id: d for d in db.session.scalars(select(Dish).where(Dish.id.in_({r[0] for r in rows})))}
    sheet = {}
    for dish_id, diet, qty in rows:
        per = sheet.setdefault(dish_id, {})
        key = diet or _("Staff")
        per[key] = per.get(key, 0) + int(qty)
    out = [(dishes[k], dict(sorted(v.items())), sum(v.values())) for k, v in sheet.items()]
    count = db.session.scalar(select(func.count(Order.id)).where(Order.day == day, Order.slot_id == slot.id,
                                                                 Order.workflow_state != "cancelled"))
    return sorted(out, key=lambda r: r[0].title), count


def parse_key(key, with_ward=False):
    """Print keys: ``YYYY-MM-DD~SLOT`` (production, all wards) or ``YYYY-MM-DD~SLOT~WARD``."""
    parts = str(key).split("~")
    if len(parts) != (3 if with_ward else 2):
        raise NotFound(_("Print by day, slot and ward: YYYY-MM-DD~SLOT~WARD") if with_ward else
                       _("Print by day and slot: YYYY-MM-DD~SLOT"))
    try:
        day = date.fromisoformat(parts[0])
    except ValueError:
        raise NotFound(_("Give the day as YYYY-MM-DD."))
    slot = _by_code(MealSlot, parts[1], _("meal slot"))
    ward = _by_code(Ward, parts[2], _("ward")) if with_ward else None
    return day, slot, ward


def satisfaction(year, month, user=None):
    """Monthly mean rating (1–5) and count, per dish and per ward; for ``user``, only over the
    orders that user may read (a ward nurse: her own wards), by the same record rule as lists."""
    rated = and_(Order.rating.is_not(None), extract("year", Order.day) == year, extract("month", Order.day) == month)
    rule = rule_clause(Order, user) if user is not None else None
    if rule is not None:
        rated = and_(rated, rule)
    per_ward = db.session.execute(select(Ward.title, func.avg(Order.rating), func.count(Order.id))
                                  .join(Order, Order.ward_id == Ward.id).where(rated)
                                  .group_by(Ward.title).order_by(Ward.title)).all()
    per_dish = db.session.execute(select(Dish.title, func.avg(Order.rating), func.count(Order.id))
                                  .join(OrderLine, OrderLine.dish_id == Dish.id).join(Order, Order.id == OrderLine.order_id)
                                  .where(rated).group_by(Dish.title).order_by(Dish.title)).all()
    fmt = lambda rows: [{"name": n, "rating": Decimal(str(avg)).quantize(Decimal("0.01")), "count": c}  # noqa: E731
                        for n, avg, c in rows]
    return {"wards": fmt(per_ward), "dishes": fmt(per_dish)}
