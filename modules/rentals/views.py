"""Rental actions over the API, the availability board, the overdue list and the signature pad."""
from datetime import date

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.extensions import db
from erp_core.views import ActionApi
from erp_core.permissions import request_user, scoped_select
from erp_core.types import now

from . import services
from .models import ASSET_STATES, OPEN, Asset, ItemType, Loan

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
    stmt = scoped_select(Loan, user).where(Loan.status == OPEN, Loan.due_at < now()).order_by(Loan.due_at)
    return db.session.scalars(stmt).all()


def _loan(body, user):
    if body.get("loan"):
        loan = db.session.scalars(scoped_select(Loan, user).where(Loan.name == str(body["loan"]))).first()
    else:
        asset = services.find_asset(body.get("asset_code"))
        loan = services.open_loan_of(asset) if asset else None
    if loan is None:
        raise NotFound(_("No open loan found for that number or asset code."))
    return loan


class RentalsApi(ActionApi):
    """/api/v1/rentals/...: what the counter does, as JSON."""
    resource_name = "rentals"
    class_permission_name = "Loan"
    method_permission_name = ACTIONS
    openapi_spec_tag = "Rentals"

    @expose("/lend", methods=["POST"])
    @protect()
    @safe
    def lend(self):
        def work(body, user):
            asset = services.find_asset(body.get("asset_code"))
            if asset is None:
                raise NotFound(_("Unknown asset code: %(code)s", code=body.get("asset_code") or ""))
            loan = services.lend(asset, borrower_name=body.get("borrower_name", ""),
                                 ward_bed=body.get("ward_bed", ""), phone=body.get("phone", ""),
                                 id_card=body.get("id_card", ""), deposit=body.get("deposit"),
                                 payment_method=body.get("payment_method", "cash"), due_at=_time(body.get("due_at")),
                                 signature_png=body.get("signature"), by=user)
            return loan_json(loan)
        return self.run(work, 201)

    @expose("/return", methods=["POST"])
    @protect()
    @safe
    def return_(self):
        def work(body, user):
            loan = services.return_loan(_loan(body, user), returned_at=_time(body.get("returned_at")),
                                        damaged=bool(body.get("damaged")), damage_note=body.get("damage_note", ""),
                                        damage_charge=_money(body.get("damage_charge", "0")),
                                        signature_png=body.get("signature"), by=user)
            return loan_json(loan)
        return self.run(work)

    @expose("/signature", methods=["POST"])
    @protect()
    @safe
    def signature(self):
        def work(body, user):
            loan = services.add_signature(_loan(body, user), body.get("kind", "handover"), body.get("png"), by=user)
            return loan_json(loan)
        return self.run(work)

    @expose("/lost", methods=["POST"])
    @protect()
    @safe
    def lost(self):
        return self.run(lambda body, user: loan_json(services.mark_lost(_loan(body, user), by=user)))

    @expose("/disinfect", methods=["POST"])
    @protect()
    @safe
    def disinfect(self):
        def work(body, user):
            asset = services.find_asset(body.get("asset_code"))
            if asset is None:
                raise NotFound(_("Unknown asset code: %(code)s", code=body.get("asset_code") or ""))
            services.disinfect(asset, method=body.get("method", ""), note=body.get("note", ""), by=user)
            return {"asset": asset.code, "status": asset.status}
        return self.run(work)

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
    def cash_summary(self):
        try:
            day = date.fromisoformat(request.args.get("day") or now().date().isoformat())
        except ValueError:
            return self.response(400, message=_("The day must be written YYYY-MM-DD."))
        rows = services.cash_summary(day, request.args.get("clerk"))
        return self.response(200, day=day.isoformat(), result=[{k: str(v) for k, v in r.items()} for r in rows])


def _time(value):
    from datetime import datetime
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("Times are written like 2026-11-24T15:30."))


def _money(value):
    from erp_core.money import D
    return D(value or "0")


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
