"""Placing orders, delivery and feedback (API), and the kitchen's board and figures."""
from datetime import date

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core import replica
from erp_core.actions import Action, Input
from erp_core.errors import NotFound, ValidationError
from erp_core.extensions import db
from erp_core.permissions import scoped_select
from erp_core.types import now
from erp_core.views import ActionApi

from . import services
from .models import MealSlot, Order


def order_json(o):
    return {"id": o.id, "name": o.name, "state": o.workflow_state, "ward": o.ward.code if o.ward else None,
            "bed": o.bed, "total": str(o.total), "late": o.late, "deliver_from": o.deliver_from.isoformat(),
            "lines": [{"dish": l.dish.name, "title": l.dish.title, "qty": l.qty, "price": str(l.price),
                       "amount": str(l.amount)} for l in o.lines],
            "slip": f"/print/catering.order/{o.name}.pdf"}


def _order(pk, user):
    o = db.session.scalars(scoped_select(Order, user).where(Order.id == pk)).first()
    if o is None:
        raise NotFound(_("Not found."))
    return o


def _period(body):
    try:
        year, month = int(body.get("year") or now().year), int(body.get("month") or now().month)
        date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationError(_("Give a real year and month."))
    return year, month


def _text(label, n, required=False):
    return Input("text", label, max_length=n, required=required)


# what a ward nurse (or the catering clerk) gives to place an order; the service refuses what
# the diet, the menu, the window or the cut-off forbids
PLACE_INPUTS = dict(
    order_for=Input("choice", _l("For"), choices={"patient": _l("Patient"), "staff": _l("Staff")}, default="patient"),
    ward=_text(_l("Ward"), 20), bed=_text(_l("Bed"), 20), patient_name=_text(_l("Patient"), 60),
    inpatient_no=_text(_l("Inpatient number"), 30), diet=_text(_l("Diet"), 20), allergies=_text(_l("Allergies"), 300),
    department=_text(_l("Department"), 80), staff_name=_text(_l("Staff member"), 60),
    slot=_text(_l("Meal slot"), 20, required=True), day=_text(_l("Day"), 10), instructions=_text(_l("Instructions"), 300),
    payment=Input("choice", _l("Payment"), choices=lambda: services.PAYMENTS),
    lines=Input("list", _l("Dishes"), required=True), override_reason=_text(_l("Dietitian's override reason"), 300))


class CateringApi(ActionApi):
    resource_name = "catering"
    class_permission_name = "Order"
    method_permission_name = {"satisfaction": "read"}

    place = Action(_l("Order a meal"), lambda _d, inp, user: order_json(services.place_order(inp, by=user)),
                   permission="create", status=201, route="/orders", inputs=PLACE_INPUTS, list_of=Order,
                   page="/catering/order_meal/")
    deliver = Action(_l("Delivered"), lambda o, inp, user: order_json(services.deliver(o, inp["received_by"], by=user)),
                     doc=Order, states=("out",), route="/orders/<int:pk>/deliver",
                     inputs=dict(received_by=_text(_l("Received by"), 60, required=True)))
    feedback = Action(_l("Rate the meal"), lambda o, inp, user: order_json(services.feedback(
                          o, inp["rating"], inp["comment"], by=user)), permission="write",
                      doc=Order, states=("delivered",), route="/orders/<int:pk>/feedback",
                      inputs=dict(rating=Input("int", _l("Rating (1-5)"), required=True, min=1, max=5),
                                  comment=_text(_l("Comment"), 500)))

    @expose("/satisfaction", methods=["GET"])
    @protect()
    @safe
    def satisfaction(self):
        def work(b, u):
            year, month = _period(b)
            out = services.satisfaction(year, month, u)
            return {k: [{**r, "rating": str(r["rating"])} for r in v] for k, v in out.items()}
        return self.run(work)


class KitchenApi(ActionApi):
    resource_name = "kitchen"
    class_permission_name = "Production"
    method_permission_name = {"production": "read"}

    @expose("/production", methods=["GET"])
    @protect()
    @safe
    @replica.reads
    def production(self):
        """?day=YYYY-MM-DD&slot=CODE"""
        def work(b, u):
            day, slot, _w = services.parse_key(f"{b.get('day', '')}~{b.get('slot', '')}")
            rows, count = services.production(day, slot)
            return {"day": day.isoformat(), "slot": slot.code, "orders": count,
                    "dishes": [{"dish": d.title, "by_diet": per, "total": total} for d, per, total in rows]}
        return self.run(work)


class KitchenView(BaseView):
    """The kitchen's board: today's slots with their counts, late orders, and the sheets to print."""
    route_base = "/catering/kitchen"
    class_permission_name = "Production"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        try:
            day = date.fromisoformat(request.args.get("day") or now().date().isoformat())
        except ValueError:
            day = now().date()
        slots = db.session.scalars(select(MealSlot).order_by(MealSlot.start_time)).all()
        board = [(s, *services.production(day, s)) for s in slots]
        return self.render_template("catering/kitchen.html", day=day, board=board, late=services.overdue())


class OrderMealView(BaseView):
    """The ward nurse's (and the clerk's) form to order a meal: her wards, the patient, the
    diet, and the dishes of the day's menu with a quantity each. It runs the ``place`` action,
    so the diet, allergen, window and cut-off refusals come back in words on this page."""
    route_base = "/catering/order_meal"
    class_permission_name = "Order"
    method_permission_name = {"new": "create"}
    default_view = "new"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def new(self):
        from flask import flash, redirect, url_for
        from erp_core import actions
        from erp_core.action_views import run_on_page
        from erp_core.permissions import request_user, rule_clause
        from .models import DailyMenu, Diet, Ward
        user = request_user()
        form = request.form if request.method == "POST" else request.args
        slots = db.session.scalars(select(MealSlot).order_by(MealSlot.start_time)).all()
        try:
            day = date.fromisoformat(form.get("day") or now().date().isoformat())
        except ValueError:
            day = now().date()
        slot = next((s for s in slots if s.code == form.get("slot")), slots[0] if slots else None)
        wards = db.session.scalars(select(Ward).order_by(Ward.code)).all()
        if rule_clause(Order, user) is not None:           # a ward nurse: her own wards only
            wards = [w for w in wards if any(n.id == user.id for n in w.nurses)]
        menu = slot and db.session.scalars(select(DailyMenu).where(DailyMenu.day == day,
                                                                   DailyMenu.slot_id == slot.id)).first()
        status = 200
        if request.method == "POST" and form.get("place"):
            lines = [{"dish": d.name, "qty": form.get(f"qty_{d.name}")} for d in (menu.dishes if menu else [])
                     if (form.get(f"qty_{d.name}") or "0").strip() not in ("", "0")]
            raw = {k: form.get(k) for k in ("ward", "bed", "patient_name", "inpatient_no", "diet", "allergies",
                                            "instructions") if form.get(k)}
            raw.update(order_for="patient", slot=slot.code if slot else "", day=day.isoformat(), lines=lines)
            result, status = run_on_page(actions.named("Order", "place"), raw, user)
            if status == 200:
                flash(_("Ordered: %(name)s", name=result["name"]), "success")
                return redirect(url_for("OrderView.show", pk=result["id"]))
        return self.render_template("catering/order_meal.html", wards=wards, slots=slots, slot=slot, day=day,
                                    menu=menu, diets=db.session.scalars(select(Diet).order_by(Diet.code)).all(),
                                    form=form), status
