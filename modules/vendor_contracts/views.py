"""Assessment actions (open a month, record findings and incidents), the inspector's phone
page, the monthly settlement, and lists of what needs attention."""
import base64
import re
from datetime import date

from flask import Response, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core.actions import Action, Input
from erp_core.display import format_datetime_local, person_name
from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.exports import to_xlsx
from erp_core.extensions import db
from erp_core.permissions import request_user, scoped_select
from erp_core.types import now
from erp_core.views import ActionApi, respond

from . import services
from .models import Assessment, Contract

DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|webp));base64,(.+)$", re.S)


def assessment_json(a):
    return {"id": a.id, "name": a.name, "contract": a.contract.name, "vendor": a.contract.vendor.legal_name,
            "year": a.year, "month": a.month, "state": a.workflow_state,
            "inspection_score": str(a.inspection_score), "final_score": str(a.final_score), "grade": a.grade,
            "payable": str(a.payable), "findings": len(a.findings), "steps": a.steps()}


def finding_json(a, f, items):
    """One finding as the phone page names it: what, where, how often, by whom, its photo."""
    item = items.get(f.item_code, {})
    title = item.get("title", f.item_code) + (f" · {f.kind}" if f.kind else "")
    return {"id": f.id, "item_code": f.item_code, "kind": f.kind, "area": f.area, "count": f.count, "title": title,
            "by": person_name(f.by), "at": format_datetime_local(f.at), "note": f.note, "location": f.location,
            "photo": f"/api/v1/assessments/{a.id}/finding/{f.id}/photo" if f.photo_type else None}


def findings_json(a):
    items = {i["code"]: i for i in a.template_rules().get("items", [])}
    return assessment_json(a) | {"items": [finding_json(a, f, items) for f in a.findings],
                                 "effects": services.item_effects(a)["areas"]}


def _scoped(pk, user):
    a = db.session.scalars(scoped_select(Assessment, user).where(Assessment.id == pk)).first()
    if a is None:
        raise NotFound(_("Not found."))
    return a


def _period():
    try:
        year = int(request.args.get("year") or now().year)
        month = int(request.args.get("month") or now().month)
    except ValueError:
        raise ValidationError(_("Give the year and month as numbers."))
    if not 1 <= month <= 12:
        raise ValidationError(_("Give a real year and month."))
    return year, month


def _contract(name, user):
    contract = db.session.scalars(scoped_select(Contract, user).where(Contract.name == str(name or ""))).first()
    if contract is None:
        raise NotFound(_("Unknown contract: %(name)s", name=name or ""))
    return contract


def _active_contracts():
    rows = db.session.scalars(select(Contract).where(Contract.workflow_state == "active").order_by(Contract.name))
    return {c.name: f"{c.name} {c.title}" for c in rows}


def _photo(upload):
    """A photo from a multipart file or a JSON data URL: ``{photo, photo_type}`` for the service."""
    if upload is None or upload == "":
        return {"photo": None, "photo_type": None}
    if hasattr(upload, "read"):
        return {"photo": upload.read(), "photo_type": upload.mimetype}
    m = DATA_URL.match(upload) if isinstance(upload, str) else None
    if not m:
        raise ValidationError(_("The photo must be a JPEG, PNG or WebP image of at most 5 MB."))
    return {"photo": base64.b64decode(m.group(2)), "photo_type": m.group(1)}


