"""Service desk actions (each business step one Action: typed inputs, permission, allowed
states, audit) and the figures page. Orders are found through the record rules, so a
technician acting on another's order gets 404 like reading it."""
from flask import g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core import replica
from erp_core.actions import Action, Input
from erp_core.context import actor
from erp_core.errors import NotFound, ValidationError
from erp_core.extensions import db
from erp_core.permissions import request_user, scoped_select
from erp_core.views import ActionApi, respond

from . import figures, services
from .models import (ACCEPTED, COMPLETED, DISPATCHED, NEW, NOTE_KINDS, ON_SITE, OPEN_STATES, PAUSE_REASONS, PAUSED,
                     PAYMENT_METHODS, PORTER_KINDS, R_OPEN, SOURCES, URGENCIES, KINDS, Category, Location, Notice,
                     Request, Team, WorkOrder)


def wo_json(wo):
    return dict(id=wo.id, name=wo.name, status=wo.status, status_label=str(wo.status_label), kind=wo.kind,
                request=wo.request.name, team=wo.team.title if wo.team else None,
                technician=wo.technician.username if wo.technician else None,
                response_due=wo.response_due.isoformat() if wo.response_due else None,
                resolution_due=wo.resolution_due.isoformat() if wo.resolution_due else None,
                team_due=wo.team_due.isoformat() if wo.team_due else None, rating=wo.rating,
                charge=str(wo.charge), breached=wo.breached_at is not None)


def _user_by_login(login, required=False):
    from flask_appbuilder.security.sqla.models import User
    if not login:
        if required:
            raise ValidationError(_("Choose a person."))
        return None
    user = db.session.scalars(select(User).where(User.username == str(login))).first()
    if user is None:
        raise NotFound(_("Unknown user: %(u)s", u=str(login)[:64]))
    return user


def _loc(code):
    return services.by_code(Location, code, _("location")) if code else None


def _scoped(cls, name, user):
    doc = db.session.scalars(scoped_select(cls, user).where(cls.name == str(name or ""))).first() if name else None
    if doc is None:
        raise NotFound(_("Not found."))
    return doc


def _find_order(inp, user):
    return _scoped(WorkOrder, inp.get("order"), user)


def _find_request(inp, user):
    return _scoped(Request, inp.get("request"), user)


def _intake(_doc, inp, user):
    from erp_core.views import attach
    from .screens import checked_photo
    photo = inp.get("photo")
    photo = checked_photo(photo, "photo") if hasattr(photo, "read") else None     # refused before anything is written
    category = services.by_code(Category, inp["category"], _("category"))
    requester = _user_by_login(inp.get("requester"))
    if requester is None and inp["source"] in ("web",):
        requester = user                       # the phone web page: the signed-in staff member asks for herself
    link_to = _scoped(Request, inp["link_to"], user) if inp.get("link_to") else None
    req, wo = services.intake(
        category=category, urgency=inp["urgency"], description=inp["description"] or "", source=inp["source"],
        location=_loc(inp.get("location")), department=_loc(inp.get("department")),
        caller_phone=inp.get("caller_phone") or "", caller_name=inp.get("caller_name") or "", requester=requester,
        link_to=link_to, force=inp["force"], kind=inp.get("kind"), porter_kind=inp.get("porter_kind") or "",
        from_location=_loc(inp.get("from_location")), to_location=_loc(inp.get("to_location")),
        be_there_at=inp.get("be_there_at"), slot_start=inp.get("slot_start"), slot_end=inp.get("slot_end"),
        by=actor())
    if photo is not None:
        attach(req, photo)
    return {"request": req.name, "status": req.status, "work_order": wo_json(wo) if wo else None}


