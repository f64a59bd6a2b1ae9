"""The desk's screens: the login-free QR request form (bound to a room or asset by a signed
token) and the TV wall. They call the core's services; they never write models themselves.

The QR form is the one page here without a login: what it may do is limited by the token
(one location, one new request) and by rate limits per device, per client address and per
location, counted in erp_core's login limiter store (Redis in production, so the limits hold
across workers)."""
import hashlib
import secrets

from flask import current_app, make_response, render_template, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from erp_core.permissions import public
from erp_core.context import acting_as
from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.extensions import db
from erp_core.views import PHOTO_TYPES, attach, checked_upload

from . import services
from .models import KINDS, URGENCIES, Category, Location

QR_SALT = "service_desk.qr"
DEVICE_COOKIE = "hq_desk_device"
QR_KINDS = ("repair", "cleaning", "service")          # porters and paid home repairs are booked by staff


# --- the signed token ---------------------------------------------------------------------

def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=QR_SALT)


def qr_token(location):
    """What the QR code carries: the location's random token, signed (not its id or code)."""
    return _signer().dumps(location.qr_token)


def qr_url(location, external=True):
    from flask import url_for
    return url_for("QrFormView.form", token=qr_token(location), _external=external)


def location_for(token):
    try:
        raw = _signer().loads(str(token or "")[:200])
    except BadSignature:
        raise NotFound(_("This QR code is not valid. Call the service desk."))
    loc = db.session.scalars(select(Location).where(Location.qr_token == str(raw), Location.active.is_(True))).first()
    if loc is None:
        raise NotFound(_("This QR code is not valid. Call the service desk."))
    return loc


# --- the photo ----------------------------------------------------------------------------

def photo_limit():
    return int(current_app.config.get("SERVICE_DESK_PHOTO_MAX", 5 * 1024 * 1024))


def checked_photo(upload, label):
    """The photo checked by erp_core's upload rule with the desk's bound, or None if none was sent."""
    if upload is None or not upload.filename:
        return None
    return checked_upload(upload, PHOTO_TYPES, photo_limit(), rename=label)


# --- the rate limit -----------------------------------------------------------------------

def _limiter():
    """erp_core's login limiter store, with the QR form's own windows."""
    from limits import parse
    from limits.strategies import MovingWindowRateLimiter
    store = current_app.extensions["houqin_login_limiter"].storage
    cfg = current_app.config
    return MovingWindowRateLimiter(store), [
        (parse(cfg.get("SERVICE_DESK_QR_LIMIT_DEVICE", "5 per hour")), "houqin-qr-device"),
        (parse(cfg.get("SERVICE_DESK_QR_LIMIT_ADDRESS", "30 per hour")), "houqin-qr-address"),
        (parse(cfg.get("SERVICE_DESK_QR_LIMIT_LOCATION", "10 per hour")), "houqin-qr-location")]


def rate_hit(device, address, location):
    """Count one submission; True if it is within every limit. A refused one counts against
    none, so one noisy phone does not use up the room's allowance for everyone else."""
    limiter, items = _limiter()
    keys = [(item, ns, ident) for (item, ns), ident in zip(items, (device, address, location.qr_token))]
    if not all(limiter.test(*k) for k in keys):
        return False
    return all([limiter.hit(*k) for k in keys])


def _device():
    value = request.cookies.get(DEVICE_COOKIE, "")
    if not (16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()):
        value = secrets.token_urlsafe(18)
    return value


def _address():
    return request.remote_addr or "-"


def qr_categories():
    return db.session.scalars(select(Category).where(Category.active.is_(True), Category.kind.in_(QR_KINDS))
                              .order_by(Category.sort, Category.code)).all()


