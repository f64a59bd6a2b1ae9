"""The desk's business rules. Callers (actions, jobs, demo) are already authorized; the
rules that depend on *who* (only the assigned technician accepts, only the requester rates)
are checked here because they are rules of the order, not of a role."""
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core import audit
from erp_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from erp_core.extensions import db
from erp_core.types import LOCAL_TZ, now

from . import sla
from .models import (ACCEPTED, CANCELLED, CLOSED, COMPLETED, DISPATCHED, NEW, ON_SITE, OPEN_STATES, PAUSE_REASONS,
                     PAUSED, R_CANCELLED, R_CLOSED, R_DUPLICATE, R_OPEN, Category, ClockSegment, Location, Notice,
                     Request, SlaRule, Team, WorkCalendar, WorkNote, WorkOrder)

DEFAULT_TARGETS = {"emergency": (15, 240), "urgent": (30, 480), "normal": (60, 1440)}   # minutes, no rule found
WARN_BEFORE = timedelta(minutes=30)


def setting(name, default):
    return current_app.config.get(name, default)


def rating_days():
    return int(setting("SERVICE_DESK_RATING_DAYS", 7))


# --- look-ups ------------------------------------------------------------------------------

def by_name(cls, name, what):
    doc = db.session.scalars(select(cls).where(cls.name == str(name or ""))).first() if name else None
    if doc is None:
        raise NotFound(_("Unknown %(what)s: %(name)s", what=what, name=str(name or "")[:64]))
    return doc


def by_code(cls, code, what):
    doc = db.session.scalars(select(cls).where(cls.code == str(code or "").strip())).first() if code else None
    if doc is None:
        raise NotFound(_("Unknown %(what)s: %(name)s", what=what, name=str(code or "")[:64]))
    return doc


def find_by_phone(phone):
    """The caller's department (its listed extensions) and the caller's open requests."""
    phone = (phone or "").strip()
    if not phone:
        return None, []
    dept = None
    for loc in db.session.scalars(select(Location).where(Location.phones.contains(phone), Location.active.is_(True))):
        if phone in [p.strip() for p in loc.phones.replace("，", ",").split(",")]:
            dept = loc
            break
    open_requests = db.session.scalars(select(Request).where(Request.caller_phone == phone, Request.status == R_OPEN)
                                       .order_by(Request.received_at.desc()).limit(20)).all()
    return dept, open_requests


def find_duplicate(category, location):
    """An open request of the same category at the same location (offered for linking)."""
    if category is None or location is None:
        return None
    return db.session.scalars(select(Request).where(Request.category_id == category.id,
                                                    Request.location_id == location.id, Request.status == R_OPEN)
                              .order_by(Request.received_at)).first()


def rule_for(category, urgency):
    """The active rule for the category or its nearest ancestor that has one."""
    node, guard = category, 0
    while node is not None and guard < 10:
        rule = db.session.scalars(select(SlaRule).where(SlaRule.category_id == node.id, SlaRule.urgency == urgency,
                                                        SlaRule.active.is_(True))).first()
        if rule is not None:
            return rule
        node, guard = node.parent, guard + 1
    return None


def serving_team(category):
    node, guard = category, 0
    while node is not None and guard < 10:
        team = db.session.scalars(select(Team).where(Team.active.is_(True), Team.categories.any(Category.id == node.id))
                                  .order_by(Team.id)).first()
        if team is not None:
            return team
        node, guard = node.parent, guard + 1
    return None


# --- the clock -----------------------------------------------------------------------------

def calendar_of(record, urgency):
    """The clock's calendar: the record's, or round the clock for an emergency without one."""
    if record is not None:
        return record.spec()
    if urgency == "emergency":
        return sla.ROUND_THE_CLOCK
    return sla.Calendar(tz=LOCAL_TZ)


def sla_calendar(wo):
    return calendar_of(wo.__dict__.get("_sla_cal") or (db.session.get(WorkCalendar, wo.sla_calendar_id)
                                                       if wo.sla_calendar_id else None), wo.urgency)


def team_calendar(wo):
    cal = wo.team.calendar if wo.team is not None else None
    return calendar_of(cal, wo.urgency) if not (wo.urgency == "emergency" and cal is None) else sla.ROUND_THE_CLOCK


def segments_of(wo):
    return [sla.Segment(s.state, s.started_at, s.ended_at, s.team_id, s.reason) for s in wo.segments]


