from decimal import Decimal

from flask_babel import lazy_gettext as _l

from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

from .models import CLERK, DIETITIAN, KITCHEN, NURSE

MENU_DOCS = ["Ward", "Diet", "Dish", "MealSlot", "DailyMenu"]
ALL = ["read", "create", "write", "delete", "print", "export", "import"]


@hookimpl
def houqin_roles():
    # "Production" is the kitchen's view of all wards at once (production sheet, delivery lists)
    return {
        CLERK: {**{d: ["read"] for d in MENU_DOCS}, "Order": ["read", "create", "write", "print", "export"]},
        NURSE: {"Dish": ["read"], "DailyMenu": ["read"], "Diet": ["read"],
                "Order": ["read", "create", "write", "print", "export"]},
        KITCHEN: {**{d: ["read"] for d in MENU_DOCS}, "Order": ["read", "print", "export"],
                  "Production": ["read", "print"]},
        DIETITIAN: {**{d: ALL for d in MENU_DOCS}, "Order": ["read", "create", "print", "export", "override"],
                    "Production": ["read", "print"]},
        "Auditor": {**{d: ["read", "export"] for d in MENU_DOCS}, "Order": ["read", "export"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import CateringApi, KitchenApi, KitchenView, OrderMealView
    appbuilder.add_api(CateringApi)
    appbuilder.add_view(OrderMealView, "OrderMeal", label=_l("Order a meal"), icon="fa-cutlery",
                        category="catering", href="/catering/order_meal/")
    appbuilder.add_api(KitchenApi)
    appbuilder.add_view(KitchenView, "Kitchen", label=_l("Kitchen board"), icon="fa-fire",
                        category="catering", href="/catering/kitchen/")


def _production(key):
    from . import services
    day, slot, _w = services.parse_key(key)
    rows, count = services.production(day, slot)
    diets = sorted({d for _dish, per, _t in rows for d in per})
    totals = {d: sum(per.get(d, 0) for _dish, per, _t in rows) for d in diets}
    return {"number": str(key), "day": day, "slot": slot, "rows": rows, "count": count, "diets": diets, "diet_totals": totals,
            "grand_total": sum(t for _d, _p, t in rows)}


def _delivery(key):
    from erp_core.errors import NotFound
    from erp_core.permissions import request_user
    from flask_babel import gettext as _
    from . import services
    day, slot, ward = services.parse_key(key, with_ward=True)
    orders = services.orders_of(day, slot, ward, request_user())
    if not orders and services.orders_of(day, slot, ward):
        raise NotFound(_("Not found."))          # another ward's list: as if it did not exist
    return {"day": day, "slot": slot, "wards": [(ward, orders)], "number": str(key)}


def _all_wards(key):
    from itertools import groupby
    from . import services
    day, slot, _w = services.parse_key(key)
    orders = [o for o in services.orders_of(day, slot) if o.ward is not None]
    wards = [(w, list(os)) for w, os in groupby(orders, key=lambda o: o.ward)]
    # one document per ward (its own 第 x 页 / 共 y 页), so each ward's sheet can be handed out alone
    return {"day": day, "slot": slot, "wards": wards,
            "parts": [{"wards": [pair], "number": f"{day.isoformat()}~{slot.code}~{pair[0].code}"} for pair in wards]}


def _keys(with_ward):
    def keys(date=None, period=None):
        """Day~slot(~ward) with orders (run.py print --date/--period/--all)."""
        from erp_core.extensions import db
        from sqlalchemy import select
        from .models import MealSlot, Order, Ward
        q = (select(Order.day, MealSlot.code, Ward.code).join(MealSlot, MealSlot.id == Order.slot_id)
             .outerjoin(Ward, Ward.id == Order.ward_id).where(Order.workflow_state != "cancelled"))
        out = set()
        for day, slot, ward in db.session.execute(q):
            if with_ward and ward is None:
                continue
            out.add("~".join([day.isoformat(), slot] + ([ward] if with_ward else [])))
        return sorted(k for k in out if k.startswith(date or period or ""))
    return keys


@hookimpl
def houqin_print_formats():
    from .models import Order
    return [
        PrintFormat("catering.order", _l("Meal order slip"), "catering/print/order.html", Order),
        PrintFormat("catering.production", _l("Kitchen production sheet"), "catering/print/production.html", None,
                    _production, permission="Production", key="date", keys=_keys(False)),
        PrintFormat("catering.delivery_list", _l("Ward delivery list"), "catering/print/delivery.html", None,
                    _delivery, permission="Order", key="date", keys=_keys(True)),
        PrintFormat("catering.delivery_lists", _l("Delivery lists of all wards"), "catering/print/delivery.html",
                    None, _all_wards, permission="Production", key="date", keys=_keys(False)),
    ]


@hookimpl(optionalhook=True)
def houqin_satisfaction_scores(service_category, year, month):
    """For outsourced catering: each ward's share of satisfied ratings (4 or 5 of 5) that month."""
    if service_category != "catering":
        return []
    from sqlalchemy import and_, case, extract, func, select
    from erp_core.extensions import db
    from .models import Order, Ward
    rows = db.session.execute(
        select(Ward.title, func.count(Order.id), func.sum(case((Order.rating >= 4, 1), else_=0)))
        .join(Order, Order.ward_id == Ward.id)
        .where(and_(Order.rating.is_not(None), extract("year", Order.day) == year, extract("month", Order.day) == month))
        .group_by(Ward.title)).all()
    from flask_babel import gettext as _
    return [{"source": _("Meal satisfaction %(ward)s", ward=title), "respondents": int(n),
             "score": (Decimal(int(ok)) * 100 / int(n)).quantize(Decimal("0.01"))} for title, n, ok in rows if n]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)
