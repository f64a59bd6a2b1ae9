"""The one-stop service desk: categories, locations, teams and their calendars, SLA rules,
requests, work orders with their audited SLA clock, notices.

Every step of a work order is an Action (views.py) running a service (services.py); no state
or clock field is writable through the generic paths. The clock is the list of
``ClockSegment`` rows (running / paused, per team); due times are derived from them by
``sla.py`` and stored on the order only so lists, the wall and the figures can query them.

Vendor teams name their vendor by its unified social credit code (``vendor_code``), not by a
foreign key: the desk runs without vendor_contracts, and the assessment hook matches the
contract's vendor by that code."""
from datetime import datetime
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.fieldpolicy import edit
from erp_core.types import Money, UTCDateTime

DISPATCHER, TECHNICIAN, LEADER, REQUESTER, MANAGER, AUDITOR, FRONT_DESK = (
    "Dispatcher", "Technician", "Team Leader", "Requester", "Logistics Manager", "Auditor", "Front Desk")

URGENCIES = {"emergency": _l("Emergency"), "urgent": _l("Urgent"), "normal": _l("Normal")}
SOURCES = {"hotline": _l("Hotline"), "walk_in": _l("Walk-in"), "web": _l("Web page"), "qr": _l("QR code")}
KINDS = {"repair": _l("Repair"), "cleaning": _l("Cleaning"), "porter": _l("Porter"), "home_repair": _l("Home repair"),
         "service": _l("Service")}
PORTER_KINDS = {"patient": _l("Patient"), "equipment": _l("Equipment"), "drugs": _l("Drugs"),
                "specimens": _l("Specimens"), "escort": _l("Escort to an examination")}
LEVELS = {"building": _l("Building"), "floor": _l("Floor"), "department": _l("Department"), "room": _l("Room"),
          "asset": _l("Asset")}
PAUSE_REASONS = {"requester": _l("Waiting for the requester"), "parts": _l("Waiting for parts"),
                 "third_party": _l("Waiting for a third party")}
NOTE_KINDS = {"note": _l("Work note"), "material": _l("Material"), "time": _l("Time spent")}
PAYMENT_METHODS = {"cash": _l("Cash"), "wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card"),
                   "payroll": _l("Payroll deduction")}
NOTICE_KINDS = {"outage": _l("Planned outage"), "roster": _l("Duty roster"), "weather": _l("Weather warning"),
                "other": _l("Notice")}

# work order states
NEW, DISPATCHED, ACCEPTED, ON_SITE, PAUSED, COMPLETED, CLOSED, CANCELLED = (
    "new", "dispatched", "accepted", "on_site", "paused", "completed", "closed", "cancelled")
WO_STATES = {NEW: _l("Waiting for dispatch"), DISPATCHED: _l("Dispatched"), ACCEPTED: _l("Accepted"),
             ON_SITE: _l("On site"), PAUSED: _l("Paused"), COMPLETED: _l("Completed, to confirm"),
             CLOSED: _l("Closed"), CANCELLED: _l("Cancelled")}
OPEN_STATES = (NEW, DISPATCHED, ACCEPTED, ON_SITE, PAUSED)
DONE_STATES = (COMPLETED, CLOSED)
# request states
R_OPEN, R_DUPLICATE, R_CLOSED, R_CANCELLED = "open", "duplicate", "closed", "cancelled"
REQUEST_STATES = {R_OPEN: _l("Open"), R_DUPLICATE: _l("Linked as duplicate"), R_CLOSED: _l("Closed"),
                  R_CANCELLED: _l("Cancelled")}
NOTICE_STATES = {"draft": _l("Draft"), "scheduled": _l("Scheduled"), "published": _l("Published"), "expired": _l("Expired")}


