import json
from datetime import date

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
    from .views import AssessmentActionsApi, AttentionView, InspectView
    appbuilder.add_api(AssessmentActionsApi)
    appbuilder.add_view(InspectView, "Inspect", label=_l("Inspection (phone)"), icon="fa-mobile",
                        category="vendor_contracts", href="/vendor_contracts/inspect/")
    appbuilder.add_view(AttentionView, "Attention", label=_l("Needs attention"), icon="fa-bell",
                        category="vendor_contracts", href="/vendor_contracts/attention/")
    appbuilder.add_link("Settlement", label=_l("Monthly settlement"), href="/vendor_contracts/attention/settlement/",
                        icon="fa-calculator", category="vendor_contracts", baseview=AttentionView)
    from .engine import band_text
    current_app.jinja_env.globals.update(vendor_trend=trend, band_text=band_text)


def _assessment_context(a):
    from .services import open_rectifications
    return {"t": a.template_rules(), "rectifications": open_rectifications(a.contract, before=a)}


def _blank_context(key):
    """Key: the template's number, e.g. TPL-0001 (its current revision)."""
    from erp_core.errors import NotFound
    from erp_core.extensions import db
    from sqlalchemy import select
    from .models import AssessmentTemplate
    template = db.session.scalars(select(AssessmentTemplate).where(AssessmentTemplate.name == key)).first()
    if template is None:
        raise NotFound(_l("Unknown assessment template: %(name)s", name=key))
    return {"t": template.snapshot()}


def _settlement_context(key):
    from erp_core.errors import NotFound
    from .services import settlement
    try:
        year, month = (int(x) for x in str(key).split("-"))
        date(year, month, 1)
    except ValueError:
        raise NotFound(_l("Print the settlement of a month: /print/vendor_contracts.settlement/YYYY-MM.pdf"))
    from erp_core import audit
    from erp_core.extensions import db
    # the printed settlement carries the audit chain's head, anchored now: paper outside the database
    line = audit.anchor(db.session)
    head = f"#{line['id']} {line['hash'][:16]}" if line else "-"
    return {"rows": settlement(year, month), "period": f"{year}-{month:02d}", "audit_head": head}


@hookimpl
def houqin_print_formats():
    from .models import Assessment, Rectification
    return [
        PrintFormat("vendor_contracts.assessment", _l("Assessment form"), "vendor_contracts/print/assessment.html",
                    Assessment, _assessment_context),
        PrintFormat("vendor_contracts.blank_form", _l("Blank assessment form"), "vendor_contracts/print/blank_form.html",
                    None, _blank_context, permission="AssessmentTemplate"),
        PrintFormat("vendor_contracts.rectification", _l("Rectification notice"),
                    "vendor_contracts/print/rectification.html", Rectification),
        PrintFormat("vendor_contracts.settlement", _l("Settlement statement"), "vendor_contracts/print/settlement.html",
                    None, _settlement_context, permission="Assessment", landscape=True),
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
