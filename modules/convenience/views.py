"""Counter actions as JSON APIs; each class carries the permission of the document it changes."""
from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.extensions import db
from erp_core.views import ActionApi
from erp_core.permissions import request_user, scoped_select

from . import services
from .models import Sale, Storage


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


class CounterSalesApi(ActionApi):
    resource_name = "convenience_sales"
    class_permission_name = "Sale"
    method_permission_name = {"sell": "create", "refund": "refund"}

    @expose("/sell", methods=["POST"])
    @protect()
    @safe
    def sell(self):
        def work(body, user):
            lines = body.get("lines")
            if not isinstance(lines, list) or not all(isinstance(l, dict) for l in lines):
                raise ValidationError(_("Give the lines as a list of {code, qty}."))
            sale = services.sell([(_item(l.get("code")), l.get("qty", 1)) for l in lines],
                                 payment_method=body.get("payment_method", "cash"), by=user)
            return sale_json(sale)
        return self.run(work, 201)

    @expose("/refund", methods=["POST"])
    @protect()
    @safe
    def refund(self):
        def work(body, user):
            sale = db.session.scalars(scoped_select(Sale, user).where(Sale.name == str(body.get("sale")))).first()
            if sale is None:
                raise NotFound(_("Unknown sale: %(name)s", name=body.get("sale") or ""))
            return sale_json(services.refund(sale, reason=body.get("reason", ""), by=user))
        return self.run(work)


class StockMovesApi(ActionApi):
    resource_name = "convenience_stock"
    class_permission_name = "SaleItem"
    method_permission_name = {"receive": "receive", "adjust": "adjust", "low": "read"}

    @expose("/receive", methods=["POST"])
    @protect()
    @safe
    def receive(self):
        def work(body, user):
            item = services.receive_stock(_item(body.get("code")), body.get("qty"), reason=body.get("reason", ""),
                                          by=user)
            return {"item_code": item.code, "stock": item.stock}
        return self.run(work)

    @expose("/adjust", methods=["POST"])
    @protect()
    @safe
    def adjust(self):
        def work(body, user):
            item = services.adjust_stock(_item(body.get("code")), body.get("delta"), reason=body.get("reason", ""),
                                         by=user)
            return {"item_code": item.code, "stock": item.stock}
        return self.run(work)

    @expose("/low", methods=["GET"])
    @protect()
    @safe
    def low(self):
        return self.response(200, result=[{"item_code": i.code, "item": i.title, "stock": i.stock,
                                           "level": i.low_stock_level} for i in services.low_stock()])


class BelongingsApi(ActionApi):
    resource_name = "convenience_storage"
    class_permission_name = "Storage"
    method_permission_name = {"store": "create", "pickup": "pickup", "unclaimed": "read"}

    @expose("/store", methods=["POST"])
    @protect()
    @safe
    def store(self):
        def work(body, user):
            return storage_json(services.store(owner_name=body.get("owner_name", ""), phone=body.get("phone", ""),
                                               description=body.get("description", ""),
                                               items_count=body.get("items_count", 1),
                                               location=body.get("location", ""), tag=body.get("tag"), by=user))
        return self.run(work, 201)

    @expose("/pickup", methods=["POST"])
    @protect()
    @safe
    def pickup(self):
        def work(body, user):
            storage = services.find_tag(body.get("tag"))
            if storage is None:
                raise NotFound(_("Unknown tag: %(tag)s", tag=body.get("tag") or ""))
            return storage_json(services.pick_up(storage, tag=body.get("tag"), phone_last4=body.get("phone_last4"),
                                                 picked_up_by=body.get("picked_up_by", ""), by=user))
        return self.run(work)

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