class Category(Document):
    """The category tree (water, power, … porters, home repair); a child inherits its parent's
    SLA rule unless it has its own."""
    __tablename__ = "service_desk_category"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(60), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_category.id"), nullable=True, index=True)
    parent = relationship("Category", remote_side="Category.id", lazy="joined", join_depth=3)
    kind: Mapped[str] = mapped_column(String(12), default="repair", index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    class Meta:
        title, title_plural = _l("Service category"), _l("Service categories")
        naming = "SC-.####"
        icon = "fa-sitemap"
        order = ("sort", "asc")
        choices = {"kind": KINDS}
        list_columns = ["code", "title", "parent", "kind", "active"]
        search_columns = ["code", "title", "kind"]
        fields = ["code", "title", "parent", "kind", "sort", "active"]
        label_columns = {"code": _l("Code"), "title": _l("Category"), "parent": _l("Parent category"),
                         "kind": _l("Kind of work"), "sort": _l("Order"), "active": _l("Active")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if not (self.code or "").strip() or not (self.title or "").strip():
            raise ValidationError(_("A category needs a code and a name."))
        if self.kind not in KINDS:
            raise ValidationError(_("Unknown kind of work: %(k)s", k=self.kind))
        seen, node = set(), self.parent
        while node is not None:           # no loops in the tree
            if node is self or id(node) in seen:
                raise ValidationError(_("A category cannot be its own ancestor."))
            seen.add(id(node))
            node = node.parent


class Location(Document):
    """Building → floor → department → room (→ asset). A department lists its phone numbers so
    the caller's number finds it; every location has a QR token for the login-free form."""
    __tablename__ = "service_desk_location"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[str] = mapped_column(String(12), default="room", index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True, index=True)
    parent = relationship("Location", remote_side="Location.id", lazy="joined", join_depth=4)   # a path is read with its location
    phones: Mapped[str] = mapped_column(String(200), default="", index=True)
    asset_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    qr_token: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    class Meta:
        title, title_plural = _l("Location"), _l("Locations")
        naming = "LOC-.#####"
        icon = "fa-building"
        order = ("code", "asc")
        choices = {"level": LEVELS}
        list_columns = ["code", "title", "level", "parent", "phones", "asset_code", "active"]
        search_columns = ["code", "title", "level", "phones", "asset_code"]
        fields = {"code": edit(), "title": edit(), "level": edit(), "parent": edit(), "phones": edit(),
                  "asset_code": edit(), "active": edit()}
        label_columns = {"code": _l("Code"), "title": _l("Location"), "level": _l("Level"), "parent": _l("Within"),
                         "phones": _l("Phone numbers"), "asset_code": _l("Asset code"), "qr_token": _l("QR token"),
                         "active": _l("Active")}
        description_columns = {"phones": _l("The department's extensions, comma separated: a caller's number finds "
                                            "the department")}

    def __str__(self):
        return self.path_text

    @property
    def path_text(self):
        parts, node, guard = [], self, 0
        while node is not None and guard < 8:
            parts.append(node.title or "")
            node, guard = node.parent, guard + 1
        return " / ".join(reversed(parts))

    def department(self):
        node, guard = self, 0
        while node is not None and guard < 8:
            if node.level == "department":
                return node
            node, guard = node.parent, guard + 1
        return None

    def validate(self):
        if not (self.code or "").strip() or not (self.title or "").strip():
            raise ValidationError(_("A location needs a code and a name."))
        if self.level not in LEVELS:
            raise ValidationError(_("Unknown level: %(l)s", l=self.level))
        if not self.qr_token:
            import secrets
            self.qr_token = secrets.token_urlsafe(12)
        seen, node = set(), self.parent
        while node is not None:
            if node is self or id(node) in seen:
                raise ValidationError(_("A location cannot be within itself."))
            seen.add(id(node))
            node = node.parent


class WorkCalendar(Document):
    """When a team works: daily hours with a lunch break on the working weekdays, minus holidays,
    plus make-up working days (调休); or round the clock."""
    __tablename__ = "service_desk_calendar"
    title: Mapped[str] = mapped_column(String(60), unique=True)
    round_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    day_start: Mapped[str] = mapped_column(String(5), default="08:00")
    day_end: Mapped[str] = mapped_column(String(5), default="17:30")
    lunch_start: Mapped[str] = mapped_column(String(5), default="12:00")
    lunch_end: Mapped[str] = mapped_column(String(5), default="13:30")
    weekdays: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    holidays: Mapped[str] = mapped_column(Text, default="")
    workdays: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")

    class Meta:
        title, title_plural = _l("Working calendar"), _l("Working calendars")
        naming = "CAL-.###"
        icon = "fa-calendar"
        list_columns = ["title", "round_the_clock", "day_start", "day_end", "lunch_start", "lunch_end", "weekdays"]
        fields = ["title", "round_the_clock", "day_start", "day_end", "lunch_start", "lunch_end", "weekdays",
                  "holidays", "workdays", "timezone"]
        label_columns = {"title": _l("Calendar"), "round_the_clock": _l("Round the clock (24 h)"),
                         "day_start": _l("Work starts"), "day_end": _l("Work ends"), "lunch_start": _l("Lunch from"),
                         "lunch_end": _l("Lunch until"), "weekdays": _l("Working weekdays"),
                         "holidays": _l("Holidays"), "workdays": _l("Make-up working days"),
                         "timezone": _l("Time zone")}
        description_columns = {"weekdays": _l("1 = Monday … 7 = Sunday, comma separated"),
                               "holidays": _l("Dates YYYY-MM-DD, comma or line separated"),
                               "workdays": _l("Weekend dates worked instead of a holiday (调休)")}

    def __str__(self):
        return self.title or ""

    def spec(self):
        from .sla import Calendar
        return Calendar.from_record(self)

    def validate(self):
        self.spec()          # refuses bad times, weekdays, dates or zone with a clear message


team_members = Table("service_desk_team_member", Model.metadata,
                     Column("team_id", ForeignKey("service_desk_team.id"), primary_key=True),
                     Column("user_id", ForeignKey("ab_user.id"), primary_key=True))
team_categories = Table("service_desk_team_category", Model.metadata,
                        Column("team_id", ForeignKey("service_desk_team.id"), primary_key=True),
                        Column("category_id", ForeignKey("service_desk_category.id"), primary_key=True))


class Team(Document):
    __tablename__ = "service_desk_team"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(80), index=True)
    vendor_code: Mapped[str] = mapped_column(String(18), default="", index=True)
    vendor_name: Mapped[str] = mapped_column(String(200), default="", index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    leader = relationship(User, foreign_keys=[leader_id])
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_calendar.id"), nullable=True)
    calendar = relationship("WorkCalendar")
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    technicians = relationship(User, secondary=team_members)
    categories = relationship("Category", secondary=team_categories)

    class Meta:
        title, title_plural = _l("Team"), _l("Teams")
        naming = "TEAM-.###"
        icon = "fa-users"
        list_columns = ["code", "title", "vendor_name", "leader", "calendar", "phone", "active"]
        search_columns = ["code", "title", "vendor_name"]
        fields = ["code", "title", "vendor_code", "vendor_name", "leader", "calendar", "phone", "active",
                  "technicians", "categories"]
        label_columns = {"code": _l("Code"), "title": _l("Team"), "vendor_code": _l("Vendor's credit code"),
                         "vendor_name": _l("Vendor"), "leader": _l("Team leader"), "calendar": _l("Working calendar"),
                         "phone": _l("Phone"), "active": _l("Active"), "technicians": _l("Technicians"),
                         "categories": _l("Categories served")}
        description_columns = {"vendor_code": _l("Empty for the hospital's own team; an outsourced team names its "
                                                 "vendor by the unified social credit code")}

    def __str__(self):
        return self.title or ""

    @property
    def outsourced(self):
        return bool(self.vendor_code)


class SlaRule(Document):
    """Response and resolution targets (minutes of the calendar's working time) for a category
    and an urgency. Orders keep the targets they were taken under (snapshot)."""
    __tablename__ = "service_desk_sla_rule"
    category_id: Mapped[int] = mapped_column(ForeignKey("service_desk_category.id"), index=True)
    category = relationship("Category")
    urgency: Mapped[str] = mapped_column(String(12), default="normal")
    response_minutes: Mapped[int] = mapped_column(Integer, default=30)
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=480)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_calendar.id"), nullable=True)
    calendar = relationship("WorkCalendar")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    class Meta:
        title, title_plural = _l("SLA rule"), _l("SLA rules")
        naming = "SLA-.####"
        icon = "fa-hourglass-half"
        choices = {"urgency": URGENCIES}
        list_columns = ["category", "urgency", "response_minutes", "resolution_minutes", "calendar", "active"]
        fields = ["category", "urgency", "response_minutes", "resolution_minutes", "calendar", "active"]
        label_columns = {"category": _l("Category"), "urgency": _l("Urgency"),
                         "response_minutes": _l("Response target (minutes)"),
                         "resolution_minutes": _l("Resolution target (minutes)"), "calendar": _l("Calendar"),
                         "active": _l("Active")}
        description_columns = {"calendar": _l("Empty: the team's own calendar")}

    def __str__(self):
        return f"{self.category} · {URGENCIES.get(self.urgency, self.urgency)}" if self.category else ""

    def validate(self):
        if self.urgency not in URGENCIES:
            raise ValidationError(_("Unknown urgency: %(u)s", u=self.urgency))
        if not (0 < (self.response_minutes or 0) <= 100000 and 0 < (self.resolution_minutes or 0) <= 100000):
            raise ValidationError(_("Targets are between 1 and 100000 minutes."))
        if self.response_minutes > self.resolution_minutes:
            raise ValidationError(_("The response target cannot be longer than the resolution target."))


class Request(Document):
    """What came in: by phone, at the counter, from the web page or a room's QR code."""
    __tablename__ = "service_desk_request"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(10), default="hotline", index=True)
    caller_phone: Mapped[str] = mapped_column(String(30), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(60), default="", index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True, index=True)
    requester = relationship(User, foreign_keys=[requester_id])
    department_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True)
    department = relationship("Location", foreign_keys=[department_id])
    location_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True, index=True)
    location = relationship("Location", foreign_keys=[location_id])
    category_id: Mapped[int] = mapped_column(ForeignKey("service_desk_category.id"), index=True)
    category = relationship("Category")
    urgency: Mapped[str] = mapped_column(String(12), default="normal", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=R_OPEN, index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_request.id"), nullable=True)
    duplicate_of = relationship("Request", remote_side="Request.id")
    device: Mapped[str] = mapped_column(String(64), default="")       # QR form: hashed device id (rate limit)

    class Meta:
        title, title_plural = _l("Service request"), _l("Service requests")
        naming = "BX-.YYYY.MM.DD.-.####"
        icon = "fa-phone"
        generic_create = False          # intake goes through its action (duplicate guard, SLA clock)
        state_field = "status"
        choices = {"source": SOURCES, "urgency": URGENCIES, "status": REQUEST_STATES}
        order = ("received_at", "desc")
        list_columns = ["name", "received_at", "source", "caller_phone", "location", "category", "urgency", "status"]
        search_columns = ["name", "caller_phone", "caller_name", "urgency", "status", "source"]   # by category: the figures page
        show_columns = ["name", "received_at", "source", "caller_phone", "caller_name", "requester", "department",
                        "location", "category", "urgency", "description", "status", "duplicate_of"]
        fields = {"caller_name": edit(states=(R_OPEN,)), "description": edit(states=(R_OPEN,))}
        label_columns = {"received_at": _l("Received"), "source": _l("Source"), "caller_phone": _l("Caller's phone"),
                         "caller_name": _l("Caller"), "requester": _l("Requester"), "department": _l("Department"),
                         "location": _l("Location"), "category": _l("Category"), "urgency": _l("Urgency"),
                         "description": _l("Description"), "status": _l("Status"),
                         "duplicate_of": _l("Duplicate of"), "device": _l("Device")}
        record_rules = {
            REQUESTER: lambda user: Request.requester_id == getattr(user, "id", None),
            TECHNICIAN: lambda user: Request.id.in_(select(WorkOrder.request_id).where(
                WorkOrder.technician_id == getattr(user, "id", None))),
        }

    def __str__(self):
        return self.name or ""

    @property
    def status_label(self):
        return REQUEST_STATES.get(self.status, self.status)


def _led_teams(user):
    return select(Team.id).where(Team.leader_id == getattr(user, "id", None))


class WorkOrder(Document):
    """One job for one team: a repair, a cleaning call, a porter run or a paid home repair."""
    __tablename__ = "service_desk_work_order"
    request_id: Mapped[int] = mapped_column(ForeignKey("service_desk_request.id"), index=True)
    request = relationship("Request", backref="work_orders")
    kind: Mapped[str] = mapped_column(String(12), default="repair", index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_desk_category.id"), index=True)
    category = relationship("Category")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True, index=True)
    location = relationship("Location", foreign_keys=[location_id])
    department_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True)
    department = relationship("Location", foreign_keys=[department_id])
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True, index=True)
    requester = relationship(User, foreign_keys=[requester_id])
    urgency: Mapped[str] = mapped_column(String(12), default="normal", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=NEW, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)        # YYYY-MM (hospital time) for the figures
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_team.id"), nullable=True, index=True)
    team = relationship("Team")
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True, index=True)
    technician = relationship(User, foreign_keys=[technician_id])
    cross_department: Mapped[bool] = mapped_column(Boolean, default=False)
    # porter runs
    porter_kind: Mapped[str] = mapped_column(String(12), default="")
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True)
    from_location = relationship("Location", foreign_keys=[from_location_id])
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_location.id"), nullable=True)
    to_location = relationship("Location", foreign_keys=[to_location_id])
    be_there_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # paid home repairs
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    charge: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_by: Mapped[str] = mapped_column(String(64), default="")
    payment_method: Mapped[str] = mapped_column(String(10), default="")
    # the SLA as taken (snapshot of the rule) and what the clock derived
    sla_rule_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_sla_rule.id"), nullable=True)
    response_target: Mapped[int | None] = mapped_column(Integer, nullable=True)       # minutes
    resolution_target: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sla_calendar_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_calendar.id"), nullable=True)
    response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    team_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)     # the team's own target (OLA)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_mins: Mapped[int | None] = mapped_column(Integer, nullable=True)          # received → accepted, wall
    resolution_mins: Mapped[int | None] = mapped_column(Integer, nullable=True)        # received → completed, wall
    sla_used_mins: Mapped[int | None] = mapped_column(Integer, nullable=True)          # working minutes counted
    response_met: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolution_met: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # the requester's word
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rectification_wanted: Mapped[bool] = mapped_column(Boolean, default=False)
    notes = relationship("WorkNote", back_populates="work_order", cascade="all, delete-orphan",
                         order_by="WorkNote.id")
    segments = relationship("ClockSegment", back_populates="work_order", cascade="all, delete-orphan",
                            order_by="ClockSegment.id")

    class Meta:
        title, title_plural = _l("Work order"), _l("Work orders")
        naming = "GD-.YYYY.MM.DD.-.####"
        icon = "fa-wrench"
        generic_create = False
        state_field = "status"
        children = ("notes", "segments")
        choices = {"kind": KINDS, "urgency": URGENCIES, "status": WO_STATES, "porter_kind": PORTER_KINDS,
                   "payment_method": PAYMENT_METHODS}
        order = ("received_at", "desc")
        list_columns = ["name", "received_at", "kind", "category", "location", "urgency", "team", "technician",
                        "status", "resolution_due"]
        search_columns = ["name", "kind", "team", "urgency", "status", "month"]   # by category: the figures page
        show_columns = ["name", "request", "kind", "category", "location", "department", "requester", "urgency",
                        "description", "status", "team", "technician", "porter_kind", "from_location",
                        "to_location", "be_there_at", "slot_start", "slot_end", "charge", "settled_at",
                        "payment_method", "received_at", "response_target", "resolution_target", "response_due",
                        "resolution_due", "team_due", "dispatched_at", "accepted_at", "arrived_at",
                        "completed_at", "closed_at", "response_mins", "resolution_mins", "response_met",
                        "resolution_met", "reopen_count", "rating", "rating_comment", "rated_at", "cancel_reason"]
        fields = {"description": edit(states=(NEW, DISPATCHED))}
        label_columns = {"request": _l("Request"), "kind": _l("Kind"), "category": _l("Category"),
                         "location": _l("Location"), "department": _l("Department"), "requester": _l("Requester"),
                         "urgency": _l("Urgency"), "description": _l("Description"), "status": _l("Status"),
                         "team": _l("Team"), "technician": _l("Technician"), "porter_kind": _l("Porter job"),
                         "from_location": _l("From"), "to_location": _l("To"), "be_there_at": _l("Be there at"),
                         "slot_start": _l("Booked from"), "slot_end": _l("Booked until"), "charge": _l("Charge"),
                         "settled_at": _l("Settled at"), "settled_by": _l("Settled by"),
                         "payment_method": _l("Paid by"), "received_at": _l("Received"), "month": _l("Month"),
                         "response_target": _l("Response target (minutes)"),
                         "resolution_target": _l("Resolution target (minutes)"), "response_due": _l("Response due"),
                         "resolution_due": _l("Resolution due"), "team_due": _l("Team's own target due"),
                         "dispatched_at": _l("Dispatched"), "accepted_at": _l("Accepted"),
                         "arrived_at": _l("Arrived"), "completed_at": _l("Completed"), "closed_at": _l("Closed"),
                         "response_mins": _l("Response time (minutes)"),
                         "resolution_mins": _l("Resolution time (minutes)"),
                         "sla_used_mins": _l("Working minutes counted"), "response_met": _l("Response on time"),
                         "resolution_met": _l("Resolved on time"), "breached_at": _l("SLA breached at"),
                         "warned_at": _l("Warned at"), "reopen_count": _l("Reopened"), "rating": _l("Rating"),
                         "rating_comment": _l("Comment"), "rated_at": _l("Rated"),
                         "rating_reminded_at": _l("Rating reminder sent"),
                         "rectification_wanted": _l("Rectification asked"), "cancel_reason": _l("Cancellation reason"),
                         "cross_department": _l("Cross-department"), "sla_rule": _l("SLA rule"),
                         "sla_calendar": _l("SLA calendar")}
        record_rules = {
            TECHNICIAN: lambda user: WorkOrder.technician_id == getattr(user, "id", None),
            REQUESTER: lambda user: WorkOrder.requester_id == getattr(user, "id", None),
            LEADER: lambda user: WorkOrder.team_id.in_(_led_teams(user)),
            FRONT_DESK: lambda user: WorkOrder.kind == "home_repair",
        }

    def __str__(self):
        return self.name or ""

    @property
    def status_label(self):
        return WO_STATES.get(self.status, self.status)

    @property
    def is_open(self):
        return self.status in OPEN_STATES


