"""The counter screen and its JSON actions. Every action acts as the clerk on duty
(erp_core.context.actor) and checks the permission of the document it touches."""
from datetime import datetime, timedelta
from decimal import Decimal

from flask import request, session
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l

from erp_core.context import actor
from erp_core.display import format_datetime_local, person_name, yuan
from erp_core.types import now
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
from modules.rentals.services import compute_fee
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
        kind = asset.item_type
        return {"kind": "asset", "code": asset.code, "title": str(kind), "status": asset.status,
                "status_label": str(asset.status_label), "deposit": str(kind.deposit), "terms": fee_terms(kind),
                "due_text": format_datetime_local(now() + timedelta(hours=kind.loan_hours)),
                "loan": loan_json(loan) | {"borrower": loan.borrower_name, "ward_bed": loan.ward_bed,
                                           **return_quote(loan)} if loan else None}
    storage = shop.find_tag(code)
    if storage is not None:
        return {"kind": "tag", **storage_json(storage), "description": storage.description,
                "status_label": str(_l("Stored") if storage.status == "stored" else _l("Already picked up"))}
    item = shop.find_item(code)
    if item is not None:
        return {"kind": "item", "code": item.code, "title": item.title, "price": str(item.price),
                "stock": item.stock, "unit": item.unit}
    raise NotFound(_("Nothing found for %(code)s.", code=code))


def fee_terms(kind):
    """The fee rule in words, read to the borrower before signing."""
    parts = [_("first %(n)s minutes free", n=kind.free_minutes)] if kind.free_minutes else []
    per = _("%(rate)s per day", rate=yuan(kind.rate)) if kind.rate_unit == "day" else \
        _("%(rate)s per hour", rate=yuan(kind.rate))
    parts.append(per)
    if kind.daily_cap is not None and kind.rate_unit != "day":
        parts.append(_("at most %(cap)s a day", cap=yuan(kind.daily_cap)))
    if kind.late_fee_per_day:
        parts.append(_("late fee %(fee)s per started day", fee=yuan(kind.late_fee_per_day)))
    return "，".join(parts)


def return_quote(loan):
    """What a return now would charge and refund (before any damage charge), shown before confirming."""
    rental, late = compute_fee(loan.item_type, loan.lent_at, now(), loan.due_at)
    return {"rental_now": str(rental), "late_now": str(late), "due_text": format_datetime_local(loan.due_at),
            "lent_text": format_datetime_local(loan.lent_at), "overdue": now() > loan.due_at}


def summary(action, r):
    """The result in words: what was made and what the amount is."""
    if action == "lend":
        return _("Loan %(name)s · %(asset)s · deposit %(deposit)s · due back %(due)s", name=r["name"], asset=r["asset"],
                 deposit=yuan(r["deposit"]), due=format_datetime_local(datetime.fromisoformat(r["due_at"])))
    if action == "return":
        text = _("Loan %(name)s returned · fees %(fees)s · refund %(refund)s", name=r["name"],
                 fees=yuan(Decimal(r["rental_fee"]) + Decimal(r["late_fee"]) + Decimal(r["damage_charge"])),
                 refund=yuan(r["refund"]))
        if Decimal(r["balance_due"]):
            text += " · " + _("still to pay %(amount)s", amount=yuan(r["balance_due"]))
        return text
    if action == "disinfect":
        return _("%(code)s disinfected, ready to lend", code=r.get("code", ""))
    if action == "sell":
        return _("Sale %(name)s · total %(total)s", name=r["name"], total=yuan(r["total"]))
    if action == "store":
        return _("Storage tag %(tag)s · %(count)s pieces", tag=r["tag"], count=r["items_count"])
    return _("Storage tag %(tag)s handed back", tag=r["tag"])


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
    return {"done": action, **result, "print": result.get(printed) if printed else None,
            "summary": summary(action, result)}


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
            return self.response(200, clerk=request_user().username, name=person_name(request_user().username))

        def work(body, user):
            username, pin = str(body.get("username", "")).strip(), body.get("pin")
            if not rentals.verify_clerk_pin(username, pin if isinstance(pin, str) else ""):
                db.session.commit()          # the failed try counts, whatever happens next
                raise PermissionDenied(_("Wrong clerk or PIN."))
            session["houqin_clerk"] = username
            return {"clerk": username, "name": person_name(username)}
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
                                    methods=DISINFECTION_METHODS, clerk=person_name(actor()))
