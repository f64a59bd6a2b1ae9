"""Tender actions, the bid desk and the experts' blind scoring desk (API and page).

Generic CRUD, workflow buttons and history come from erp_core; these endpoints carry the
steps that are not a field edit: criteria, invitees, registration, bids, the committee,
objections, the manager's recorded decisions and the hash verification."""
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core.actions import Action, Input
from erp_core.errors import NotFound, ValidationError
from erp_core.extensions import db
from erp_core.permissions import request_user, scoped_select
from erp_core.views import ActionApi

from . import services
from .models import Bid, Tender


def _tender(pk, user):
    t = db.session.scalars(scoped_select(Tender, user).where(Tender.id == pk)).first()
    if t is None:
        raise NotFound(_("Not found."))
    return t


def _committee_tenders(user):
    """The scoring desk's tenders: those the expert sits on (experts do not read tenders)."""
    from .models import Member
    return select(Tender).join(Member, Member.tender_id == Tender.id).where(Member.user_id == user.id)


def _seat(pk, user):
    t = db.session.scalars(_committee_tenders(user).where(Tender.id == pk)).first()
    if t is None:
        raise NotFound(_("Not found."))
    return t


def _vendor(name):
    from modules.vendor_contracts.models import Vendor
    v = db.session.scalars(select(Vendor).where((Vendor.name == str(name)) | (Vendor.credit_code == str(name)))).first()
    if v is None:
        raise NotFound(_("Unknown vendor: %(name)s", name=str(name)[:40]))
    return v


def _user(username):
    from flask_appbuilder.security.sqla.models import User
    u = db.session.scalars(select(User).where(User.username == str(username))).first()
    if u is None:
        raise NotFound(_("Unknown user: %(name)s", name=str(username)[:40]))
    return u


def tender_json(t):
    return {"id": t.id, "name": t.name, "title": t.title, "state": t.workflow_state, "method": t.method,
            "bids": len(t.bids), "registrations": len(t.registrations), "invitees": len(t.invitees),
            "members": [m.user.username for m in t.members], "winner": t.winner.name if t.winner else None,
            "contract": t.contract_name or None}


def bid_json(bid):
    return {"id": bid.id, "name": bid.name, "tender": bid.tender.name, "sha256": bid.receipt_hash,
            "submitted_at": bid.submitted_at.isoformat(), "receipt": f"/print/procurement.bid_receipt/{bid.name}.pdf"}


def bid_files(bid):
    from .models import BidFile
    return db.session.execute(select(BidFile.id, BidFile.filename).where(BidFile.bid_id == bid.id)
                              .order_by(BidFile.id)).all()


def desk(t):
    """What the tender's show page offers the current user now."""
    from erp_core.permissions import user_can
    from modules.vendor_contracts.models import Vendor
    from .models import EVALUATION, METHODS
    user, state = request_user(), t.workflow_state
    can = lambda action, perm="Tender": user_can(user, action, perm)     # noqa: E731
    opened = state not in ("draft", "approved", "published", "closed")
    return {"budget": services.budget_position(t) if t.budget_line else None, "methods": METHODS,
            "evaluations": EVALUATION, "opened": opened,
            "vendors": db.session.scalars(select(Vendor).order_by(Vendor.legal_name)).all(),
            "registered": [r.vendor for r in t.registrations],
            "setup": can("write") and state == "draft", "invite": can("write") and state in ("draft", "approved"),
            "committee": can("write") and state in ("approved", "published", "closed"),
            "register": can("write") and state == "published", "bid": can("create", "Bid") and state == "published",
            "override": can("approve") and state == "draft", "proceed": can("approve") and state == "opened",
            "object": can("write") and state == "publicity", "answer": can("award") and state == "publicity",
            "see_bids": can("read", "Bid"), "files": bid_files}


def _vendors(names):
    return [_vendor(n) for n in names]


def _tj(fn):
    """An action whose service returns the tender: answer with the tender's JSON."""
    return lambda t, inp, user: tender_json(fn(t, inp, user) or t)


REASON = Input("text", _l("Reason"), required=True, max_length=1000)