class ClockSegment(Model):
    """One stretch of the SLA clock: running or paused (with its reason), for one team. Never
    edited after it ends; a rule change or a reassignment adds rows, it does not rewrite them."""
    __tablename__ = "service_desk_clock_segment"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("service_desk_work_order.id"), index=True)
    work_order = relationship("WorkOrder", back_populates="segments")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_desk_team.id"), nullable=True)
    team = relationship("Team")
    state: Mapped[str] = mapped_column(String(8), default="running")      # running / paused
    reason: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_by: Mapped[str] = mapped_column(String(64), default="")

    class Meta:
        title_plural = _l("SLA clock")
        choices = {"reason": PAUSE_REASONS, "state": {"running": _l("Running"), "paused": _l("Paused")}}
        label_columns = {"team": _l("Team"), "state": _l("Clock"), "reason": _l("Reason"), "note": _l("Note"),
                         "started_at": _l("From"), "ended_at": _l("Until"), "started_by": _l("By")}
        list_columns = ["started_at", "ended_at", "state", "reason", "team", "note", "started_by"]


class WorkNote(Model):
    """What the technician recorded: notes, materials (with cost) and time."""
    __tablename__ = "service_desk_work_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("service_desk_work_order.id"), index=True)
    work_order = relationship("WorkOrder", back_populates="notes")
    kind: Mapped[str] = mapped_column(String(10), default="note")
    text: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64), default="")

    class Meta:
        title_plural = _l("Work notes")
        choices = {"kind": NOTE_KINDS}
        label_columns = {"kind": _l("Kind"), "text": _l("Note"), "quantity": _l("Quantity"), "amount": _l("Amount"),
                         "minutes": _l("Minutes"), "at": _l("At"), "by": _l("By")}
        list_columns = ["at", "kind", "text", "quantity", "amount", "minutes", "by"]