def refresh_clock(wo):
    """Derive the stored due times from the target and the segments (never the other way)."""
    segs, cal = segments_of(wo), sla_calendar(wo)
    wo.response_due = sla.due(segs, wo.response_target, cal) if wo.accepted_at is None else None
    wo.resolution_due = sla.due(segs, wo.resolution_target, cal)
    wo.team_due = sla.due(segs, wo.resolution_target, team_calendar(wo), team=wo.team_id) if wo.team_id else None


def _switch(wo, state, at, by, reason="", note=""):
    """End the open segment and start the next (running or paused) for the order's team."""
    for seg in wo.segments:
        if seg.ended_at is None:
            seg.ended_at = at
    if state is not None:
        wo.segments.append(ClockSegment(team_id=wo.team_id, state=state, reason=reason, note=note[:300],
                                        started_at=at, started_by=by))
    db.session.flush()


def apply_rule(wo, rule, *, by):
    """Take another SLA rule's targets (category corrected, rule changed): the segments stay,
    so no pause is lost; only the targets and the derived dues change."""
    wo.sla_rule_id = rule.id if rule else None
    old = (wo.response_target, wo.resolution_target)
    wo.response_target, wo.resolution_target = _targets(rule, wo.urgency)
    refresh_clock(wo)
    audit.record(db.session, wo, "retarget", old=list(old), new=[wo.response_target, wo.resolution_target])
    return wo


def _targets(rule, urgency):
    if rule is not None:
        return rule.response_minutes, rule.resolution_minutes
    return DEFAULT_TARGETS.get(urgency, DEFAULT_TARGETS["normal"])


def _breach(wo, due_at):
    if wo.breached_at is None:
        wo.breached_at = due_at


def _mins(a, b):
    return int(round(sla.minutes(sla.utc(b) - sla.utc(a))))


# --- intake --------------------------------------------------------------------------------

def intake(*, category, urgency="normal", description="", source="hotline", location=None, department=None,
           caller_phone="", caller_name="", requester=None, link_to=None, force=False, device="", kind=None,
           porter_kind="", from_location=None, to_location=None, be_there_at=None, slot_start=None, slot_end=None,
           by, at=None):
    """A new request. The duplicate guard: an open request of the same category at the same
    location is refused (409 naming it) unless the caller links to it or insists (``force``)."""
    at = at or now()
    if urgency not in ("emergency", "urgent", "normal"):
        raise ValidationError(_("Unknown urgency: %(u)s", u=urgency))
    if location is None and from_location is None:
        raise ValidationError(_("Give the location (or where a porter job starts)."))
    if department is None:
        department = (location or from_location).department()
    kind = kind or category.kind
    if kind == "porter":
        if from_location is None or to_location is None or be_there_at is None:
            raise ValidationError(_("A porter job needs from, to and the time to be there."))
        if porter_kind not in ("patient", "equipment", "drugs", "specimens", "escort"):
            raise ValidationError(_("Say what the porter moves: patient, equipment, drugs, specimens or escort."))
        location = location or from_location
    if kind == "home_repair":
        if requester is None or slot_start is None or slot_end is None or slot_end <= slot_start:
            raise ValidationError(_("A home repair is booked by a staff member for a time slot."))
    req = Request(received_at=at, source=source, caller_phone=(caller_phone or "").strip(),
                  caller_name=caller_name or (requester.first_name if requester else ""),
                  requester_id=requester.id if requester else None, department_id=department.id if department else None,
                  location_id=location.id if location else None, category_id=category.id, urgency=urgency,
                  description=description, device=device)
    if link_to is not None:
        if link_to.status != R_OPEN:
            raise Conflict(_("%(doc)s is no longer open; take a new request instead.", doc=link_to.name))
        req.status, req.duplicate_of_id = R_DUPLICATE, link_to.id
        db.session.add(req)
        db.session.flush()
        audit.record(db.session, link_to, "duplicate_linked", request=req.name)
        return req, None
    # every writer takes the audit head lock at its flush anyway; taking it before looking makes two
    # dispatchers taking the same call end in one request and one 409, not two requests
    audit.lock_head(db.session.connection())
    dup = find_duplicate(category, location)
    if dup is not None and not force:
        err = Conflict(_("%(doc)s is already open for %(cat)s at %(loc)s: link this call to it, or take it as a new "
                         "request anyway.", doc=dup.name, cat=category.title, loc=location.path_text))
        err.duplicate = dup.name
        raise err
    db.session.add(req)
    rule = rule_for(category, urgency)
    response, resolution = _targets(rule, urgency)
    team = serving_team(category)
    cal = rule.calendar if rule and rule.calendar else (team.calendar if team and urgency != "emergency" else None)
    cross = False
    if kind == "porter":
        a, b = from_location.department(), to_location.department()
        cross = bool(a and b and a.id != b.id)
    elif department is not None and location is not None and location.department() is not None:
        cross = location.department().id != department.id
    wo = WorkOrder(request=req, kind=kind, category_id=category.id, location_id=location.id if location else None,
                   department_id=department.id if department else None, requester_id=req.requester_id,
                   urgency=urgency, description=description, status=NEW, received_at=at,
                   month=at.astimezone(LOCAL_TZ).strftime("%Y-%m"), cross_department=cross,
                   porter_kind=porter_kind if kind == "porter" else "",
                   from_location_id=from_location.id if from_location else None,
                   to_location_id=to_location.id if to_location else None, be_there_at=be_there_at,
                   slot_start=slot_start, slot_end=slot_end, sla_rule_id=rule.id if rule else None,
                   response_target=response, resolution_target=resolution,
                   sla_calendar_id=cal.id if cal else None)
    wo.__dict__["_sla_cal"] = cal
    db.session.add(wo)
    db.session.flush()
    _switch(wo, "running", at, by)
    refresh_clock(wo)
    return req, wo