class TenderActionsApi(ActionApi):
    resource_name = "tenders"
    class_permission_name = "Tender"
    method_permission_name = {"verify": "read", "evaluation": "read", "budget": "read"}

    criteria = Action(_l("Set the criteria"), _tj(lambda t, i, u: services.set_criteria(t, i["criteria"], by=u)),
                      permission="write", doc=Tender, states=("draft",), route="/<int:pk>/criteria", button=False,
                      inputs=dict(criteria=Input("list", _l("Criteria"), required=True)))
    invitees = Action(_l("Invite vendors"), _tj(lambda t, i, u: services.set_invitees(t, _vendors(i["vendors"]), by=u)),
                      permission="write", doc=Tender, states=("draft", "approved"), route="/<int:pk>/invitees",
                      button=False, inputs=dict(vendors=Input("list", _l("Vendors"), required=True)))
    register = Action(_l("Register a vendor"), _tj(lambda t, i, u: services.register(t, _vendor(i["vendor"]), by=u)),
                      permission="write", doc=Tender, states=("published",), route="/<int:pk>/register", status=201,
                      button=False, inputs=dict(vendor=Input("text", _l("Vendor"), required=True, max_length=64)))
    members = Action(_l("Add to the committee"), _tj(lambda t, i, u: services.assign_member(
                         t, _user(i["username"]), chair=i["chair"], by=u)),
                     permission="write", doc=Tender, states=("approved", "published", "closed"), status=201,
                     route="/<int:pk>/members", button=False,
                     inputs=dict(username=Input("text", _l("Expert"), required=True, max_length=64),
                                 chair=Input("bool", _l("Chair"), default=False)))
    # the manager's recorded decisions: only through these, never a field edit
    budget_override = Action(_l("Allow the budget overrun"), _tj(lambda t, i, u: services.override_budget(
                                 t, i["reason"], by=u)), permission="approve", doc=Tender, states=("draft",),
                             route="/<int:pk>/budget_override", inputs=dict(reason=REASON), button=False,
                             confirm=_l("Record your decision to let this tender exceed its budget line?"))
    proceed = Action(_l("Decide to proceed"), _tj(lambda t, i, u: services.record_proceed_decision(
                         t, i["reason"], by=u)), permission="approve", doc=Tender, states=("opened",),
                     route="/<int:pk>/proceed", inputs=dict(reason=REASON), button=False)
    objection = Action(_l("Record an objection"), lambda t, i, u: {"id": services.raise_objection(
                           t, raised_by=i["raised_by"], content=i["content"], by=u).id},
                       permission="write", doc=Tender, states=("publicity",), route="/<int:pk>/objections", status=201, button=False,
                       inputs=dict(raised_by=Input("text", _l("Raised by"), required=True, max_length=200),
                                   content=Input("text", _l("Objection"), required=True, max_length=5000)))
    answer = Action(_l("Answer an objection"), _tj(lambda t, i, u: services.answer_objection(
                        t, i["oid"], answer=i["answer"], upheld=i["upheld"], disqualify=i["disqualify"], by=u)),
                    permission="award", doc=Tender, states=("publicity",), route="/<int:pk>/objections/<int:oid>/answer", button=False,
                    inputs=dict(oid=Input("int", _l("Objection"), required=True, min=1),
                                answer=Input("text", _l("Answer"), required=True, max_length=5000),
                                upheld=Input("bool", _l("Upheld"), default=False),
                                disqualify=Input("text", _l("Disqualify bid"), max_length=64)))

    @expose("/<int:pk>/budget", methods=["GET"])
    @protect()
    @safe
    def budget(self, pk):
        def work(b, u):
            pos = services.budget_position(_tender(pk, u))
            return {k: str(v) for k, v in pos.items()}
        return self.run(work)

    @expose("/<int:pk>/evaluation", methods=["GET"])
    @protect()
    @safe
    def evaluation(self, pk):
        """Ranking and every expert's points: sealed until the evaluation is closed."""
        def work(b, u):
            t = _tender(pk, u)
            scores = services.all_scores(t)
            return {"tender": t.name, "scores": scores, "tie_rule": str(_tie_rule()),
                    "ranking": [{"bid": x.name, "label": x.label, "vendor": x.vendor.legal_name, "price": str(x.price),
                                 "technical": _s(x.technical_score), "price_score": _s(x.price_score),
                                 "total": _s(x.total_score), "rank": x.rank}
                                for x in sorted(services.valid_bids(t), key=lambda x: x.rank or 999)]}
        return self.run(work)

    @expose("/<int:pk>/verify", methods=["GET"])
    @protect()
    @safe
    def verify(self, pk):
        def work(b, u):
            results = services.verify(_tender(pk, u))
            return {"ok": not any(p for _b, p in results),
                    "bids": [{"bid": bid.name, "sha256": bid.receipt_hash, "problems": [str(p) for p in problems]}
                             for bid, problems in results]}
        return self.run(work)


def _s(value):
    return None if value is None else str(value)


