"""The counter screen and its JSON actions. Every action acts as the clerk on duty
(erp_core.context.actor) and checks the permission of the document it touches."""
from flask import request, session
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _

from erp_core.context import actor
from erp_core.errors import NotFound, ValidationError
from erp_core.permissions import request_user, require
from erp_core.views import ActionApi

from modules.convenience import services as shop
from modules.convenience.views import sale_json, storage_json
from modules.rentals import services as rentals
from modules.rentals.models import PAYMENT_METHODS
from modules.rentals.views import loan_json

DISINFECTION_METHODS = ["含氯消毒液擦拭（500mg/L）", "75% 酒精擦拭", "紫外线照射 30 分钟"]


def lookup(code):
    """What a scanned code is: a rental asset, a storage tag or an item for sale."""
    code = (code or "").strip()
    if not code:
        raise ValidationError(_("Scan or type a code."))
    asset = rentals.find_asset(code)
    if asset is not None:
        loan = rentals.open_loan_of(asset)
        return {"kind": "asset", "code": asset.code, "title": str(asset.item_type), "status": asset.status,
                "status_label": str(asset.status_label), "deposit": str(asset.item_type.deposit),
                "loan": loan_json(loan) | {"borrower": loan.borrower_name, "ward_bed": loan.ward_bed} if loan else None}
    storage = shop.find_tag(code)
    if storage is not None:
        return {"kind": "tag", **storage_json(storage), "description": storage.description}
    item = shop.find_item(code)
    if item is not None:
        return {"kind": "item", "code": item.code, "title": item.title, "price": str(item.price),
                "stock": item.stock, "unit": item.unit}
    raise NotFound(_("Nothing found for %(code)s.", code=code))


class CounterApi(ActionApi):
    resource_name = "counter"
    class_permission_name = "Counter"
    method_permission_name = {"lookup": "read", "act": "read", "clerk": "read", "pin": "write"}

    @expose("/lookup", methods=["GET"])
    @protect()
    @safe
    def lookup(self):
        return self.run(lambda body, user: lookup(body.get("code")))

    @expose("/act/<action>", methods=["POST"])
    @protect()
    @safe
    def act(self, action):
        handler = ACTIONS.get(action)
        if handler is None:
            return self.response(404, message=_("Unknown action: %(action)s", action=action))
        return self.run(lambda body, user: handler(body, user, actor()))

    @expose("/clerk", methods=["POST", "DELETE"])
    @protect()
    @safe
    def clerk(self):
        """Switch the clerk on duty on a shared counter login (username + PIN), or back."""
        if request.method == "DELETE":
            session.pop("houqin_clerk", None)
            return self.response(200, clerk=request_user().username)
        body = request.get_json(silent=True) or {}
        username, pin = str(body.get("username", "")).strip(), str(body.get("pin", ""))
        if not rentals.verify_clerk_pin(username, pin):
            return self.response(403, message=_("Wrong clerk or PIN."))
        session["houqin_clerk"] = username
        return self.response(200, clerk=username)

    @expose("/pin", methods=["POST"])
    @protect()
    @safe
    def pin(self):
        """A supervisor sets a clerk's counter PIN."""
        def work(body, user):
            if not self.appbuilder.sm.find_user(username=str(body.get("username", ""))):
                raise NotFound(_("Unknown user."))
            rentals.set_clerk_pin(str(body["username"]), str(body.get("pin", "")))
            return {"username": body["username"]}
        return self.run(work)


def _lend(body, user, clerk):
    require(user, "create", "Loan")
    asset = rentals.find_asset(body.get("code"))
    if asset is None:
        raise NotFound(_("Nothing found for %(code)s.", code=body.get("code") or ""))
    loan = rentals.lend(asset, borrower_name=body.get("borrower_name", ""), ward_bed=body.get("ward_bed", ""),
                        phone=body.get("phone", ""), id_card=body.get("id_card", ""), deposit=body.get("deposit"),
                        payment_method=body.get("payment_method", "cash"), signature_png=body.get("signature"),
                        by=clerk)
    return {"done": "lend", **loan_json(loan), "print": loan_json(loan)["receipt"]}


def _return(body, user, clerk):
    require(user, "write", "Loan")
    asset = rentals.find_asset(body.get("code"))
    loan = rentals.open_loan_of(asset) if asset else None
    if loan is None:
        raise NotFound(_("%(code)s is not out on loan.", code=body.get("code") or ""))
    from erp_core.money import D
    loan = rentals.return_loan(loan, damaged=bool(body.get("damaged")), damage_note=body.get("damage_note", ""),
                               damage_charge=D(body.get("damage_charge") or "0"),
                               signature_png=body.get("signature"), by=clerk)
    return {"done": "return", **loan_json(loan), "print": loan_json(loan)["return_receipt"]}


def _disinfect(body, user, clerk):
    require(user, "disinfect", "Loan")
    asset = rentals.find_asset(body.get("code"))
    if asset is None:
        raise NotFound(_("Nothing found for %(code)s.", code=body.get("code") or ""))
    rentals.disinfect(asset, method=body.get("method", ""), by=clerk)
    return {"done": "disinfect", "code": asset.code, "status": asset.status}


def _sell(body, user, clerk):
    require(user, "create", "Sale")
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError(_("A sale needs at least one item."))
    items = []
    for line in lines:
        item = shop.find_item(line.get("code") if isinstance(line, dict) else None)
        if item is None:
            raise NotFound(_("Nothing found for %(code)s.", code=line))
        items.append((item, line.get("qty", 1)))
    sale = shop.sell(items, payment_method=body.get("payment_method", "cash"), by=clerk)
    return {"done": "sell", **sale_json(sale), "print": sale_json(sale)["receipt"]}


def _store(body, user, clerk):
    require(user, "create", "Storage")
    s = shop.store(owner_name=body.get("owner_name", ""), phone=body.get("phone", ""),
                   description=body.get("description", ""), items_count=body.get("items_count", 1),
                   location=body.get("location", ""), by=clerk)
    return {"done": "store", **storage_json(s), "print": storage_json(s)["tag_print"]}


def _pickup(body, user, clerk):
    require(user, "pickup", "Storage")
    s = shop.find_tag(body.get("code"))
    if s is None:
        raise NotFound(_("Nothing found for %(code)s.", code=body.get("code") or ""))
    s = shop.pick_up(s, tag=body.get("code"), phone_last4=body.get("phone_last4", ""), by=clerk)
    return {"done": "pickup", **storage_json(s), "print": storage_json(s)["slip_print"]}


ACTIONS = {"lend": _lend, "return": _return, "disinfect": _disinfect, "sell": _sell, "store": _store,
           "pickup": _pickup}


class CounterView(BaseView):
    route_base = "/counter"
    default_view = "index"
    class_permission_name = "Counter"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("counter/index.html", payment_methods=PAYMENT_METHODS,
                                    methods=DISINFECTION_METHODS, clerk=actor())