def link_duplicate(req, original, *, by):
    """Link an open request (taken before the duplicate was noticed) to an earlier one: its
    work order is cancelled, nothing is done twice."""
    if original.id == req.id or original.status != R_OPEN:
        raise Conflict(_("Link to another request that is still open."))
    req.status, req.duplicate_of_id = R_DUPLICATE, original.id
    for wo in req.work_orders:
        if wo.status in OPEN_STATES:
            cancel(wo, _("Duplicate of %(doc)s", doc=original.name), by=by, sync=False)
    audit.record(db.session, original, "duplicate_linked", request=req.name)
    return req


# --- the order's steps ---------------------------------------------------------------------

def _member(team, user):
    return user is not None and any(u.id == user.id for u in team.technicians)


def _leads(team, user):
    return team is not None and user is not None and team.leader_id == user.id


def dispatch(wo, team, technician=None, *, by, at=None):
    at = at or now()
    if not team.active:
        raise ValidationError(_("%(team)s is not active.", team=team.title))
    if technician is not None and not _member(team, technician):
        raise ValidationError(_("%(who)s is not a technician of %(team)s.", who=technician.username, team=team.title))
    wo.team, wo.technician_id = team, technician.id if technician else None
    wo.team_id = team.id
    wo.status, wo.dispatched_at = DISPATCHED, at
    _switch(wo, "running", at, by)          # the team's own target (OLA) counts from here
    refresh_clock(wo)
    return wo


def reassign(wo, team, technician=None, *, reason, by, at=None):
    """Another team (or technician): the new team's own target starts; the overall SLA keeps
    running from the request, with every pause so far."""
    at = at or now()
    if not (reason or "").strip():
        raise ValidationError(_("Say why the order is reassigned."))
    if technician is not None and not _member(team, technician):
        raise ValidationError(_("%(who)s is not a technician of %(team)s.", who=technician.username, team=team.title))
    old = wo.team.title if wo.team else ""
    state = "paused" if wo.status == PAUSED else "running"
    reason_code = next((s.reason for s in reversed(wo.segments) if s.ended_at is None), "")
    wo.team, wo.team_id, wo.technician_id = team, team.id, technician.id if technician else None
    wo.status = PAUSED if wo.status == PAUSED else DISPATCHED
    _switch(wo, state, at, by, reason=reason_code if state == "paused" else "", note=reason)
    refresh_clock(wo)
    audit.record(db.session, wo, "reassigned", old_team=old, new_team=team.title, reason=reason.strip())
    return wo


def _assigned(wo, user):
    if user is None or not (wo.technician_id == user.id or _leads(wo.team, user) or
                            (wo.technician_id is None and wo.team is not None and _member(wo.team, user))):
        raise PermissionDenied(_("Only the assigned technician or the team leader records this."))