def _tie_rule():
    from .models import TIE_RULE
    return TIE_RULE


class BidDeskApi(ActionApi):
    """The bid desk: sealed bids are received here (and only here)."""
    resource_name = "bid_desk"
    class_permission_name = "Bid"
    method_permission_name = {"document": "read"}

    receive = Action(_l("Receive a sealed bid"), lambda t, i, u: bid_json(services.record_bid(
                         t, _vendor(i["vendor"]), price=i["price"], technical=i["technical"] or "",
                         files=i["files"] or (), bond_paid=i["bond_paid"], by=u)),
                     permission="create", doc=Tender, states=("published",), route="/<int:pk>", status=201, button=False,
                     inputs=dict(vendor=Input("text", _l("Vendor"), required=True, max_length=64),
                                 price=Input("money", _l("Bid price"), required=True),
                                 technical=Input("text", _l("Technical proposal"), max_length=20000),
                                 files=Input("list", _l("Documents")), bond_paid=Input("bool", _l("Bond paid"), default=False)))
    bond = Action(_l("Bond paid"), lambda bid, i, u: {"bid": services.set_bond_paid(bid, i["paid"], by=u).name,
                                                      "bond_paid": bid.bond_paid},
                  permission="write", doc=Bid, route="/bond/<int:pk>", button=False,
                  inputs=dict(paid=Input("bool", _l("Paid"), required=True)))

    @expose("/file/<int:file_id>", methods=["GET"])
    @protect()
    @safe
    def document(self, file_id):
        """A document of a bid's technical envelope: sealed, like the envelope, until the opening."""
        from flask import Response
        from erp_core.errors import Conflict, UserError
        from erp_core.views import respond, user_error_status
        from .models import BidFile
        try:
            f = db.session.get(BidFile, file_id)
            bid = f and db.session.scalars(scoped_select(Bid, request_user()).where(Bid.id == f.bid_id)).first()
            if bid is None:
                raise NotFound(_("Not found."))
            if not services.envelope_opened(bid, "technical"):
                raise Conflict(_("The technical envelope of %(bid)s is sealed until the opening.", bid=bid.name))
        except UserError as exc:
            return respond(user_error_status(exc), {"message": str(exc)})
        from urllib.parse import quote
        return Response(f.data, mimetype="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.filename)}"})


class ScoringApi(ActionApi):
    """The expert's desk: declaration, blind scores by bid label, submission."""
    resource_name = "scoring"
    class_permission_name = "Evaluation"
    method_permission_name = {"sheet": "read"}

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def sheet(self, pk):
        return self.run(lambda b, u: services.scoring_sheet(_seat(pk, u), u))

    # the expert's own seat: only tenders whose committee she sits on (experts read no tenders)
    declare = Action(_l("Declare no conflict of interest"), lambda t, i, u: _declared(t, i, u), permission="write",
                     doc=Tender, load=_seat, route="/<int:pk>/declare", button=False,
                     inputs=dict(no_conflict=Input("bool", _l("No conflict of interest"), required=True),
                                 statement=Input("text", _l("Statement"), max_length=2000)))
    score = Action(_l("Score"), lambda t, i, u: (services.score(t, u, i["scores"]), services.scoring_sheet(t, u))[1],
                   permission="write", doc=Tender, load=_seat, route="/<int:pk>/scores", button=False,
                   inputs=dict(scores=Input("list", _l("Scores"), required=True)))
    submit = Action(_l("Submit my scores"), lambda t, i, u: (services.submit_scores(t, u),
                                                             services.scoring_sheet(t, u))[1],
                    permission="write", doc=Tender, load=_seat, route="/<int:pk>/submit", button=False)


def _declared(t, inp, user):
    services.declare(t, user, no_conflict=inp["no_conflict"], statement=inp["statement"] or "")
    return services.scoring_sheet(t, user)


class ScoringView(BaseView):
    """The expert's page: their tenders, then one tender's blind sheet (a form per bid)."""
    route_base = "/procurement/scoring"
    class_permission_name = "Evaluation"
    method_permission_name = {"index": "read", "tender": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        user = request_user()
        tenders = db.session.scalars(_committee_tenders(user).order_by(Tender.id.desc())).all()
        return self.render_template("procurement/scoring_index.html", tenders=tenders)

    @expose("/<int:pk>/")
    @has_access
    def tender(self, pk):
        user = request_user()
        t = _seat(pk, user)
        sheet = services.scoring_sheet(t, user)
        return self.render_template("procurement/scoring.html", t=t, sheet=sheet)