INTAKE_INPUTS = dict(
    category=Input("text", _l("Category"), required=True, max_length=20),
    location=Input("text", _l("Location"), max_length=40),
    department=Input("text", _l("Department"), max_length=40),
    urgency=Input("choice", _l("Urgency"), choices=URGENCIES, default="normal"),
    description=Input("text", _l("Description"), max_length=2000),
    source=Input("choice", _l("Source"), choices=SOURCES, default="hotline"),
    caller_phone=Input("text", _l("Caller's phone"), max_length=30),
    caller_name=Input("text", _l("Caller"), max_length=60),
    requester=Input("text", _l("Requester (login)"), max_length=64),
    link_to=Input("text", _l("Link to open request"), max_length=64),
    force=Input("bool", _l("Take as a new request anyway"), default=False),
    kind=Input("choice", _l("Kind"), choices=KINDS),
    porter_kind=Input("choice", _l("Porter job"), choices=PORTER_KINDS),
    from_location=Input("text", _l("From"), max_length=40),
    to_location=Input("text", _l("To"), max_length=40),
    be_there_at=Input("datetime", _l("Be there at")),
    slot_start=Input("datetime", _l("Booked from")),
    slot_end=Input("datetime", _l("Booked until")),
    photo=Input("file", _l("Photo")))

ORDER = dict(order=Input("text", _l("Work order"), max_length=64, locator=True))


class DeskApi(ActionApi):
    """/api/v1/service_desk/...: intake and the duplicate link."""
    resource_name = "service_desk"
    class_permission_name = "Request"
    openapi_spec_tag = "Service desk"
    method_permission_name = {"lookup": "read"}

    intake = Action(_l("Take a request"), _intake, permission="create", status=201, inputs=INTAKE_INPUTS,
                    list_of=Request)
    link = Action(_l("Link as duplicate"), lambda r, inp, user: services.link_duplicate(
                      r, _scoped(Request, inp["original"], user), by=actor()),
                  permission="link", doc=Request, states=(R_OPEN,), find=_find_request,
                  inputs=dict(request=Input("text", _l("Request"), max_length=64, locator=True),
                              original=Input("text", _l("Duplicate of"), required=True, max_length=64)))

    @expose("/lookup", methods=["GET"])
    @protect()
    @safe
    def lookup(self):
        """The caller's department and open requests, and an open duplicate, for the intake screen."""
        dept, open_requests = services.find_by_phone(request.args.get("phone", "")[:30])
        dup = None
        if request.args.get("category") and request.args.get("location"):
            cat = db.session.scalars(select(Category).where(Category.code == request.args["category"][:20])).first()
            loc = db.session.scalars(select(Location).where(Location.code == request.args["location"][:40])).first()
            dup = services.find_duplicate(cat, loc)
        return respond(200, {"department": dept.code if dept else None,
                             "department_title": dept.path_text if dept else None,
                             "open_requests": [{"name": r.name, "category": r.category.title,
                                                "location": r.location.path_text if r.location else "",
                                                "received_at": r.received_at.isoformat()} for r in open_requests],
                             "duplicate": dup.name if dup else None})


def _team(code):
    return services.by_code(Team, code, _("team"))


def _who(user):
    return dict(user=user, by=actor())



def _team_choices():
    from .models import Team
    return {t.code: t.title for t in db.session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.code))}


def _technician_choices():
    """login -> "name（team）": the page shows names; the API takes the login."""
    from erp_core.printing.toolkit import full_name
    from .models import Team
    out = {}
    for t in db.session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.code)):
        for u in t.technicians:
            out.setdefault(u.username, f"{full_name(u)}（{t.title}）")
    return out


TEAM = Input("choice", _l("Team"), required=True, choices=_team_choices,
             prefill=lambda wo: wo.team.code if wo.team else None)
TECHNICIAN = Input("choice", _l("Technician"), choices=_technician_choices,
                   help=_l("Leave empty: the team leader assigns."))

