"""Placing orders, delivery and feedback (API), and the kitchen's board and figures."""
from datetime import date

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _
from sqlalchemy import select

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


class CateringApi(ActionApi):
    resource_name = "catering"
    class_permission_name = "Order"
    method_permission_name = {"place": "create", "deliver": "deliver", "feedback": "write", "satisfaction": "read"}

    @expose("/orders", methods=["POST"])
    @protect()
    @safe
    def place(self):
        return self.run(lambda b, u: order_json(services.place_order(b, by=u)), 201)

    @expose("/orders/<int:pk>/deliver", methods=["POST"])
    @protect()
    @safe
    def deliver(self, pk):
        """{"received_by": "护士 李娜"}"""
        return self.run(lambda b, u: order_json(services.deliver(_order(pk, u), b.get("received_by"), by=u)))

    @expose("/orders/<int:pk>/feedback", methods=["POST"])
    @protect()
    @safe
    def feedback(self, pk):
        """{"rating": 1-5, "comment": ""}"""
        return self.run(lambda b, u: order_json(services.feedback(_order(pk, u), b.get("rating"), b.get("comment"),
                                                                  by=u)))

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