class QrFormView(BaseView):
    """/service_desk/qr/<signed token>: the phone form a room's or asset's QR code opens.
    Login-free on purpose (a patient's visitor or a cleaner can report a leak); see the module
    docstring for what limits it."""
    route_base = "/service_desk/qr"

    def _page(self, loc, device, status=200, **kw):
        html = render_template("service_desk/qr_form.html", loc=loc, categories=qr_categories(),
                               urgencies=URGENCIES, kinds=KINDS, form=request.form, **kw)
        resp = make_response(html, status)
        resp.set_cookie(DEVICE_COOKIE, device, max_age=365 * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @expose("/<token>", methods=["GET", "POST"])
    @public      # login-free on purpose: bound by a signed token, rate-limited
    def form(self, token):
        device = _device()
        try:
            loc = location_for(token)
        except NotFound as exc:
            return render_template("service_desk/qr_form.html", loc=None, error=str(exc)), 404
        if request.method == "GET":
            return self._page(loc, device)
        if not rate_hit(hashlib.sha256(device.encode()).hexdigest(), _address(), loc):
            return self._page(loc, device, 429, error=_("Too many requests from here. Please call the service "
                                                        "desk hotline instead."))
        try:
            done = self._submit(loc, device)
        except UserError as exc:
            db.session.rollback()
            return self._page(loc, device, exc.status, error=str(exc))
        return self._page(loc, device, 201, done=done)

    def _submit(self, loc, device):
        f = request.form
        category = db.session.scalars(select(Category).where(Category.code == f.get("category", "")[:20],
                                                             Category.active.is_(True),
                                                             Category.kind.in_(QR_KINDS))).first()
        if category is None:
            raise ValidationError(_("Choose what is wrong."))
        urgency = f.get("urgency", "normal")
        if urgency not in URGENCIES:
            raise ValidationError(_("Unknown urgency: %(u)s", u=urgency[:20]))
        description = (f.get("description") or "").strip()[:2000]
        if not description:
            raise ValidationError(_("Say in a few words what is wrong."))
        photo = checked_photo(request.files.get("photo"), "photo")
        with acting_as(f"qr:{loc.code}"):
            dup = services.find_duplicate(category, loc)
            req, _wo = services.intake(
                category=category, urgency=urgency, description=description, source="qr", location=loc,
                caller_phone=(f.get("phone") or "").strip()[:30], caller_name=(f.get("name") or "").strip()[:60],
                link_to=dup, device=hashlib.sha256(device.encode()).hexdigest()[:64], by=f"qr:{loc.code}")
            if photo is not None:
                attach(req, photo)
            db.session.commit()
        return {"name": req.name, "duplicate_of": dup.name if dup else None}


class WallView(BaseView):
    """/service_desk/wall/: the centre's TV (1920×1080); it polls the wall's JSON endpoint
    (same read permission) and redraws without reloading. Local assets only."""
    route_base = "/service_desk/wall"
    default_view = "wall"
    class_permission_name = "DeskWall"
    method_permission_name = {"wall": "read"}

    @expose("/")
    @has_access
    def wall(self):
        seconds = int(current_app.config.get("SERVICE_DESK_WALL_REFRESH", 30))
        return render_template("service_desk/wall.html", refresh=seconds)


def trees():
    """What the intake screen picks from: the category and location trees and the teams with
    their technicians and categories (for the dispatch step)."""
    from erp_core.printing.toolkit import full_name
    from .models import Team
    cats = db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.sort, Category.code))
    locs = db.session.scalars(select(Location).where(Location.active.is_(True), Location.level != "asset")
                              .order_by(Location.code))
    teams = db.session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.code))
    return {"categories": [{"code": c.code, "title": c.title, "kind": c.kind,
                            "parent": c.parent.code if c.parent else None} for c in cats],
            "locations": [{"code": l.code, "title": l.title, "level": l.level,
                           "parent": l.parent.code if l.parent else None} for l in locs],
            "teams": [{"code": t.code, "title": t.title, "categories": [c.code for c in t.categories],
                       "technicians": [{"login": u.username, "name": full_name(u)} for u in t.technicians]}
                      for t in teams]}


class IntakeView(BaseView):
    """/service_desk/intake/: the dispatcher's screen (phone and desk PC). The page posts to
    the core's intake, lookup and dispatch actions; it only adds the trees it picks from."""
    route_base = "/service_desk/intake"
    default_view = "intake"
    class_permission_name = "DeskIntake"        # the dispatcher's screen; what it posts is checked by each action
    method_permission_name = {"intake": "read", "data": "read"}

    @expose("/")
    @has_access
    def intake(self):
        return self.render_template("service_desk/intake.html", urgencies=URGENCIES)

    @expose("/data")
    @has_access
    def data(self):
        from erp_core.views import respond
        return respond(200, trees())


