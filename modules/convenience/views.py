"""Counter actions as JSON APIs; each class carries the permission of the document it changes."""
from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core.actions import Action, Input
from erp_core.context import actor
from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.extensions import db
from erp_core.views import ActionApi
from erp_core.permissions import request_user, scoped_select

from . import services
from .models import PAYMENT_METHODS, Sale, SaleItem, Storage


def _item(code):
    item = services.find_item(code)
    if item is None:
        raise NotFound(_("Unknown item code: %(code)s", code=code or ""))
    return item


def sale_json(sale):
    return dict(id=sale.id, name=sale.name, total=str(sale.total), status=sale.status,
                lines=[dict(code=l.item.code, item=l.item.title, qty=l.qty, price=str(l.price), amount=str(l.amount))
                       for l in sale.lines], receipt=f"/print/convenience.receipt/{sale.name}.pdf")


def storage_json(s):
    return dict(id=s.id, name=s.name, tag=s.tag, owner=s.owner_name, status=s.status, items_count=s.items_count,
                tag_print=f"/print/convenience.storage_tag/{s.name}.pdf",
                slip_print=f"/print/convenience.pickup_slip/{s.name}.pdf")


def _lines(inp):
    out = []
    for line in inp["lines"]:
        if not isinstance(line, dict) or set(line) - {"code", "qty"}:
            raise ValidationError(_("Give the lines as a list of {code, qty}."))
        qty = Input("int", _l("Quantity"), min=1, max=10000, default=1).parse("qty", line.get("qty"))
        out.append((_item(line.get("code")), qty))
    if not out:
        raise ValidationError(_("A sale needs at least one item."))
    return out


def _sale_by_name(inp, user):
    return db.session.scalars(scoped_select(Sale, user).where(Sale.name == inp["sale"])).first()


def _storage_by_tag(inp, user):
    storage = services.find_tag(inp.get("tag"))
    if storage is None:
        raise NotFound(_("Unknown tag: %(tag)s", tag=inp.get("tag") or ""))
    return storage


PAYMENT = Input("choice", _l("Payment method"), choices=PAYMENT_METHODS, default="cash")


class CounterSalesApi(ActionApi):
    resource_name = "convenience_sales"
    class_permission_name = "Sale"

    sell = Action(_l("Sell"), lambda _d, inp, user: sale_json(services.sell(
                      _lines(inp), payment_method=inp["payment_method"], by=actor())),
                  permission="create", status=201,
                  inputs=dict(lines=Input("list", _l("Items"), required=True), payment_method=PAYMENT))
    refund = Action(_l("Refund"), lambda sale, inp, user: sale_json(services.refund(sale, reason=inp["reason"],
                                                                                    by=actor())),
                    doc=Sale, states=("paid",), find=_sale_by_name, style="danger",
                    confirm=_l("Refund the whole sale and put the items back in stock?"),
                    inputs=dict(sale=Input("text", _l("Sale number"), max_length=64, locator=True),
                                reason=Input("text", _l("Reason"), required=True, max_length=200)))


class StockMovesApi(ActionApi):
    resource_name = "convenience_stock"
    class_permission_name = "SaleItem"
    method_permission_name = {"low": "read"}

    receive = Action(_l("Receive stock"), lambda item, inp, user: _stock(services.receive_stock(
                         item, inp["qty"], reason=inp["reason"] or "", by=actor())),
                     doc=SaleItem, find=lambda inp, user: _item(inp.get("code")),
                     inputs=dict(code=Input("text", _l("Item code"), max_length=40, locator=True),
                                 qty=Input("int", _l("Quantity received"), required=True, min=1, max=100000),
                                 reason=Input("text", _l("Delivery note"), max_length=200)))
    adjust = Action(_l("Adjust stock"), lambda item, inp, user: _stock(services.adjust_stock(
                        item, inp["delta"], reason=inp["reason"], by=actor())),
                    doc=SaleItem, find=lambda inp, user: _item(inp.get("code")),
                    inputs=dict(code=Input("text", _l("Item code"), max_length=40, locator=True),
                                delta=Input("int", _l("Change (+/-)"), required=True, min=-100000, max=100000),
                                reason=Input("text", _l("Reason"), required=True, max_length=200)))

    @expose("/low", methods=["GET"])
    @protect()
    @safe
    def low(self):
        return self.response(200, result=[{"item_code": i.code, "item": i.title, "stock": i.stock,
                                           "level": i.low_stock_level} for i in services.low_stock()])


def _stock(item):
    return {"item_code": item.code, "stock": item.stock}


class BelongingsApi(ActionApi):
    resource_name = "convenience_storage"
    class_permission_name = "Storage"
    method_permission_name = {"unclaimed": "read"}

    store = Action(_l("Store belongings"), lambda _d, inp, user: storage_json(services.store(
                       owner_name=inp["owner_name"], phone=inp["phone"] or "", description=inp["description"] or "",
                       items_count=inp["items_count"], location=inp["location"] or "", tag=inp["tag"], by=actor())),
                   permission="create", status=201, list_of=Storage,
                   inputs=dict(owner_name=Input("text", _l("Owner"), required=True, max_length=100),
                               phone=Input("text", _l("Phone"), max_length=20),
                               description=Input("text", _l("Description"), max_length=500),
                               items_count=Input("int", _l("Pieces"), min=1, max=50, default=1),
                               location=Input("text", _l("Shelf"), max_length=40),
                               tag=Input("text", _l("Tag"), max_length=20)))
    pickup = Action(_l("Hand back"), lambda st, inp, user: storage_json(services.pick_up(
                        st, tag=inp["tag"] or st.tag, phone_last4=inp["phone_last4"] or "",
                        picked_up_by=inp["picked_up_by"] or "", by=actor())),
                    doc=Storage, states=("stored",), find=_storage_by_tag,
                    inputs=dict(tag=Input("text", _l("Tag"), max_length=20, locator=True),
                                phone_last4=Input("text", _l("Last 4 digits of the phone"), required=True, max_length=4),
                                picked_up_by=Input("text", _l("Picked up by"), max_length=100)))

    @expose("/unclaimed", methods=["GET"])
    @protect()
    @safe
    def unclaimed(self):
        try:
            days = int(request.args.get("days", "30"))
            rows = services.unclaimed(days)
        except ValueError:
            return self.response(400, message=_("Give the number of days as a whole number."))
        except UserError as exc:
            return self.response(exc.status, message=str(exc))
        return self.response(200, result=[storage_json(s) for s in rows])


class ConvenienceView(BaseView):
    route_base = "/convenience"
    default_view = "low_stock"
    class_permission_name = "SaleItem"
    method_permission_name = {"low_stock": "read"}

    @expose("/low-stock/")
    @has_access
    def low_stock(self):
        return self.render_template("convenience/low_stock.html", items=services.low_stock())


class UnclaimedView(BaseView):
    route_base = "/convenience/unclaimed"
    default_view = "unclaimed"
    class_permission_name = "Storage"
    method_permission_name = {"unclaimed": "read"}

    @expose("/")
    @has_access
    def unclaimed(self):
        try:
            days = max(0, int(request.args.get("days", "30")))
        except ValueError:
            raise ValidationError(_("Give the number of days as a whole number."))
        return self.render_template("convenience/unclaimed.html", rows=services.unclaimed(days), days=days)
