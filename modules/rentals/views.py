"""Rental actions over the API, the availability board, the overdue list and the signature pad."""
from datetime import date
from decimal import Decimal

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from erp_core import replica
from erp_core.actions import Action, Input
from erp_core.context import actor
from erp_core.errors import NotFound, PermissionDenied, UserError, ValidationError
from erp_core.extensions import db
from erp_core.views import ActionApi
from erp_core.permissions import request_user, scoped_select, user_can
from erp_core.types import now

from . import services
from .models import ASSET_STATES, AVAILABLE, DISINFECTION, MAINTENANCE, OPEN, PAYMENT_METHODS, Asset, ItemType, Loan

ACTIONS = {"lend": "create", "return_": "write", "signature": "write", "lost": "lost", "disinfect": "disinfect",
           "availability": "read", "overdue": "read", "cash_summary": "read", "board": "read",
           "overdue_list": "read", "sign": "write"}


def loan_json(loan):
    return dict(id=loan.id, name=loan.name, asset=loan.asset.code, borrower=loan.borrower_name,
                status=loan.status, deposit=str(loan.deposit), rental_fee=str(loan.rental_fee),
                late_fee=str(loan.late_fee), damage_charge=str(loan.damage_charge), refund=str(loan.refund),
                balance_due=str(loan.balance_due), due_at=loan.due_at.isoformat(),
                receipt=f"/print/rentals.receipt/{loan.name}.pdf",
                return_receipt=f"/print/rentals.return_receipt/{loan.name}.pdf")


def availability():
    """Per item type: how many are available, out, waiting for disinfection, in maintenance."""
    rows = db.session.execute(select(ItemType.title, Asset.status, func.count())
                              .join(Asset, Asset.item_type_id == ItemType.id)
                              .group_by(ItemType.title, Asset.status).order_by(ItemType.title)).all()
    board = {}
    for title, status, count in rows:
        board.setdefault(title, {s: 0 for s in ASSET_STATES})[status] = count
    return board


def overdue(user):
    # the asset and item type with each loan: one query, not two more per overdue loan
    stmt = scoped_select(Loan, user).where(Loan.status == OPEN, Loan.due_at < now()).order_by(Loan.due_at) \
        .options(joinedload(Loan.asset), joinedload(Loan.item_type))
    return db.session.scalars(stmt).all()


def _disinfected(asset, inp):
    services.disinfect(asset, method=inp["method"], note=inp["note"] or "", by=actor())
    return {"asset": asset.code, "status": asset.status}


def _loan(body, user):
    if body.get("loan"):
        loan = db.session.scalars(scoped_select(Loan, user).where(Loan.name == str(body["loan"]))).first()
    else:
        asset = services.find_asset(body.get("asset_code"))
        loan = services.open_loan_of(asset) if asset else None
    if loan is None:
        raise NotFound(_("No open loan found for that number or asset code."))
    return loan


def _find_asset(inp, user):
    asset = services.find_asset(inp.get("asset_code") or inp.get("code"))
    if asset is None:
        raise NotFound(_("Unknown asset code: %(code)s", code=inp.get("asset_code") or inp.get("code") or ""))
    return asset


def _lend(asset, inp, user):
    return loan_json(services.lend(asset, borrower_name=inp["borrower_name"], ward_bed=inp["ward_bed"] or "",
                                   phone=inp["phone"] or "", id_card=inp["id_card"] or "", deposit=inp["deposit"],
                                   payment_method=inp["payment_method"], due_at=inp.get("due_at"),
                                   signature_png=inp["signature"], by=actor()))


def _return(loan, inp, user):
    # the server's clock; a supervisor may record another time with a reason (audited with the action)
    if inp.get("returned_at") is not None:
        if not user_can(user, "backdate", "Loan"):
            raise PermissionDenied(_("Only a supervisor may record another return time."))
        if not inp.get("time_reason"):
            raise ValidationError(_("Say why the return time differs from now."))
        if inp["returned_at"] > now():
            raise ValidationError(_("A return cannot be recorded in the future."))
    return loan_json(services.return_loan(loan, returned_at=inp.get("returned_at"), damaged=inp["damaged"],
                                          damage_note=inp["damage_note"] or "", damage_charge=inp["damage_charge"],
                                          signature_png=inp["signature"], by=actor()))


LEND_INPUTS = dict(
    borrower_name=Input("text", _l("Borrower"), required=True, max_length=100),
    ward_bed=Input("text", _l("Ward and bed"), max_length=40), phone=Input("text", _l("Phone"), max_length=20),
    id_card=Input("text", _l("ID card number"), max_length=30), deposit=Input("money", _l("Deposit")),
    payment_method=Input("choice", _l("Payment method"), choices=PAYMENT_METHODS, default="cash"),
    signature=Input("signature", _l("Borrower's signature")))