class Notice(Document):
    """Planned outages, duty rosters, weather warnings: published by a job when valid, shown on
    the wall until they expire."""
    __tablename__ = "service_desk_notice"
    kind: Mapped[str] = mapped_column(String(10), default="other", index=True)
    title: Mapped[str] = mapped_column(String(120), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    class Meta:
        title, title_plural = _l("Notice"), _l("Notices")
        naming = "TZ-.YYYY.-.####"
        icon = "fa-bullhorn"
        state_field = "status"
        choices = {"kind": NOTICE_KINDS, "status": NOTICE_STATES}
        order = ("valid_from", "desc")
        list_columns = ["title", "kind", "valid_from", "valid_until", "status"]
        search_columns = ["title", "kind", "status"]
        fields = {f: edit(states=("draft",)) for f in ("kind", "title", "body", "valid_from", "valid_until")}
        label_columns = {"kind": _l("Kind"), "title": _l("Title"), "body": _l("Text"), "valid_from": _l("Valid from"),
                         "valid_until": _l("Valid until"), "status": _l("Status"), "published_at": _l("Published")}

    def __str__(self):
        return self.title or ""

    @property
    def status_label(self):
        return NOTICE_STATES.get(self.status, self.status)

    def validate(self):
        if self.kind not in NOTICE_KINDS:
            raise ValidationError(_("Unknown kind of notice: %(k)s", k=self.kind))
        if not (self.title or "").strip():
            raise ValidationError(_("A notice needs a title."))
        if self.valid_from is None or self.valid_until is None or self.valid_until <= self.valid_from:
            raise ValidationError(_("A notice is valid until a time after it starts."))