class DeskOrderApi(ActionApi):
    """/api/v1/service_desk_order/...: every step of a work order."""
    resource_name = "service_desk_order"
    class_permission_name = "WorkOrder"
    openapi_spec_tag = "Service desk"

    dispatch = Action(_l("Dispatch"), lambda wo, inp, user: wo_json(services.dispatch(
                          wo, _team(inp["team"]), _user_by_login(inp.get("technician")), by=actor())),
                      doc=WorkOrder, states=(NEW,), find=_find_order,
                      inputs=dict(**ORDER, team=TEAM, technician=TECHNICIAN))
    reassign = Action(_l("Reassign"), lambda wo, inp, user: wo_json(services.reassign(
                          wo, _team(inp["team"]), _user_by_login(inp.get("technician")), reason=inp["reason"],
                          by=actor())),
                      doc=WorkOrder, states=(DISPATCHED, ACCEPTED, ON_SITE, PAUSED), find=_find_order,
                      inputs=dict(**ORDER, team=TEAM, technician=TECHNICIAN,
                                  reason=Input("text", _l("Reason"), required=True, max_length=300)))
    accept = Action(_l("Accept"), lambda wo, inp, user: wo_json(services.accept(wo, **_who(user))),
                    doc=WorkOrder, states=(DISPATCHED,), find=_find_order, inputs=dict(**ORDER))
    arrive = Action(_l("Arrived"), lambda wo, inp, user: wo_json(services.arrive(wo, **_who(user))),
                    doc=WorkOrder, states=(ACCEPTED,), find=_find_order, inputs=dict(**ORDER))
    pause = Action(_l("Pause the clock"), lambda wo, inp, user: wo_json(services.pause(
                       wo, inp["reason"], inp["note"] or "", **_who(user))),
                   doc=WorkOrder, states=(ON_SITE,), find=_find_order, style="warning",
                   inputs=dict(**ORDER, reason=Input("choice", _l("Waiting for"), choices=PAUSE_REASONS, required=True),
                               note=Input("text", _l("Note"), max_length=300)))
    resume = Action(_l("Resume"), lambda wo, inp, user: wo_json(services.resume(wo, **_who(user))),
                    doc=WorkOrder, states=(PAUSED,), find=_find_order, inputs=dict(**ORDER))
    note = Action(_l("Add a note"), lambda wo, inp, user: wo_json(services.add_note(
                      wo, inp["kind"], inp["text"] or "", inp["quantity"], inp["amount"], inp["minutes"] or 0,
                      **_who(user))),
                  doc=WorkOrder, states=(ACCEPTED, ON_SITE, PAUSED), find=_find_order, style="default",
                  inputs=dict(**ORDER, kind=Input("choice", _l("Kind"), choices=NOTE_KINDS, default="note"),
                              text=Input("text", _l("Note"), max_length=500),
                              quantity=Input("decimal", _l("Quantity"), min=0, max=100000),
                              amount=Input("money", _l("Amount")),
                              minutes=Input("int", _l("Minutes"), min=0, max=100000)))
    complete = Action(_l("Complete"), lambda wo, inp, user: wo_json(services.complete(
                          wo, inp["note"] or "", inp["charge"], **_who(user))),
                      doc=WorkOrder, states=(ON_SITE,), find=_find_order, style="success",
                      inputs=dict(**ORDER, note=Input("text", _l("What was done"), max_length=500),
                                  charge=Input("money", _l("Charge (home repair)"))))
    rate = Action(_l("Confirm and rate"), lambda wo, inp, user: wo_json(services.rate(
                      wo, inp["rating"], inp["comment"] or "", **_who(user))),
                  doc=WorkOrder, states=(COMPLETED,), find=_find_order, style="success",
                  inputs=dict(**ORDER, rating=Input("int", _l("Rating (1–5)"), required=True, min=1, max=5),
                              comment=Input("text", _l("Comment"), max_length=500)))
    reopen = Action(_l("Reopen"), lambda wo, inp, user: wo_json(services.reopen(wo, inp["reason"], **_who(user))),
                    doc=WorkOrder, states=(COMPLETED,), find=_find_order, style="warning",
                    inputs=dict(**ORDER, reason=Input("text", _l("What is still wrong"), required=True,
                                                      max_length=500)))
    cancel = Action(_l("Cancel"), lambda wo, inp, user: wo_json(services.cancel(
                        wo, inp["reason"], user=user, by=actor())),
                    doc=WorkOrder, states=OPEN_STATES, find=_find_order, style="danger",
                    confirm=_l("Cancel this work order?"),
                    inputs=dict(**ORDER, reason=Input("text", _l("Reason"), required=True, max_length=300)))
    settle = Action(_l("Settle the charge"), lambda wo, inp, user: wo_json(services.settle(
                        wo, inp["amount"], inp["payment_method"], by=actor())),
                    doc=WorkOrder, states=(COMPLETED, "closed"), find=_find_order,
                    condition=lambda wo: None if wo.kind == "home_repair" and wo.settled_at is None
                    else _("Only an unsettled home repair is settled."),
                    inputs=dict(**ORDER, amount=Input("money", _l("Amount received"), required=True),
                                payment_method=Input("choice", _l("Paid by"), choices=PAYMENT_METHODS,
                                                     default="wechat")))