RETURN_INPUTS = dict(
    damaged=Input("bool", _l("Damaged"), default=False), damage_note=Input("text", _l("Damage"), max_length=500),
    damage_charge=Input("money", _l("Damage charge"), default=Decimal("0")),
    signature=Input("signature", _l("Borrower's signature")))
BACKDATE_INPUTS = dict(returned_at=Input("datetime", _l("Returned at (if not now)")),
                       time_reason=Input("text", _l("Why another time"), max_length=200))


class RentalsApi(ActionApi):
    """/api/v1/rentals/...: what the counter does, as JSON."""
    resource_name = "rentals"
    class_permission_name = "Loan"
    method_permission_name = ACTIONS
    openapi_spec_tag = "Rentals"

    lend = Action(_l("Lend"), _lend, permission="create", status=201, doc=Asset, states=(AVAILABLE,),
                  find=_find_asset, inputs=dict(asset_code=Input("text", _l("Asset code"), max_length=40, locator=True),
                                                due_at=Input("datetime", _l("Due back")), **LEND_INPUTS))
    return_ = Action(_l("Return"), _return, permission="write", route="/return", doc=Loan, states=(OPEN,),
                     find=lambda inp, user: _loan(inp, user),
                     inputs=dict(loan=Input("text", _l("Loan number"), max_length=64, locator=True),
                                 asset_code=Input("text", _l("Asset code"), max_length=40, locator=True),
                                 **RETURN_INPUTS, **BACKDATE_INPUTS))
    signature = Action(_l("Add a signature"), lambda loan, inp, user: loan_json(services.add_signature(
                           loan, inp["kind"], inp["png"], by=actor())), permission="write", doc=Loan, button=False,
                       find=lambda inp, user: _loan(inp, user),
                       inputs=dict(loan=Input("text", _l("Loan number"), max_length=64, locator=True),
                                   asset_code=Input("text", _l("Asset code"), max_length=40, locator=True),
                                   kind=Input("choice", _l("Signature"), choices={"handover": _l("Handover"),
                                                                                   "return": _l("Return")},
                                              default="handover"),
                                   png=Input("signature", _l("Signature"), required=True)))
    lost = Action(_l("Mark as lost"), lambda loan, inp, user: loan_json(services.mark_lost(loan, by=actor())),
                  permission="lost", doc=Loan, states=(OPEN,), find=lambda inp, user: _loan(inp, user),
                  confirm=_l("The whole deposit is forfeited. Mark this loan as lost?"), style="danger",
                  inputs=dict(loan=Input("text", _l("Loan number"), max_length=64, locator=True),
                              asset_code=Input("text", _l("Asset code"), max_length=40, locator=True)))
    disinfect = Action(_l("Record disinfection"), lambda asset, inp, user: _disinfected(asset, inp),
                       permission="disinfect", doc=Asset, states=(DISINFECTION, MAINTENANCE), find=_find_asset,
                       inputs=dict(asset_code=Input("text", _l("Asset code"), max_length=40, locator=True),
                                   method=Input("text", _l("Method"), required=True, max_length=200),
                                   note=Input("text", _l("Note"), max_length=500)))

    @expose("/availability", methods=["GET"])
    @protect()
    @safe
    def availability(self):
        return self.response(200, result=availability())

    @expose("/overdue", methods=["GET"])
    @protect()
    @safe
    def overdue(self):
        return self.response(200, result=[loan_json(loan) for loan in overdue(request_user())])

    @expose("/cash_summary", methods=["GET"])
    @protect()
    @safe
    @replica.reads
    def cash_summary(self):
        try:
            day = date.fromisoformat(request.args.get("day") or now().date().isoformat())
        except ValueError:
            return self.response(400, message=_("The day must be written YYYY-MM-DD."))
        rows = services.cash_summary(day, request.args.get("clerk"))
        return self.response(200, day=day.isoformat(), result=[{k: str(v) for k, v in r.items()} for r in rows])


class RentalsView(BaseView):
    """Pages for the front desk besides the generic lists."""
    route_base = "/rentals"
    default_view = "board"
    class_permission_name = "Loan"
    method_permission_name = ACTIONS

    @expose("/board/")
    @has_access
    def board(self):
        return self.render_template("rentals/board.html", board=availability(), states=ASSET_STATES,
                                    waiting=db.session.scalars(select(Asset).where(Asset.status.in_(
                                        ["disinfection", "maintenance"])).order_by(Asset.code)).all())

    @expose("/overdue/")
    @has_access
    def overdue_list(self):
        return self.render_template("rentals/overdue.html", loans=overdue(request_user()), now=now())

    @expose("/sign/<int:pk>/<kind>")
    @has_access
    def sign(self, pk, kind):
        loan = db.session.scalars(scoped_select(Loan, request_user()).where(Loan.id == pk)).first()
        if loan is None or kind not in ("handover", "return"):
            raise NotFound(_("Not found."))
        return self.render_template("rentals/sign.html", loan=loan, kind=kind)
