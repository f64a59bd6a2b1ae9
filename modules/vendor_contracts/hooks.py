import json
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from erp_core.dashboard import Widget
from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

ALL = ["read", "create", "write", "delete", "print", "export", "import"]
READ = ["read", "print", "export"]


@hookimpl
def houqin_roles():
    docs = ["Vendor", "VendorCertificate", "Contract", "AssessmentTemplate", "Assessment", "Rectification", "Escalation"]
    return {
        "Vendor Coordinator": {"Vendor": ALL, "VendorCertificate": ALL, "Contract": ALL, "AssessmentTemplate": ALL,
                               "Assessment": ["read", "create", "write", "print", "export"],
                               "Rectification": ["read", "create", "write", "print", "export"], "Escalation": READ},
        "Inspector": {"Vendor": ["read"], "Contract": ["read"], "AssessmentTemplate": ["read", "print"],
                      "Assessment": ["read", "create", "write", "print"], "Rectification": ["read", "create", "write", "print"]},
        "Logistics Manager": {d: READ for d in docs},
        "Auditor": {d: ["read", "export"] for d in docs},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from flask import current_app
    from .services import trend
    from .views import AssessmentActionsApi, AttentionView, ContractRulesApi, InspectView
    appbuilder.add_api(AssessmentActionsApi)
    appbuilder.add_api(ContractRulesApi)
    appbuilder.add_view(InspectView, "Inspect", label=_l("Inspection (phone)"), icon="fa-mobile",
                        category="vendor_contracts", href="/vendor_contracts/inspect/")
    appbuilder.add_view(AttentionView, "Attention", label=_l("Needs attention"), icon="fa-bell",
                        category="vendor_contracts", href="/vendor_contracts/attention/")
    appbuilder.add_link("Settlement", label=_l("Monthly settlement"), href="/vendor_contracts/attention/settlement/",
                        icon="fa-calculator", category="vendor_contracts", baseview=AttentionView)
    from .engine import band_text
    from .form import criterion
    current_app.jinja_env.globals.update(vendor_trend=trend, band_text=band_text,
                                         template_criterion=lambda item: criterion(item, []))


def _assessment_context(a):
    """The form from the month's frozen copy; an approved month reprints what was known when
    it was approved (e.g. notices raised later are not listed)."""
    from types import SimpleNamespace
    from .form import form_context
    from .engine import band_text
    from .services import open_rectifications, person
    ctx = form_context(a)
    if ctx["signed"] is not None:
        ctx["rectifications"] = [SimpleNamespace(**r) for r in ctx["signed"]["rectifications"]]
        ctx["approver"] = person(ctx["signed"].get("approved_by", ""))
    else:
        ctx["rectifications"] = open_rectifications(a.contract, before=a)
    ctx["inspector"] = person(a.inspector_name)
    ctx.setdefault("band_text", band_text)      # the command line prints without the web views' globals
    return ctx


def _blank_context(key):
    """Key: the template's number, e.g. TPL-0001 (its current revision)."""
    from erp_core.errors import NotFound
    from erp_core.extensions import db
    from sqlalchemy import select
    from .models import AssessmentTemplate
    template = db.session.scalars(select(AssessmentTemplate).where(AssessmentTemplate.name == key)).first()
    if template is None:
        raise NotFound(_l("Unknown assessment template: %(name)s", name=key))
    from .engine import band_text     # also a view global, but prints start without the views
    return {"t": template.snapshot(), "band_text": band_text}


def _settlement_context(key):
    from erp_core.errors import NotFound
    from .services import settlement
    try:
        year, month = (int(x) for x in str(key).split("-"))
        date(year, month, 1)
    except ValueError:
        raise NotFound(_l("Print the settlement of a month: /print/vendor_contracts.settlement/YYYY-MM.pdf"))
    rows = settlement(year, month)
    keys = ["fee", "grade_deduction", "fines", "extra_deduction", "payable", "retention", "paid_now"]
    totals = {k: sum((r[k] for r in rows), Decimal("0.00")) for k in keys}
    from erp_core import audit
    from erp_core.extensions import db
    # the printed settlement carries the audit chain's head, anchored now: paper outside the database
    line = audit.anchor(db.session)
    head = f"#{line['id']} {line['hash'][:16]}" if line else "-"
    return {"rows": rows, "period": f"{year}-{month:02d}", "totals": totals, "number": f"JS-{year}-{month:02d}",
            "audit_head": head}


def _template_keys(date=None, period=None):
    from erp_core.extensions import db
    from sqlalchemy import select
    from .models import AssessmentTemplate
    return sorted(db.session.scalars(select(AssessmentTemplate.name)))


def _settlement_keys(date=None, period=None):
    """Months with an approved assessment (run.py print --period/--all)."""
    from erp_core.extensions import db
    from sqlalchemy import select
    from .models import Assessment
    months = {f"{y}-{m:02d}" for y, m in db.session.execute(
        select(Assessment.year, Assessment.month).where(Assessment.workflow_state == "approved"))}
    return sorted(p for p in months if p.startswith(period or (date or "")[:7]))


def _retention_keys(date=None, period=None):
    """``<contract>_<year>`` for every contract and year with an approved month."""
    from erp_core.extensions import db
    from sqlalchemy import select
    from .models import Assessment, Contract
    rows = db.session.execute(select(Contract.name, Assessment.year).join(Assessment, Assessment.contract_id == Contract.id)
                              .where(Assessment.workflow_state == "approved").distinct())
    year = (period or date or "")[:4]
    return sorted(f"{name}_{y}" for name, y in rows if str(y).startswith(year))


def _retention_context(key):
    """Key: contract number and year, e.g. HT-2026-0001_2026."""
    from erp_core.errors import NotFound
    from erp_core.extensions import db
    from sqlalchemy import select
    from .engine import RETENTION_RULES
    from .models import Assessment, Contract
    from .services import year_end_retention
    name, _sep, year = str(key).rpartition("_")
    contract = db.session.scalars(select(Contract).where(Contract.name == name)).first()
    if contract is None or not year.isdigit():
        raise NotFound(_l("Print the year-end retention as /print/vendor_contracts.retention/<contract>_<year>.pdf"))
    out = year_end_retention(contract, int(year))
    months = db.session.scalars(select(Assessment).where(Assessment.contract_id == contract.id,
                                                         Assessment.year == int(year),
                                                         Assessment.workflow_state == "approved")
                                .order_by(Assessment.month)).all()
    return {"contract": contract, "year": year, "out": out, "months": months,
            "rule_text": RETENTION_RULES.get(out["rule"], out["rule"])}


@hookimpl
def houqin_print_formats():
    from .models import Assessment, Rectification
    return [
        PrintFormat("vendor_contracts.assessment", _l("Assessment form"), "vendor_contracts/print/assessment.html",
                    Assessment, _assessment_context),
        PrintFormat("vendor_contracts.blank_form", _l("Blank assessment form"), "vendor_contracts/print/blank_form.html",
                    None, _blank_context, permission="AssessmentTemplate",
                    keys=_template_keys),
        PrintFormat("vendor_contracts.rectification", _l("Rectification notice"),
                    "vendor_contracts/print/rectification.html", Rectification),
        PrintFormat("vendor_contracts.retention", _l("Year-end retention settlement"),
                    "vendor_contracts/print/retention.html", None, _retention_context, permission="Contract",
                    keys=_retention_keys),
        PrintFormat("vendor_contracts.settlement", _l("Settlement statement"), "vendor_contracts/print/settlement.html",
                    None, _settlement_context, permission="Assessment", landscape=True,
                    key="period", keys=_settlement_keys),
    ]


@hookimpl
def houqin_dashboard_widgets():
    from erp_core.extensions import db
    from sqlalchemy import func, select
    from .models import Assessment, Escalation

    def trend(user):
        rows = db.session.execute(select(Assessment.year, Assessment.month, func.avg(Assessment.final_score))
                                  .where(Assessment.workflow_state == "approved")
                                  .group_by(Assessment.year, Assessment.month)
                                  .order_by(Assessment.year, Assessment.month)).all()[-12:]
        return {"points": [(f"{y}-{m:02d}", round(float(s), 1)) for y, m, s in rows]}

    def escalations(user):
        n = db.session.scalar(select(func.count()).select_from(Escalation).where(Escalation.workflow_state == "open"))
        return {"value": n, "link": "/vendor_contracts/escalation/list/"}

    return [Widget("vendor_trend", _l("Average vendor score, 12 months"), "Assessment", trend, kind="line", order=30),
            Widget("vendor_escalations", _l("Escalations to acknowledge"), "Escalation", escalations, order=31)]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)