def order_card(wo):
    """An order as the phone pages show it: labels and names, times to the minute, the clock."""
    from erp_core.printing.toolkit import full_name, when
    from .models import PAUSE_REASONS
    segs = [{"state": str(_("Paused") if s.state == "paused" else _("Running")), "paused": s.state == "paused",
             "reason": str(PAUSE_REASONS.get(s.reason, "")) if s.reason else "", "note": s.note,
             "team": s.team.title if s.team else "", "from": when(s.started_at),
             "until": when(s.ended_at) if s.ended_at else ""} for s in wo.segments]
    steps = [(_("Received"), wo.received_at), (_("Dispatched"), wo.dispatched_at), (_("Accepted"), wo.accepted_at),
             (_("Arrived"), wo.arrived_at), (_("Completed"), wo.completed_at), (_("Closed"), wo.closed_at)]
    return {"name": wo.name, "status": wo.status, "status_label": str(wo.status_label), "category": wo.category.title,
            "location": wo.location.path_text if wo.location else "", "description": wo.description,
            "team": wo.team.title if wo.team else "", "team_phone": wo.team.phone if wo.team else "",
            "technician": full_name(wo.technician) if wo.technician else "",
            "resolution_due": when(wo.resolution_due) if wo.resolution_due else "",
            "steps": [{"label": str(l), "at": when(t)} for l, t in steps if t is not None],
            "segments": segs, "rating": wo.rating}


class _PhoneList(BaseView):
    """A phone page of one person's orders, redrawn from its JSON every few seconds. Each page
    has its own permission, so it is in the menu of the roles that work in it only."""
    default_view = "page"
    method_permission_name = {"page": "read", "data": "read"}
    template = mode = None

    def mine(self, user):
        raise NotImplementedError

    @expose("/")
    @has_access
    def page(self):
        return self.render_template(self.template, mode=self.mode, refresh=int(
            current_app.config.get("SERVICE_DESK_PHONE_REFRESH", 15)))

    @expose("/data")
    @has_access
    def data(self):
        from erp_core.permissions import request_user, scoped_select
        from erp_core.views import respond
        from .models import WorkOrder
        user = request_user()
        stmt = scoped_select(WorkOrder, user).where(self.mine(user)).order_by(WorkOrder.received_at.desc()).limit(30)
        return respond(200, {"orders": [order_card(wo) for wo in db.session.scalars(stmt)]})


class MyRequestsView(_PhoneList):
    """/service_desk/mine/: the requester follows her own requests (never another's)."""
    route_base = "/service_desk/mine"
    class_permission_name = "DeskMine"
    template, mode = "service_desk/phone_orders.html", "requester"

    def mine(self, user):
        from .models import WorkOrder
        return WorkOrder.requester_id == getattr(user, "id", None)


class MyJobsView(_PhoneList):
    """/service_desk/jobs/: the technician's own orders and their steps."""
    route_base = "/service_desk/jobs"
    class_permission_name = "DeskJobs"
    template, mode = "service_desk/phone_orders.html", "technician"

    def mine(self, user):
        from .models import OPEN_STATES, COMPLETED, WorkOrder
        return (WorkOrder.technician_id == getattr(user, "id", None)) & WorkOrder.status.in_((*OPEN_STATES, COMPLETED))


def register(appbuilder):
    # the working pages, in the menu of the roles that hold their permission (the home lists them too)
    for view, name, label, icon in (
            (IntakeView, "DeskIntake", _l("Take a request"), "fa-phone"),
            (MyJobsView, "DeskJobs", _l("My work orders"), "fa-wrench"),
            (MyRequestsView, "DeskMine", _l("My requests"), "fa-comment"),
            (WallView, "DeskWall", _l("Wall screen"), "fa-television")):
        appbuilder.add_view(view, name, label=label, icon=icon, category="service_desk",
                            href=view.route_base + "/")
    appbuilder.add_view_no_menu(QrFormView)