def accept(wo, *, user, by, at=None):
    at = at or now()
    _assigned(wo, user)
    if wo.technician_id is None:
        wo.technician_id = user.id
    wo.status = ACCEPTED
    if wo.accepted_at is None:                    # the first response counts; a reassignment's accept does not
        wo.accepted_at = at
        wo.response_mins = _mins(wo.received_at, at)
        used = sla.used(segments_of(wo), sla_calendar(wo), at)
        wo.response_met = sla.minutes(used) <= wo.response_target
        if not wo.response_met:
            _breach(wo, wo.response_due or at)
    refresh_clock(wo)
    return wo


def arrive(wo, *, user, by, at=None):
    _assigned(wo, user)
    at = at or now()
    wo.status = ON_SITE
    wo.arrived_at = wo.arrived_at or at
    return wo


def pause(wo, reason, note="", *, user, by, at=None):
    _assigned(wo, user)
    if reason not in PAUSE_REASONS:
        raise ValidationError(_("Say why the clock stops: %(r)s", r=", ".join(str(v) for v in PAUSE_REASONS.values())))
    wo.status = PAUSED
    _switch(wo, "paused", at or now(), by, reason=reason, note=note or "")
    refresh_clock(wo)
    return wo


def resume(wo, *, user, by, at=None):
    _assigned(wo, user)
    wo.status = ON_SITE
    _switch(wo, "running", at or now(), by)
    refresh_clock(wo)
    return wo


def add_note(wo, kind="note", text="", quantity=None, amount=None, minutes=0, *, user, by, at=None):
    _assigned(wo, user)
    if kind not in ("note", "material", "time"):
        raise ValidationError(_("A note, a material or time spent."))
    if not (text or "").strip() and not minutes:
        raise ValidationError(_("Write what was done or used."))
    if amount is not None and amount < 0 or (minutes or 0) < 0:
        raise ValidationError(_("Amounts and minutes cannot be negative."))
    wo.notes.append(WorkNote(kind=kind, text=(text or "").strip()[:500], quantity=quantity,
                             amount=amount or Decimal("0"), minutes=minutes or 0, at=at or now(), by=by))
    db.session.flush()
    return wo


def complete(wo, note="", charge=None, *, user, by, at=None):
    at = at or now()
    _assigned(wo, user)
    if note:
        add_note(wo, "note", note, user=user, by=by, at=at)
    _switch(wo, None, at, by)                      # the clock stops; a reopen starts a new segment
    used = sla.used(segments_of(wo), sla_calendar(wo), at)
    wo.status, wo.completed_at = COMPLETED, at
    wo.resolution_mins = _mins(wo.received_at, at)
    wo.sla_used_mins = int(round(sla.minutes(used)))
    wo.resolution_met = sla.minutes(used) <= wo.resolution_target
    if not wo.resolution_met:
        _breach(wo, wo.resolution_due or at)
    if wo.kind == "home_repair":
        materials = sum((n.amount for n in wo.notes if n.kind == "material"), Decimal("0"))
        wo.charge = charge if charge is not None else materials
    wo.response_due = wo.resolution_due = wo.team_due = None
    return wo


def rate(wo, rating, comment="", *, user, by, at=None):
    """Only the requester rates, never the technician who did the work, within the window."""
    at = at or now()
    if user is None or wo.requester_id is None or wo.requester_id != user.id or wo.technician_id == user.id:
        raise PermissionDenied(_("Only the person who asked for the work rates it."))
    if wo.completed_at is None or at > wo.completed_at + timedelta(days=rating_days()):
        raise Conflict(_("The rating window (%(n)s days) has closed.", n=rating_days()))
    if not (isinstance(rating, int) and 1 <= rating <= 5):
        raise ValidationError(_("A rating is 1 to 5."))
    wo.rating, wo.rating_comment, wo.rated_at = rating, (comment or "").strip()[:500], at
    wo.rectification_wanted = rating <= 2 and bool(wo.team and wo.team.outsourced)
    _close(wo, at)
    return wo


def _close(wo, at):
    wo.status, wo.closed_at = CLOSED, at
    if wo.request.status == R_OPEN and all(o.status in (CLOSED, CANCELLED) for o in wo.request.work_orders):
        wo.request.status = R_CLOSED


