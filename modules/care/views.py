"""The care desk's actions (API routes, buttons and pages from one declaration each), the ward
nurse's page of who has a care worker today, and the public price page (no login)."""
from datetime import datetime, time

from flask import current_app
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.actions import Action, Input
from erp_core.errors import ValidationError
from erp_core.extensions import db
from erp_core.permissions import public, request_user, rule_clause
from erp_core.types import now
from erp_core.views import ActionApi

from . import services
from .models import (ACTIVE, AWAITING, OPEN_STATES, PAYMENT_METHODS, RATIOS, SETTLED, SHIFTS, CareLevel,
                     CareOrder)


def _wards():
    from modules.catering.models import Ward
    wards = db.session.scalars(select(Ward).order_by(Ward.code)).all()
    user = request_user()
    if user is not None and rule_clause(CareOrder, user) is not None:        # a ward nurse: her wards
        wards = [w for w in wards if any(n.id == user.id for n in w.nurses)]
    return {str(w.id): w.title for w in wards}


def _rules():
    return {str(r.id): r.text for r in services.active_rules()}


def _text(label, n=60, required=False):
    return Input("text", label, max_length=n, required=required)


def _new_order(_doc, inp, user):
    start = inp["start_at"]
    # the family plans to a day; the booking runs to that day at the hour care started
    planned = datetime.combine(inp["planned_end"], (start or now()).timetz())
    return services.create_order({**inp, "planned_end": planned}, by=user)


def _settle(order, inp, user):
    return services.settle(order, ended_at=inp["ended_at"], payment_method=inp["payment_method"], by=user)


NEW_ORDER = dict(
    ward=Input("choice", _l("Ward"), required=True, choices=_wards), bed=_text(_l("Bed"), 20, True),
    patient_name=_text(_l("Patient"), 60, True), inpatient_no=_text(_l("Inpatient number"), 30),
    level=Input("choice", _l("Care level"), required=True, choices=services.level_choices),
    worker=Input("choice", _l("Care worker"), required=True, choices=services.worker_choices),
    start_at=Input("datetime", _l("Care from (empty: now)")),
    planned_end=Input("date", _l("Planned end"), required=True),
    family_name=_text(_l("Family contact"), 60, True), family_relation=_text(_l("Relation to the patient"), 20),
    family_phone=_text(_l("Family phone"), 20, True), deposit=Input("money", _l("Deposit")),
    payment_method=Input("choice", _l("Payment method"), choices=PAYMENT_METHODS, default="cash"))


class CareApi(ActionApi):
    """/api/v1/care/...: the care desk's work as JSON; the same actions are the buttons of the
    order's page."""
    resource_name = "care"
    class_permission_name = "CareOrder"
    openapi_spec_tag = "Care"

    new_order = Action(_l("New care order"), _new_order, permission="create", status=201, route="/orders",
                       inputs=NEW_ORDER, list_of=CareOrder)
    sign = Action(_l("Record the signed agreement"),
                  lambda o, inp, user: services.sign(o, signature=inp["signature"], scan=inp["scan"], by=user),
                  doc=CareOrder, states=(AWAITING,), route="/orders/<int:pk>/sign",
                  inputs=dict(signature=Input("signature", _l("Family's signature")),
                              scan=Input("file", _l("Or the scanned signed agreement (PDF or image)"))))
    change_worker = Action(_l("Change the care worker"),
                           lambda o, inp, user: services.change_worker(o, inp["worker"], inp["reason"], by=user),
                           doc=CareOrder, states=OPEN_STATES, route="/orders/<int:pk>/worker",
                           inputs=dict(worker=Input("choice", _l("New care worker"), required=True,
                                                    choices=services.worker_choices),
                                       reason=_text(_l("Reason"), 200, True)))
    change_level = Action(_l("Change the care level"),
                          lambda o, inp, user: services.change_level(o, inp["level"], inp["reason"], by=user),
                          doc=CareOrder, states=OPEN_STATES, route="/orders/<int:pk>/level",
                          inputs=dict(level=Input("choice", _l("New care level"), required=True,
                                                  choices=services.level_choices),
                                      reason=_text(_l("Reason"), 200, True)))
    settle = Action(_l("Discharge and settle"), _settle, doc=CareOrder, states=(ACTIVE,),
                    route="/orders/<int:pk>/settle",
                    confirm=_l("Care ends and the charges are fixed. Settle this order?"),
                    inputs=dict(ended_at=Input("datetime", _l("Care ended (empty: now)")),
                                payment_method=Input("choice", _l("Payment method"), choices=PAYMENT_METHODS)))
    feedback = Action(_l("Record a complaint or rating"),
                      lambda o, inp, user: services.add_feedback(o, inp["kind"], inp["rating"], inp["text"], by=user),
                      doc=CareOrder, states=(ACTIVE, SETTLED), route="/orders/<int:pk>/feedback",
                      inputs=dict(kind=Input("choice", _l("Kind"), required=True,
                                             choices={"rating": _l("Rating"), "complaint": _l("Complaint")}),
                                  rating=Input("int", _l("Rating (1-5)"), min=1, max=5),
                                  text=_text(_l("Details"), 500)))
    violation = Action(_l("Record a violation of the care worker rules"),
                       lambda o, inp, user: services.record_violation(o, inp["rule"], inp["witness"], inp["severity"],
                                                                      inp["penalty"], by=user),
                       doc=CareOrder, states=(ACTIVE, SETTLED), route="/orders/<int:pk>/violation", style="warning",
                       inputs=dict(rule=Input("choice", _l("Rule broken"), required=True, choices=_rules),
                                   witness=_text(_l("Seen by"), 60),
                                   severity=Input("choice", _l("Severity"), required=True, default="minor",
                                                  choices={"minor": _l("Minor"), "serious": _l("Serious")}),
                                   penalty=_text(_l("Penalty"), 200)))


class CareWardView(BaseView):
    """The ward nurse's page: the patients of her wards who have a care worker today."""
    route_base = "/care/ward"
    class_permission_name = "CareWard"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        orders = services.in_care_today(request_user())
        return self.render_template("care/ward.html", orders=orders, today=now().date())


class CarePricesView(BaseView):
    """明码标价: the published care levels and prices, for families, without a login (the QR
    code on the ward's price board leads here). Nothing but published levels is shown."""
    route_base = "/care/prices"
    default_view = "index"

    @expose("/")
    @public
    def index(self):
        from erp_core.models import Settings
        return self.render_template("care/prices.html", levels=services.published_levels(), ratios=RATIOS,
                                    shifts=SHIFTS, part_day_hours=services.part_day_hours(),
                                    settings=Settings.current(db.session))


def public_price_url():
    from flask import has_request_context, request
    base = current_app.config.get("HOUQIN_PUBLIC_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + "/care/prices/"
