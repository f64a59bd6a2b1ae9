"""The counter screen and its JSON actions. Every action acts as the clerk on duty
(erp_core.context.actor) and checks the permission of the document it touches."""
from flask import request, session
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l

from erp_core.context import actor
from erp_core import actions
from erp_core.actions import Action, Input
from erp_core.errors import NotFound, PermissionDenied, ValidationError
from erp_core.extensions import db
from erp_core.permissions import request_user
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


# The counter's buttons are the modules' own declared actions (same permission, inputs, state
# check and audit); the screen only names the scanned code differently.
COUNTER_ACTIONS = {"lend": ("Loan", "lend", "asset_code", "receipt"),
                   "return": ("Loan", "return_", "asset_code", "return_receipt"),
                   "disinfect": ("Loan", "disinfect", "asset_code", None),
                   "sell": ("Sale", "sell", None, "receipt"),
                   "store": ("Storage", "store", None, "tag_print"),
                   "pickup": ("Storage", "pickup", "tag", "slip_print")}


def _counter_act(action, body, user):
    perm, name, code_key, printed = COUNTER_ACTIONS[action]
    spec = actions.named(perm, name)
    body = dict(body)
    if code_key and "code" in body:
        body[code_key] = body.pop("code")
    if "signature" not in spec.inputs:       # the screen sends its pad with every panel
        body.pop("signature", None)
    if action == "return" and "asset_code" in body and not body.get("asset_code"):
        raise NotFound(_("%(code)s is not out on loan.", code=""))
    result = spec.execute(body, user)
    return {"done": action, **result, "print": result.get(printed) if printed else None}


class CounterApi(ActionApi):
    resource_name = "counter"
    class_permission_name = "Counter"
    method_permission_name = {"lookup": "read", "act": "read", "clerk": "read"}

    @expose("/lookup", methods=["GET"])
    @protect()
    @safe
    def lookup(self):
        return self.run(lambda body, user: lookup(body.get("code")))

    @expose("/act/<action>", methods=["POST"])
    @protect()
    @safe
    def act(self, action):
        if action not in COUNTER_ACTIONS:
            return self.response(404, message=_("Unknown action: %(action)s", action=action))
        return self.run(lambda body, user: _counter_act(action, body, user))

    @expose("/clerk", methods=["POST", "DELETE"])
    @protect()
    @safe
    def clerk(self):
        """Switch the clerk on duty on a shared counter login (username + PIN), or back."""
        if request.method == "DELETE":
            session.pop("houqin_clerk", None)
            return self.response(200, clerk=request_user().username)

        def work(body, user):
            username, pin = str(body.get("username", "")).strip(), body.get("pin")
            if not rentals.verify_clerk_pin(username, pin if isinstance(pin, str) else ""):
                db.session.commit()          # the failed try counts, whatever happens next
                raise PermissionDenied(_("Wrong clerk or PIN."))
            session["houqin_clerk"] = username
            return {"clerk": username}
        return self.run(work)

    # a clerk sets her own PIN, signed in as herself; a supervisor can only reset one
    pin = Action(_l("Set my counter PIN"), lambda _d, inp, user: _set_pin(inp, user), permission="read",
                 inputs=dict(pin=Input("text", _l("New PIN"), required=True, max_length=12)))
    reset_pin = Action(_l("Reset a clerk's PIN"), lambda _d, inp, user: _reset_pin(inp, user), permission="write",
                       inputs=dict(username=Input("text", _l("Clerk"), required=True, max_length=64)),
                       route="/pin/reset")


def _set_pin(inp, user):
    rentals.set_clerk_pin(user.username, inp["pin"], by=user)
    return {"username": user.username}


def _reset_pin(inp, user):
    from flask import current_app
    if not current_app.appbuilder.sm.find_user(username=inp["username"]):
        raise NotFound(_("Unknown user."))
    rentals.reset_clerk_pin(inp["username"], by=user)
    return {"username": inp["username"], "reset": True}


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