def reopen(wo, reason, *, user, by, at=None):
    """Not fixed after all: back to the team, the clock runs again from now. The time between
    completion and the reopen is neither counted nor a pause (see sla.py)."""
    at = at or now()
    if not (reason or "").strip():
        raise ValidationError(_("Say what is still wrong."))
    if wo.requester_id is not None and user is not None and wo.requester_id != user.id \
            and not _can(user, "dispatch"):
        raise PermissionDenied(_("Only the requester or the desk reopens an order."))
    if wo.completed_at and at > wo.completed_at + timedelta(days=rating_days()):
        raise Conflict(_("The rating window (%(n)s days) has closed.", n=rating_days()))
    wo.status, wo.completed_at, wo.resolution_met = DISPATCHED, None, None
    wo.resolution_mins = wo.sla_used_mins = None
    wo.reopen_count = (wo.reopen_count or 0) + 1
    _switch(wo, "running", at, by, note=reason)
    refresh_clock(wo)
    audit.record(db.session, wo, "reopened", reason=reason.strip())
    return wo


def _can(user, action):
    from erp_core.permissions import user_can
    return user_can(user, action, "WorkOrder")


def cancel(wo, reason, *, by, user=None, at=None, sync=True):
    at = at or now()
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required to cancel."))
    if user is not None and wo.requester_id == user.id and not _can(user, "dispatch") \
            and wo.status not in (NEW, DISPATCHED):
        raise Conflict(_("Work has started; ask the desk to cancel it."))
    _switch(wo, None, at, by)
    wo.status, wo.cancel_reason = CANCELLED, reason.strip()
    wo.response_due = wo.resolution_due = wo.team_due = None
    if sync and all(o.status == CANCELLED for o in wo.request.work_orders):
        wo.request.status = R_CANCELLED
    audit.record(db.session, wo, "cancelled", reason=reason.strip())
    return wo


def settle(wo, amount, payment_method, *, by, at=None):
    """The front desk takes the charge of a home repair: exactly the amount on the order."""
    if wo.kind != "home_repair":
        raise Conflict(_("Only a home repair is settled at the front desk."))
    if wo.settled_at is not None:
        raise Conflict(_("%(doc)s is already settled.", doc=wo.name))
    if amount != wo.charge:
        raise ValidationError(_("The order's charge is ¥%(c)s; take exactly that.", c=f"{wo.charge:,.2f}"))
    wo.settled_at, wo.settled_by, wo.payment_method = at or now(), by, payment_method
    return wo


# --- notices -------------------------------------------------------------------------------

def publish_notice(notice, *, by, at=None):
    """Approve a draft: it goes out now if its validity has begun, else when it begins (job)."""
    at = at or now()
    if notice.valid_until <= at:
        raise Conflict(_("The notice has already expired."))
    notice.status = "published" if notice.valid_from <= at else "scheduled"
    if notice.status == "published":
        notice.published_at = at
        _notify_notice(notice)
    return notice


def current_notices(at=None):
    at = at or now()
    return db.session.scalars(select(Notice).where(Notice.status == "published", Notice.valid_from <= at,
                                                   Notice.valid_until > at).order_by(Notice.valid_from)).all()


def _notify_notice(notice):
    from .jobs import send
    send(_everyone(), notice.title, notice.body, link=f"/service_desk/notice/show/{notice.id}", key=f"notice:{notice.id}")


def _everyone():
    from flask_appbuilder.security.sqla.models import User
    return db.session.scalars(select(User).where(User.active.is_(True))).all()


# --- the vendor's assessment ---------------------------------------------------------------

def assessment_evidence(contract, year, month):
    """For the contract's vendor's teams: the month's SLA breaches and ratings of 2 or less,
    with the work orders behind them."""
    vendor = getattr(contract, "vendor", None)
    code = getattr(vendor, "credit_code", "") or ""
    if not code:
        return []
    period = f"{year}-{month:02d}"
    teams = select(Team.id).where(Team.vendor_code == code)
    base = select(WorkOrder.name).where(WorkOrder.team_id.in_(teams), WorkOrder.month == period,
                                        WorkOrder.status != CANCELLED).order_by(WorkOrder.name)
    breaches = db.session.scalars(base.where(WorkOrder.breached_at.is_not(None))).all()
    low = db.session.scalars(base.where(WorkOrder.rating <= 2)).all()
    return [{"evidence": "service_desk.sla_breach", "count": len(breaches), "refs": breaches,
             "note": _("%(n)s work orders of %(period)s missed their SLA", n=len(breaches), period=period)},
            {"evidence": "service_desk.low_rating", "count": len(low), "refs": low,
             "note": _("%(n)s work orders of %(period)s rated 2 or less", n=len(low), period=period)}]