class AssessmentActionsApi(ActionApi):
    resource_name = "assessments"
    class_permission_name = "Assessment"
    method_permission_name = {"settlement": "read", "retention": "read", "findings": "read", "photo": "read"}

    open = Action(_l("Open a month"), lambda _d, i, u: assessment_json(services.create_assessment(
                      _contract(i["contract"], u), i["year"], i["month"], by=u)),
                  permission="create", status=201, list_of=Assessment,
                  inputs=dict(contract=Input("choice", _l("Contract"), required=True, choices=_active_contracts),
                              year=Input("int", _l("Year"), required=True, min=2000, max=2100),
                              month=Input("int", _l("Month"), required=True, min=1, max=12)))
    finding = Action(_l("Record a finding"), lambda a, i, u: findings_json(services.add_finding(
                         a, item_code=i["item_code"], area=i["area"] or "", count=i["count"],
                         location=i["location"] or "", note=i["note"] or "", kind=i["kind"] or "",
                         **_photo(i["photo"]), by=u)),
                     permission="write", doc=Assessment, states=("draft",), route="/<int:pk>/finding",
                     inputs=dict(item_code=Input("text", _l("Scoring item"), required=True, max_length=20),
                                 area=Input("text", _l("Area"), max_length=60),
                                 kind=Input("text", _l("Kind of finding"), max_length=60),
                                 count=Input("int", _l("Count"), min=1, max=1000, default=1),
                                 location=Input("text", _l("Where"), max_length=200),
                                 note=Input("text", _l("Note"), max_length=1000),
                                 photo=Input("file", _l("Photo"))))
    # the inspector's wrong tap, taken back while the month is a draft (audited)
    undo_finding = Action(_l("Undo a finding"), lambda a, i, u: findings_json(services.remove_finding(
                              a, i["finding"], by=u)),
                          permission="write", doc=Assessment, states=("draft",), route="/<int:pk>/finding/undo",
                          button=False, inputs=dict(finding=Input("int", _l("Finding"), required=True, min=1)))
    incident = Action(_l("Record an incident"), lambda a, i, u: assessment_json(services.add_incident(
                          a, incident=i["incident"], count=i["count"], note=i["note"] or "", by=u)),
                      permission="write", doc=Assessment, states=("draft",), route="/<int:pk>/incident",
                      inputs=dict(incident=Input("text", _l("Incident type"), required=True, max_length=80),
                                  count=Input("int", _l("Count"), min=1, max=1000, default=1),
                                  note=Input("text", _l("Note"), max_length=1000)))
    # other modules' evidence (service desk, workforce, care): refreshed on a draft, adjusted only with a reason
    refresh_evidence = Action(_l("Refresh evidence"), lambda a, i, u: assessment_json(services.refresh_evidence(a, by=u)),
                              permission="write", doc=Assessment, states=("draft",), route="/<int:pk>/refresh_evidence",
                              confirm=_l("Pre-filled findings you have not adjusted are replaced by what the modules "
                                         "report now; findings you adjusted are kept as they are."))
    adjust = Action(_l("Adjust a pre-filled finding"), lambda a, i, u: assessment_json(services.adjust_finding(
                        a, finding=i["finding"], count=i["count"], reason=i["reason"], by=u)),
                    permission="write", doc=Assessment, states=("draft",), route="/<int:pk>/adjust",
                    inputs=dict(finding=Input("int", _l("Finding No."), required=True, min=1, max=2 ** 31 - 1),
                                count=Input("int", _l("Count"), required=True, min=0, max=1000),
                                reason=Input("text", _l("Reason"), required=True, max_length=300)))
    # a manager reopens a cancelled month under the corrected rules (audited as an amendment)
    reopen = Action(_l("Reopen the month"), lambda a, i, u: assessment_json(services.reopen(a, by=u)),
                    permission="cancel_open", doc=Assessment, states=("cancelled",), route="/<int:pk>/reopen",
                    status=201, confirm=_l("Open this month again under the contract's current rules?"))

    @expose("/<int:pk>/findings", methods=["GET"])
    @protect()
    @safe
    def findings(self, pk):
        """The month's findings (the phone page refreshes its counts from these)."""
        return self.run(lambda body, user: findings_json(_scoped(pk, user)), body_required=False)

    @expose("/<int:pk>/finding/<int:fid>/photo", methods=["GET"])
    @protect()
    @safe
    def photo(self, pk, fid):
        try:
            a = _scoped(pk, request_user())
        except UserError as exc:
            return respond(exc.status, {"message": str(exc)})
        f = next((f for f in a.findings if f.id == fid and f.photo), None)
        if f is None:
            return respond(404, {"message": _("Not found.")})
        return Response(f.photo, mimetype=f.photo_type, headers={"Cache-Control": "private, max-age=3600"})

    @expose("/retention", methods=["GET"])
    @protect()
    @safe
    def retention(self):
        """?contract=HT-…&year=2026: the year-end release with its calculation."""
        def work():
            contract = db.session.scalars(select(Contract).where(Contract.name == request.args.get("contract", ""))).first()
            if contract is None:
                raise NotFound(_("Unknown contract: %(name)s", name=request.args.get("contract", "")))
            try:
                year = int(request.args.get("year", ""))
            except ValueError:
                raise ValidationError(_("Give the year and month as numbers."))
            out = services.year_end_retention(contract, year)
            return {"contract": contract.name, "year": year, "rule": out["rule"], "average": str(out["average"]),
                    "held": str(out["held"]), "forfeited": str(out["forfeited"]), "released": str(out["released"]),
                    "steps": [[str(t), str(d), str(v)] for t, d, v in out["steps"]]}
        return self.run(lambda body, user: work(), body_required=False)

    @expose("/settlement", methods=["GET"])
    @protect()
    @safe
    def settlement(self):
        try:
            year, month = _period()
        except UserError as exc:
            return respond(exc.status, {"message": str(exc)})
        rows = services.settlement(year, month)
        if request.args.get("format") == "xlsx":
            return settlement_xlsx(rows, year, month)
        def cell(k, v):
            if k == "assessment":
                return v.name
            if k == "clauses":
                return [{"clause": c, "amount": str(amount)} for c, amount in v]
            return str(v)
        return respond(200, {"year": year, "month": month, "result": [
            {k: cell(k, v) for k, v in r.items()} for r in rows]})