class DeskNoticeApi(ActionApi):
    resource_name = "service_desk_notice"
    class_permission_name = "Notice"
    openapi_spec_tag = "Service desk"

    publish = Action(_l("Publish"), lambda n, inp, user: services.publish_notice(n, by=actor()),
                     doc=Notice, states=("draft",),
                     find=lambda inp, user: _scoped(Notice, inp.get("notice"), user),
                     inputs=dict(notice=Input("text", _l("Notice"), max_length=64, locator=True)))


class FiguresView(BaseView):
    """The figures people ask for, per category, team, vendor and month."""
    route_base = "/service_desk/figures"
    default_view = "figures"
    class_permission_name = "DeskFigures"
    method_permission_name = {"figures": "read", "data": "read"}

    @expose("/")
    @has_access
    @replica.reads
    def figures(self):
        month = request.args.get("month") or figures.latest_month()
        by = request.args.get("by", "category")
        if by not in figures.GROUPS:
            by = "category"
        return self.render_template("service_desk/figures.html", month=month, by=by, groups=figures.GROUPS,
                                    rows=figures.table(by, month), total=figures.table(None, month),
                                    trend=figures.month_over_month(month), oversight=figures.oversight(g.user),
                                    fmt=figures.fmt)

    @expose("/data")
    @has_access
    @replica.reads
    def data(self):
        month = request.args.get("month") or figures.latest_month()
        by = request.args.get("by")
        if by is not None and by not in figures.GROUPS:
            return respond(400, {"message": _("Group by one of: %(g)s", g=", ".join(figures.GROUPS))})
        rows = figures.table(by, month) if by else [figures.table(None, month)]
        return respond(200, {"month": month, "by": by, "rows": [figures.jsonable(r) for r in rows]})


class DeskWallApi(ActionApi):
    """The wall's data (the TV page polls it): open orders by status, overdue, today, notices."""
    resource_name = "service_desk_wall"
    class_permission_name = "DeskWall"
    openapi_spec_tag = "Service desk"
    method_permission_name = {"data": "read"}

    @expose("/data", methods=["GET"])
    @protect()
    @safe
    def data(self):
        return respond(200, figures.wall())


def register(appbuilder):
    appbuilder.add_api(DeskApi)
    appbuilder.add_api(DeskOrderApi)
    appbuilder.add_api(DeskNoticeApi)
    appbuilder.add_api(DeskWallApi)
    appbuilder.add_view(FiguresView, "DeskFigures", label=_l("Service figures"), icon="fa-bar-chart",
                        category="service_desk", href="/service_desk/figures/")
    from .screens import register as register_screens
    register_screens(appbuilder)
