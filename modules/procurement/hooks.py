from flask_babel import lazy_gettext as _l

from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

from .models import EXPERT, MANAGER, OFFICER

READ = ["read", "print", "export"]


@hookimpl
def houqin_roles():
    # "Evaluation" is the experts' scoring desk, their only door: the tender's page, its history
    # and the bids name the bidders, and experts score blind (bids by label, their tenders only).
    return {
        OFFICER: {"BudgetLine": READ, "Tender": ["read", "create", "write", "delete", "print", "export"],
                  "Bid": ["read", "create", "write", "print", "export"], "Vendor": ["read"],
                  "Evaluation": ["print"]},
        MANAGER: {"BudgetLine": ["read", "create", "write", "delete", "print", "export", "import"],
                  "Tender": READ, "Bid": READ, "Vendor": ["read"], "Evaluation": ["print"]},
        EXPERT: {"Evaluation": ["read", "write", "print"]},
        "Auditor": {"BudgetLine": ["read", "export"], "Tender": ["read", "export"], "Bid": ["read", "export"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import BidDeskApi, ScoringApi, ScoringView, TenderActionsApi
    appbuilder.add_api(TenderActionsApi)
    appbuilder.add_api(BidDeskApi)
    appbuilder.add_api(ScoringApi)
    from flask import current_app
    from .views import desk
    current_app.jinja_env.globals["procurement_desk"] = desk
    appbuilder.add_view(ScoringView, "Scoring", label=_l("My evaluations"), icon="fa-pencil-square-o",
                        category="procurement", href="/procurement/scoring/")


def _context(doc):
    from . import services
    from .models import METHODS, EVALUATION, TIE_RULE
    return {"methods": METHODS, "evaluations": EVALUATION, "tie_rule": TIE_RULE, "services": services}


def _opened(doc):
    from erp_core.errors import Conflict
    from flask_babel import gettext as _
    if doc.workflow_state in ("draft", "approved", "published", "closed"):
        raise Conflict(_("The bids of %(doc)s are not opened yet.", doc=doc.name))
    return _context(doc)


def _evaluated(doc):
    from erp_core.errors import Conflict
    from flask_babel import gettext as _
    if doc.workflow_state in ("draft", "approved", "published", "closed", "opened"):
        raise Conflict(_("%(doc)s is not evaluated yet.", doc=doc.name))
    return _context(doc)


def _awarded(doc):
    from erp_core.errors import Conflict
    from flask_babel import gettext as _
    if doc.workflow_state not in ("awarded", "contracted"):
        raise Conflict(_("%(doc)s is not awarded yet.", doc=doc.name))
    return _context(doc)


def _non_award(bid):
    ctx = _awarded(bid.tender)
    if bid.recommended:
        from erp_core.errors import Conflict
        from flask_babel import gettext as _
        raise Conflict(_("%(doc)s won; print the award notice instead.", doc=bid.name))
    return ctx


def _filled_sheet(key):
    """Key ``<tender number>~<expert username>``: the expert's own sheet; others' after evaluation."""
    from erp_core.errors import Conflict, NotFound
    from erp_core.permissions import request_user
    from flask_babel import gettext as _
    from . import services
    tender_name, _sep, username = str(key).partition("~")
    t = services.find_tender(tender_name)
    user = request_user()
    member = next((m for m in t.members if m.user.username == username), None)
    if member is None:
        raise NotFound(_("Not found."))
    if member.user_id != user.id and t.workflow_state in ("draft", "approved", "published", "closed", "opened"):
        raise Conflict(_("The experts' scores are sealed until the evaluation is closed."))
    points = {(s.bid_id, s.criterion_id): s.points for s in member.scores}
    totals = {}
    for (bid_id, _c), value in points.items():
        if value is not None:
            totals[bid_id] = totals.get(bid_id, 0) + value
    return {"tender": t, "member": member, "points": points, "number": str(key), "totals": totals,
            "bids": sorted(services.valid_bids(t), key=lambda b: b.label)}


def _blank_sheet(doc):
    from . import services
    return {**_context(doc), "tender": doc, "bids": sorted(services.valid_bids(doc), key=lambda b: b.label), "points": {},
            "member": None, "totals": {}}


def _sheet_keys(date=None, period=None):
    """``<tender>~<expert>`` of every submitted scoring sheet (run.py print --all)."""
    from erp_core.extensions import db
    from erp_core.types import LOCAL_TZ
    from sqlalchemy import select
    from .models import Member
    out = []
    for m in db.session.scalars(select(Member).where(Member.submitted_at.is_not(None))):
        if m.submitted_at.astimezone(LOCAL_TZ).date().isoformat().startswith(date or period or ""):
            out.append(f"{m.tender.name}~{m.user.username}")
    return sorted(out)


@hookimpl
def houqin_print_formats():
    from .models import Bid, Tender
    return [
        PrintFormat("procurement.notice", _l("Tender notice"), "procurement/print/notice.html", Tender, _context),
        PrintFormat("procurement.bid_receipt", _l("Bid receipt"), "procurement/print/bid_receipt.html", Bid),
        PrintFormat("procurement.opening", _l("Bid opening record"), "procurement/print/opening.html", Tender, _opened,
                    landscape=True),
        PrintFormat("procurement.scoring_sheet", _l("Expert scoring sheet (blank)"),
                    "procurement/print/scoring_sheet.html", Tender, _blank_sheet),
        PrintFormat("procurement.scoring_filled", _l("Expert scoring sheet (filled)"),
                    "procurement/print/scoring_sheet.html", None, _filled_sheet, permission="Evaluation",
                    keys=_sheet_keys),
        PrintFormat("procurement.evaluation", _l("Evaluation summary"), "procurement/print/evaluation.html",
                    Tender, _evaluated, landscape=True),
        PrintFormat("procurement.award", _l("Award notice"), "procurement/print/award.html", Tender, _awarded),
        PrintFormat("procurement.non_award", _l("Non-award letter"), "procurement/print/non_award.html", Bid, _non_award),
    ]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)


@hookimpl
def houqin_cli(cli):
    import click

    @cli.group("tender")
    def tender():
        """Procurement tenders."""

    @tender.command("verify")
    @click.argument("number")
    @click.pass_context
    def verify(ctx, number):
        """Recompute every bid's SHA-256 of tender NUMBER and report any change; exit 1 if any."""
        from erp_core.cli import _app
        with _app(ctx.find_root()).app_context():
            _verify(number)

    def _verify(number):
        from erp_core.errors import NotFound
        from . import services
        try:
            t = services.find_tender(number)
        except NotFound as exc:
            raise click.ClickException(str(exc))
        results = services.verify(t)
        bad = 0
        for bid, problems in results:
            click.echo(f"{bid.name}  {bid.receipt_hash}  " + ("OK" if not problems else "CHANGED: " + "; ".join(map(str, problems))))
            bad += bool(problems)
        click.echo(f"{t.name}: {len(results)} bids, {bad} changed")
        if bad:
            raise SystemExit(1)