class ContractRulesApi(ActionApi):
    """A draft contract's rules in one request: from a preset, or copied from another contract."""
    resource_name = "contract_rules"
    class_permission_name = "Contract"
    method_permission_name = {}

    preset = Action(_l("Rules from a preset"), lambda c, i, u: _rules_json(_apply_preset(c, i["preset"])),
                    permission="write", doc=Contract, states=("draft",), route="/<contract>/preset",
                    find=lambda i, u: _contract(i["contract"], u),
                    inputs=dict(contract=Input("text", _l("Contract"), max_length=64, locator=True),
                                preset=Input("choice", _l("Preset"), required=True, choices=lambda: _presets())))
    copy = Action(_l("Copy the rules of another contract"), lambda c, i, u: _rules_json(_copy_rules(
                      c, _contract(i["from"], u))),
                  permission="write", doc=Contract, states=("draft",), route="/<contract>/copy",
                  find=lambda i, u: _contract(i["contract"], u),
                  inputs={"contract": Input("text", _l("Contract"), max_length=64, locator=True),
                          "from": Input("text", _l("Copy from contract"), required=True, max_length=64)})


def _apply_preset(contract, kind):
    from .presets import apply_preset
    return apply_preset(contract, kind)


def _copy_rules(target, source):
    from .presets import copy_rules
    return copy_rules(target, source)


def _presets():
    from .presets import PRESETS
    return {k: v["title"] for k, v in PRESETS.items()}


def _rules_json(contract):
    db.session.flush()
    return {"contract": contract.name, "template": contract.template.name if contract.template else None,
            "rules": [r.as_rule() for r in contract.rules], "escalations": [e.as_rule() for e in contract.escalation_rules],
            "retention_rule": contract.retention_rule}


SETTLEMENT_COLUMNS = [("vendor", "Vendor"), ("contract", "Contract"), ("score", "Final score"), ("grade", "Grade"),
                      ("fee", "Monthly fee"), ("grade_deduction", "Grade deduction"), ("fines", "Fines"),
                      ("extra_deduction", "Extra deduction"), ("payable", "Payable"), ("retention", "Retention"),
                      ("paid_now", "Paid now")]


def settlement_xlsx(rows, year, month):
    header = [_(label) for _key, label in SETTLEMENT_COLUMNS]
    data = [[r[key] for key, _label in SETTLEMENT_COLUMNS] for r in rows]
    return Response(to_xlsx(header, data, f"{year}-{month:02d}"),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=settlement-{year}-{month:02d}.xlsx"})


class InspectView(BaseView):
    """The inspector's phone page: tap an item, count, photo, see the running score."""
    route_base = "/vendor_contracts/inspect"
    default_view = "index"
    class_permission_name = "Assessment"
    method_permission_name = {"index": "write", "sheet": "write"}

    @expose("/")
    @has_access
    def index(self):
        drafts = db.session.scalars(scoped_select(Assessment, request_user())
                                    .where(Assessment.workflow_state == "draft")
                                    .order_by(Assessment.year.desc(), Assessment.month.desc())).all()
        return self.render_template("vendor_contracts/inspect_index.html", drafts=drafts)

    @expose("/<int:pk>")
    @has_access
    def sheet(self, pk):
        a = _scoped(pk, request_user())
        return self.render_template("vendor_contracts/inspect.html", a=a, sheet=a.template_rules(),
                                    effects=services.item_effects(a), data=findings_json(a))


class AttentionView(BaseView):
    """What needs a coordinator's attention: certificates, contracts ending, overdue notices."""
    route_base = "/vendor_contracts/attention"
    default_view = "index"
    class_permission_name = "Contract"
    method_permission_name = {"index": "read", "settlement_page": "read"}

    @expose("/")
    @has_access
    def index(self):
        from .models import Rectification
        overdue = [r for r in db.session.scalars(select(Rectification).where(
            Rectification.workflow_state.in_(["open", "rectified"]))).all() if r.overdue]
        return self.render_template("vendor_contracts/attention.html", certificates=services.expiring_certificates(30),
                                    contracts=services.ending_contracts(60), overdue=overdue, today=now().date())

    @expose("/settlement/")
    @has_access
    def settlement_page(self):
        year, month = _period()
        return self.render_template("vendor_contracts/settlement.html", rows=services.settlement(year, month),
                                    year=year, month=month, columns=SETTLEMENT_COLUMNS)
