from flask_babel import gettext as _, lazy_gettext as _l

from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

from .models import AUDITOR, COORD, MANAGER, OFFICER

ALL = ["read", "create", "write", "delete", "print", "export", "import"]
READ = ["read", "print", "export"]
DOCS = ["Person", "Certificate", "CertificateType", "Post", "Training", "Attendance", "AgreedHeadcount",
        "Violation", "Issue"]


@hookimpl
def houqin_roles():
    return {
        # the hospital's side: keeps the register, certificates, training, conduct and uniforms
        OFFICER: {**{d: ALL for d in DOCS}, "Person": ALL + ["flag"], "Violation": ALL + ["reply"]},
        # the vendor's counterpart: reads everything, agrees headcounts, records the vendor's replies
        COORD: {**{d: READ for d in DOCS}, "AgreedHeadcount": ALL, "Person": READ + ["reply"],
                "Violation": READ + ["reply"]},
        MANAGER: {d: READ for d in DOCS},
        AUDITOR: {d: ["read", "export"] for d in DOCS},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import CertificatesView, IssueActionsApi, PersonActionsApi, ViolationActionsApi, WorkforceView
    appbuilder.add_api(PersonActionsApi)
    appbuilder.add_api(ViolationActionsApi)
    appbuilder.add_api(IssueActionsApi)
    appbuilder.add_view(WorkforceView, "WorkforceFigures", label=_l("Headcount and turnover"), icon="fa-bar-chart",
                        category="workforce", href="/workforce/figures/")
    appbuilder.add_link("WorkforceFind", label=_l("Find by ID card"), href="/workforce/find/", icon="fa-search",
                        category="workforce", baseview=WorkforceView)
    appbuilder.add_view(CertificatesView, "CertificatesExpiring", label=_l("Certificates expiring in 30 days"),
                        icon="fa-hourglass-half", category="workforce", href="/workforce/certificates/expiring/")
    appbuilder.add_link("CertificatesExpired", label=_l("Expired certificates"),
                        href="/workforce/certificates/expired/", icon="fa-ban", category="workforce",
                        baseview=CertificatesView)
    from .views import IssuesView, history
    from flask import current_app
    current_app.jinja_env.globals.update(workforce_history=history)
    appbuilder.add_view(IssuesView, "IssuesOverdue", label=_l("Uniforms due for replacement"), icon="fa-clock-o",
                        category="workforce", href="/workforce/issues/overdue/")


def _roster_keys(date=None, period=None):
    from sqlalchemy import select
    from erp_core.extensions import db
    from modules.vendor_contracts.models import Vendor
    return sorted(db.session.scalars(select(Vendor.name)))


def _roster_context(key):
    """Key: the vendor's number, e.g. VND-00001: everyone of the vendor in the hospital now."""
    from sqlalchemy import select
    from erp_core.errors import NotFound
    from erp_core.extensions import db
    from erp_core.permissions import request_user, scoped_select
    from modules.vendor_contracts.models import Vendor
    from .models import LEFT, Person, today
    vendor = db.session.scalars(select(Vendor).where(Vendor.name == str(key))).first()
    if vendor is None:
        raise NotFound(_("Print a vendor's roster as /print/workforce.roster/<vendor number>.pdf"))
    stmt = scoped_select(Person, request_user()) if request_user() is not None else select(Person)
    people = db.session.scalars(stmt.where(Person.vendor_id == vendor.id, Person.status != LEFT)
                                .order_by(Person.department, Person.full_name)).all()
    return {"vendor": vendor, "people": people, "number": f"{vendor.name}-{today().isoformat()}", "day": today()}


@hookimpl
def houqin_print_formats():
    return [PrintFormat("workforce.roster", _l("Staff roster"), "workforce/print/roster.html", None, _roster_context,
                        permission="Person", keys=_roster_keys)]


@hookimpl
def houqin_dashboard_widgets():
    return []


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)


# --- the monthly assessment (vendor_contracts) --------------------------------------------

EVIDENCE = {"workforce.understaffed": _l("Posts below the contract's headcount"),
            "workforce.turnover": _l("Staff who left in the month"),
            "workforce.violation": _l("Conduct violations of the vendor's staff")}


@hookimpl(optionalhook=True)
def houqin_assessment_evidence_keys():
    return list(EVIDENCE.items())


@hookimpl(optionalhook=True)
def houqin_assessment_evidence(contract, year, month):
    """What the register saw of this contract in the month.

    * ``workforce.understaffed``: count = posts whose average daily headcount fell below the
      agreed headcount (AgreedHeadcount of this contract); the note gives the missing person-days,
      refs the posts.
    * ``workforce.turnover``: count = people of the contract who left in the month; the note gives
      the turnover rate (exits / average of the headcounts on the first and the last day).
    * ``workforce.violation``: count = the month's violations by the vendor's staff on this
      contract (or on none); refs = the violation numbers.
    """
    from sqlalchemy import or_, select
    from erp_core.extensions import db
    from .models import Person, Violation
    from .services import figures, month_bounds, totals
    rows = figures(year, month, contract_id=contract.id)
    short = [r for r in rows if r["understaffed"]]
    sums = totals(rows)
    first, last = month_bounds(year, month)
    violations = db.session.scalars(
        select(Violation.name).join(Person, Violation.person_id == Person.id)
        .where(Violation.vendor_id == contract.vendor_id, Violation.occurred_on.between(first, last),
               or_(Person.contract_id == contract.id, Person.contract_id.is_(None)))
        .order_by(Violation.occurred_on, Violation.name)).all()
    return [
        {"evidence": "workforce.understaffed", "count": len(short),
         "note": _("%(posts)s post(s) below the agreed headcount; %(days)s person-days missing.",
                   posts=len(short), days=sum(r["missing_days"] for r in rows)),
         "refs": [f"{r['post']}: {r['average']}/{r['agreed']}" for r in short]},
        {"evidence": "workforce.turnover", "count": sums["exits"],
         "note": _("Turnover %(rate)s (%(exits)s left; headcount %(start)s at the start, %(end)s at the end).",
                   rate=("-" if sums["turnover"] is None else f"{sums['turnover']}%"), exits=sums["exits"],
                   start=sums["start"], end=sums["end"]),
         "refs": [ref for r in rows for ref in r["exit_refs"]]},
        {"evidence": "workforce.violation", "count": len(violations),
         "note": _("%(n)s conduct violation(s) recorded in the month.", n=len(violations)), "refs": list(violations)},
    ]
