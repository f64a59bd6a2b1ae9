"""Assessment actions (open a month, record findings and incidents), the inspector's phone
page, the monthly settlement, and lists of what needs attention."""
import base64
import re
from datetime import date

from flask import Response, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _
from sqlalchemy import select

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


def _period():
    try:
        year = int(request.args.get("year") or now().year)
        month = int(request.args.get("month") or now().month)
    except ValueError:
        raise ValidationError(_("Give the year and month as numbers."))
    if not 1 <= month <= 12:
        raise ValidationError(_("Give a real year and month."))
    return year, month


class AssessmentActionsApi(ActionApi):
    resource_name = "assessments"
    class_permission_name = "Assessment"
    method_permission_name = {"open": "create", "finding": "write", "incident": "write", "settlement": "read",
                              "retention": "read", "reopen": "cancel_open"}

    def _assessment(self, pk):
        a = db.session.scalars(scoped_select(Assessment, request_user()).where(Assessment.id == pk)).first()
        if a is None:
            raise NotFound(_("Not found."))
        return a

    def _run(self, work, status=200):
        # these actions read their own body (JSON or a multipart photo upload)
        return self.run(lambda body, user: work(), status, body_required=False)

    @expose("/open", methods=["POST"])
    @protect()
    @safe
    def open(self):
        body = request.get_json(silent=True) or {}

        def work():
            contract = db.session.scalars(select(Contract).where(Contract.name == str(body.get("contract")))).first()
            if contract is None:
                raise NotFound(_("Unknown contract: %(name)s", name=body.get("contract") or ""))
            try:
                year, month = int(body.get("year")), int(body.get("month"))
            except (TypeError, ValueError):
                raise ValidationError(_("Give the year and month as numbers."))
            return assessment_json(services.create_assessment(contract, year, month, by=request_user()))
        return self._run(work, 201)

    @expose("/<int:pk>/finding", methods=["POST"])
    @protect()
    @safe
    def finding(self, pk):
        """JSON {item_code, area, count, location, note, photo: data URL} or a multipart form with a photo file."""
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()

        def work():
            if not isinstance(body, dict):
                raise ValidationError(_("Request body must be a JSON object."))
            photo, photo_type = None, None
            if request.files.get("photo"):
                upload = request.files["photo"]
                photo, photo_type = upload.read(), upload.mimetype
            elif body.get("photo"):
                m = DATA_URL.match(body["photo"])
                if not m:
                    raise ValidationError(_("The photo must be a JPEG, PNG or WebP image of at most 5 MB."))
                photo, photo_type = base64.b64decode(m.group(2)), m.group(1)
            a = services.add_finding(self._assessment(pk), item_code=str(body.get("item_code", "")),
                                     area=str(body.get("area", "")), count=body.get("count", 1),
                                     location=str(body.get("location", "")), note=str(body.get("note", "")),
                                     kind=str(body.get("kind", "")), photo=photo, photo_type=photo_type,
                                     by=request_user())
            return assessment_json(a)
        return self._run(work)

    @expose("/<int:pk>/incident", methods=["POST"])
    @protect()
    @safe
    def incident(self, pk):
        body = request.get_json(silent=True) or {}
        return self._run(lambda: assessment_json(services.add_incident(
            self._assessment(pk), incident=str(body.get("incident", "")), count=body.get("count", 1),
            note=str(body.get("note", "")), by=request_user())))

    @expose("/<int:pk>/reopen", methods=["POST"])
    @protect()
    @safe
    def reopen(self, pk):
        """A cancelled month opened again under the contract's current rules (the manager who
        may cancel an open month may reopen it; audited as an amendment)."""
        return self._run(lambda: assessment_json(services.reopen(self._assessment(pk), by=request_user())), 201)

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
        return self._run(work)

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
    method_permission_name = {"preset": "write", "copy": "write"}

    def _contract(self, name):
        contract = db.session.scalars(scoped_select(Contract, request_user()).where(Contract.name == str(name))).first()
        if contract is None:
            raise NotFound(_("Unknown contract: %(name)s", name=name or ""))
        return contract

    @expose("/<name>/preset", methods=["POST"])
    @protect()
    @safe
    def preset(self, name):
        """{"preset": "cleaning" | "catering" | "security" | "transport"}"""
        from .presets import apply_preset
        return self.run(lambda body, user: _rules_json(apply_preset(self._contract(name), str(body.get("preset", "")))))

    @expose("/<name>/copy", methods=["POST"])
    @protect()
    @safe
    def copy(self, name):
        """{"from": "HT-2026-0001"}"""
        from .presets import copy_rules
        return self.run(lambda body, user: _rules_json(copy_rules(self._contract(name), self._contract(body.get("from")))))


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
        a = db.session.scalars(scoped_select(Assessment, request_user()).where(Assessment.id == pk)).first()
        if a is None:
            raise NotFound(_("Not found."))
        template = a.template_rules()
        counts = {}
        for f in a.findings:
            counts[(f.item_code, f.area)] = counts.get((f.item_code, f.area), 0) + f.count
        return self.render_template("vendor_contracts/inspect.html", a=a, sheet=template, counts=counts)


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
