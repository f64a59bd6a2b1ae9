"""Tender actions, the bid desk and the experts' blind scoring desk (API and page).

Generic CRUD, workflow buttons and history come from erp_core; these endpoints carry the
steps that are not a field edit: criteria, invitees, registration, bids, the committee,
objections, the manager's recorded decisions and the hash verification."""
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _
from sqlalchemy import select

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


class TenderActionsApi(ActionApi):
    resource_name = "tenders"
    class_permission_name = "Tender"
    method_permission_name = {"criteria": "write", "invitees": "write", "register": "write", "members": "write",
                              "objection": "write", "answer": "award", "budget_override": "approve",
                              "proceed": "approve", "verify": "read", "evaluation": "read", "budget": "read"}

    @expose("/<int:pk>/criteria", methods=["POST"])
    @protect()
    @safe
    def criteria(self, pk):
        """{"criteria": [{"title", "kind": "technical"|"commercial", "max_points"}]}"""
        return self.run(lambda b, u: tender_json(services.set_criteria(_tender(pk, u), b.get("criteria"), by=u)))

    @expose("/<int:pk>/invitees", methods=["POST"])
    @protect()
    @safe
    def invitees(self, pk):
        """{"vendors": [vendor number or credit code, ...]}"""
        def work(b, u):
            names = b.get("vendors")
            if not isinstance(names, list):
                raise ValidationError(_("Give the invited vendors as a list."))
            return tender_json(services.set_invitees(_tender(pk, u), [_vendor(n) for n in names], by=u))
        return self.run(work)

    @expose("/<int:pk>/register", methods=["POST"])
    @protect()
    @safe
    def register(self, pk):
        return self.run(lambda b, u: tender_json(services.register(_tender(pk, u), _vendor(b.get("vendor", "")), by=u)),
                        201)

    @expose("/<int:pk>/members", methods=["POST"])
    @protect()
    @safe
    def members(self, pk):
        """{"username": expert, "chair": false}"""
        return self.run(lambda b, u: tender_json(services.assign_member(
            _tender(pk, u), _user(b.get("username", "")), chair=b.get("chair") is True, by=u)), 201)

    @expose("/<int:pk>/budget_override", methods=["POST"])
    @protect()
    @safe
    def budget_override(self, pk):
        return self.run(lambda b, u: tender_json(services.override_budget(_tender(pk, u), b.get("reason"), by=u)))

    @expose("/<int:pk>/budget", methods=["GET"])
    @protect()
    @safe
    def budget(self, pk):
        def work(b, u):
            pos = services.budget_position(_tender(pk, u))
            return {k: str(v) for k, v in pos.items()}
        return self.run(work)

    @expose("/<int:pk>/proceed", methods=["POST"])
    @protect()
    @safe
    def proceed(self, pk):
        return self.run(lambda b, u: tender_json(services.record_proceed_decision(_tender(pk, u), b.get("reason"), by=u)))

    @expose("/<int:pk>/objections", methods=["POST"])
    @protect()
    @safe
    def objection(self, pk):
        def work(b, u):
            o = services.raise_objection(_tender(pk, u), raised_by=b.get("raised_by"), content=b.get("content"), by=u)
            return {"id": o.id}
        return self.run(work, 201)

    @expose("/<int:pk>/objections/<int:oid>/answer", methods=["POST"])
    @protect()
    @safe
    def answer(self, pk, oid):
        """{"answer", "upheld": false, "disqualify": bid number}"""
        def work(b, u):
            services.answer_objection(_tender(pk, u), oid, answer=b.get("answer"), upheld=b.get("upheld") is True,
                                      disqualify=b.get("disqualify"), by=u)
            return tender_json(_tender(pk, u))
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
    method_permission_name = {"receive": "create", "bond": "write", "document": "read"}

    @expose("/<int:pk>", methods=["POST"])
    @protect()
    @safe
    def receive(self, pk):
        """Tender id; {"vendor", "price", "technical", "bond_paid", "files": [{"filename", "content": base64}]}"""
        def work(b, u):
            t = _tender(pk, u)
            return bid_json(services.record_bid(t, _vendor(b.get("vendor", "")), price=b.get("price", ""),
                                                technical=b.get("technical", ""), files=b.get("files") or (),
                                                bond_paid=b.get("bond_paid") is True, by=u))
        return self.run(work, 201)

    @expose("/bond/<int:bid_id>", methods=["POST"])
    @protect()
    @safe
    def bond(self, bid_id):
        def work(b, u):
            bid = db.session.scalars(scoped_select(Bid, u).where(Bid.id == bid_id)).first()
            if bid is None:
                raise NotFound(_("Not found."))
            services.set_bond_paid(bid, b.get("paid") is True, by=u)
            return {"bid": bid.name, "bond_paid": bid.bond_paid}
        return self.run(work)


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
            if bid.technical is None:
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
    method_permission_name = {"sheet": "read", "declare": "write", "score": "write", "submit": "write"}

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def sheet(self, pk):
        return self.run(lambda b, u: services.scoring_sheet(_seat(pk, u), u))

    @expose("/<int:pk>/declare", methods=["POST"])
    @protect()
    @safe
    def declare(self, pk):
        """{"no_conflict": true, "statement": ""}"""
        def work(b, u):
            t = _seat(pk, u)
            services.declare(t, u, no_conflict=b.get("no_conflict"), statement=b.get("statement", ""))
            return services.scoring_sheet(t, u)
        return self.run(work)

    @expose("/<int:pk>/scores", methods=["POST"])
    @protect()
    @safe
    def score(self, pk):
        """{"scores": [{"bid": "A", "criterion": id, "points": "18.5"}]}"""
        def work(b, u):
            t = _seat(pk, u)
            services.score(t, u, b.get("scores"))
            return services.scoring_sheet(t, u)
        return self.run(work)

    @expose("/<int:pk>/submit", methods=["POST"])
    @protect()
    @safe
    def submit(self, pk):
        def work(b, u):
            t = _seat(pk, u)
            services.submit_scores(t, u)
            return services.scoring_sheet(t, u)
        return self.run(work, body_required=False)


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
