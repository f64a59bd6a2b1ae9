"""Care orders: booking a worker (certificates through workforce's api, no double booking),
the signed agreement, changes of worker and level, daily charges and the discharge settlement.

Charging rule (stated on the agreement and the price board):
* care days are counted in 24-hour periods from the moment care starts;
* each care day is charged at the price of the level that served the longest part of it
  (on a tie, the later one): a change of level is charged from the care day it mostly covers;
* the last, incomplete care day is a part day: shorter than ``part_day_hours`` (setting
  ``HOUQIN_CARE_PART_DAY_HOURS``, default 4, copied onto each order when it is created)
  counts half a day, at least that long a full day;
* each day's amount is rounded half-up to the cent (erp_core.money); settlement is
  charges − deposit: a positive balance is due from the family, a negative one refunded.
"""
import base64
import os
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from erp_core import audit, workflow
from erp_core.context import username_of
from erp_core.document import locked
from erp_core.errors import Conflict, NotFound, ValidationError
from erp_core.extensions import db
from erp_core.money import cents
from erp_core.types import now
from erp_core.validation import sniff
from modules.workforce import api as workforce
from modules.workforce.api import Person

from .models import (ACTIVE, AWAITING, CANCELLED, OPEN_STATES, PAYMENT_METHODS, SETTLED, CareFeedback, CareLevel,
                     CareOrder, CareRule, CareSegment, CareViolation)

DAY = timedelta(hours=24)


def minute(at):
    """Care times are kept to the minute, as people write them (and as the charges count them)."""
    return at.replace(second=0, microsecond=0)
MAX_SCAN = 10 * 1024 * 1024
SCAN_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}
MAX_SIGNATURE = 300 * 1024


def part_day_hours():
    """The part-day threshold in hours (config or environment ``HOUQIN_CARE_PART_DAY_HOURS``, 1–24)."""
    value = current_app.config.get("HOUQIN_CARE_PART_DAY_HOURS") or os.environ.get("HOUQIN_CARE_PART_DAY_HOURS") or 4
    return min(24, max(1, int(value)))


def care_post():
    """Workforce's post code of care workers (``HOUQIN_CARE_POST``, default ``care_worker``)."""
    return current_app.config.get("HOUQIN_CARE_POST") or os.environ.get("HOUQIN_CARE_POST") or "care_worker"


def care_vendor_ids(day=None):
    """Vendors with a care contract in force on ``day``."""
    from modules.vendor_contracts.models import Contract
    day = day or now().date()
    return list(db.session.scalars(select(Contract.vendor_id).where(
        Contract.service_category == "care", Contract.workflow_state == "active", Contract.start_date <= day,
        Contract.end_date >= day).distinct()))


def eligible_workers(day=None):
    """Active care workers of the care vendors holding every certificate the post needs (workforce api)."""
    day = day or now().date()
    out = []
    for vendor_id in care_vendor_ids(day):
        out += workforce.eligible(vendor_id, care_post(), day)
    return out


def worker_choices():
    return {str(p.id): workforce.person_label(p) for p in eligible_workers()}


def published_levels():
    return db.session.scalars(select(CareLevel).where(CareLevel.published.is_(True))
                              .order_by(CareLevel.sort, CareLevel.code)).all()


def level_choices():
    return {str(lv.id): f"{lv.title}（¥{cents(lv.daily_price):,.2f}）" for lv in published_levels()}


def active_rules():
    return db.session.scalars(select(CareRule).where(CareRule.active.is_(True)).order_by(CareRule.sort)).all()


def _level(level_id):
    level = db.session.get(CareLevel, int(level_id)) if str(level_id or "").isdigit() else None
    if level is None:
        raise NotFound(_("Unknown care level."))
    if not level.published:
        raise ValidationError(_("%(level)s is not published: families are offered published prices only.",
                                level=level.title))
    return level


def _worker(worker_id):
    person = db.session.get(Person, int(worker_id)) if str(worker_id or "").isdigit() else None
    if person is None:
        raise NotFound(_("Unknown care worker."))
    return person


def _check_worker(person, start, until, one_to_one, order=None):
    """The worker may take this stretch of care: the vendor holds a care contract, the post's
    certificates are valid (workforce decides and names what is missing), and no overlapping
    order where either side is one-to-one. The worker's row is locked first, so two desks
    booking the same worker at once end in one booking and one refusal."""
    locked(db.session, Person, person.id)
    if person.vendor_id not in care_vendor_ids(start.date()):
        raise ValidationError(_("%(worker)s does not work for a care vendor with a contract in force.",
                                worker=workforce.person_label(person)))
    workforce.check_assignable(person, person.post, start.date())
    if person not in workforce.eligible(person.vendor_id, care_post(), start.date()):
        raise ValidationError(_("%(worker)s is not an active care worker.", worker=workforce.person_label(person)))
    seg_end = func.coalesce(CareSegment.until_at, CareOrder.end_at, CareOrder.planned_end)
    stmt = (select(CareSegment, CareOrder).join(CareOrder, CareOrder.id == CareSegment.order_id)
            .where(CareSegment.worker_id == person.id, CareOrder.workflow_state.in_((AWAITING, ACTIVE, SETTLED)),
                   CareSegment.from_at < until, seg_end > start)
            .execution_options(populate_existing=True))
    if order is not None and order.id is not None:
        stmt = stmt.where(CareOrder.id != order.id)
    for seg, other in db.session.execute(stmt).all():
        if one_to_one or seg.one_to_one:
            raise Conflict(_("%(worker)s is already booked on %(order)s (%(ward)s, bed %(bed)s) at that time.",
                             worker=workforce.person_label(person), order=other.name, ward=other.ward.title,
                             bed=other.bed))


def create_order(data, *, by):
    """``data``: ward (id), bed, patient_name, inpatient_no, level (id), worker (id), start_at,
    planned_end, family_name, family_relation, family_phone, deposit, payment_method."""
    from modules.catering.models import Ward
    from erp_core.permissions import rule_clause
    ward = db.session.get(Ward, int(data["ward"])) if str(data.get("ward") or "").isdigit() else None
    if ward is None:
        raise NotFound(_("Unknown ward."))
    if rule_clause(CareOrder, by) is not None and not any(n.id == by.id for n in ward.nurses):
        raise NotFound(_("Unknown ward."))
    level, person = _level(data["level"]), _worker(data["worker"])
    start = minute(data.get("start_at") or now())
    if start < now() - timedelta(minutes=10):
        raise ValidationError(_("Care cannot start in the past."))
    planned_end = data["planned_end"]
    if planned_end <= start:
        raise ValidationError(_("The planned end must be after the start of care."))
    deposit = cents(data.get("deposit") or 0)
    _check_worker(person, start, planned_end, level.ratio == "one_to_one")
    order = CareOrder(ward=ward, bed=data["bed"], patient_name=data["patient_name"],
                      inpatient_no=data.get("inpatient_no") or "", level=level, daily_price=level.daily_price,
                      worker=person, vendor_id=person.vendor_id, start_at=start, planned_end=planned_end,
                      family_name=data["family_name"], family_relation=data.get("family_relation") or "",
                      family_phone=data["family_phone"], deposit=deposit,
                      payment_method=data.get("payment_method") or "cash", part_day_hours=part_day_hours(),
                      rules_text="\n".join(r.text for r in active_rules()))
    order.segments.append(CareSegment(from_at=start, level=level, one_to_one=level.ratio == "one_to_one",
                                      daily_price=level.daily_price, worker=person, changed_by=username_of(by)))
    db.session.add(order)
    db.session.flush()
    return order


# --- the signed agreement --------------------------------------------------------------

def signature_png(data):
    """The tablet's signature: a data: URL (or bytes) holding a PNG of at most 300 KB."""
    if isinstance(data, str):
        if not data.startswith("data:image/png;base64,"):
            raise ValidationError(_("The signature must be a PNG image."))
        try:
            data = base64.b64decode(data.split(",", 1)[1], validate=True)
        except ValueError:
            raise ValidationError(_("The signature image is damaged."))
    if not isinstance(data, bytes) or not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) > MAX_SIGNATURE:
        raise ValidationError(_("The signature must be a PNG image of at most 300 KB."))
    return data


def _scan(upload):
    """A scanned signed paper: judged by its content (PDF or image magic bytes), at most 10 MB."""
    if upload is None or not getattr(upload, "filename", None) or not hasattr(upload, "read"):
        raise ValidationError(_("Choose the scanned agreement to attach."))
    data = upload.read()
    kind = sniff(data)
    if not data or len(data) > MAX_SCAN:
        raise ValidationError(_("The scanned agreement is between 1 byte and 10 MB."))
    if kind not in SCAN_TYPES:
        raise ValidationError(_("The scanned agreement must be a PDF or an image (JPEG, PNG, WebP)."))
    from io import BytesIO
    from werkzeug.datastructures import FileStorage
    # stored as what the content is, not what the browser claimed
    return FileStorage(stream=BytesIO(data), filename=upload.filename, content_type=kind)


def sign(order, *, signature=None, scan=None, by):
    """Record the family's signed agreement: a signature drawn on the tablet or the signed paper
    scanned. Care (and charging) starts then at the earliest."""
    from erp_core.views import attach
    if bool(signature) == bool(scan):
        raise ValidationError(_("Give either the family's signature on the tablet or the scanned signed agreement."))
    when = minute(now())
    if signature:
        order.signature = signature_png(signature)
    else:
        row = attach(order, _scan(scan))
        db.session.flush()
        order.signed_scan_id = row.id
    order.signed_at, order.signed_by = when, username_of(by)
    if order.start_at < when:                       # care cannot start before the family agreed
        order.start_at = when
        order.segments[0].from_at = when
        if order.planned_end <= when:
            raise ValidationError(_("The planned end has passed: cancel this order and make a new one."))
    workflow.apply(order, "sign", by=by)
    return order


# --- changes while in care ---------------------------------------------------------------

def _change(order, *, by, reason, level=None, person=None):
    if order.workflow_state not in OPEN_STATES:
        raise Conflict(_("%(doc)s is not open.", doc=order.name))
    current = order.current_segment
    level, person = level or current.level, person or current.worker
    if level.id == current.level_id and person.id == current.worker_id:
        raise ValidationError(_("Nothing changes: that is the level and the worker in force."))
    when = minute(now()) if order.workflow_state == ACTIVE else order.start_at
    until = max(order.planned_end, when + timedelta(minutes=1))
    _check_worker(person, when, until, level.ratio == "one_to_one", order)
    if order.workflow_state == AWAITING or when <= current.from_at:
        # nothing served yet on the current stretch: it is replaced, not closed
        current.level, current.worker, current.daily_price = level, person, level.daily_price
        current.one_to_one, current.reason, current.changed_by = level.ratio == "one_to_one", reason, username_of(by)
    else:
        current.until_at = when
        order.segments.append(CareSegment(from_at=when, level=level, one_to_one=level.ratio == "one_to_one",
                                          daily_price=level.daily_price, worker=person, reason=reason,
                                          changed_by=username_of(by)))
    order.level, order.daily_price, order.worker, order.vendor_id = level, level.daily_price, person, person.vendor_id
    db.session.flush()
    return order


def change_worker(order, worker_id, reason, *, by):
    return _change(order, by=by, reason=reason, person=_worker(worker_id))


def change_level(order, level_id, reason, *, by):
    return _change(order, by=by, reason=reason, level=_level(level_id))


# --- charges and settlement ----------------------------------------------------------------

def charge_lines(order, until=None):
    """``[dict(no, start, end, hours, fraction, level, price, amount)]``, one per care day up to
    ``until`` (default: the end of care, else now)."""
    end = until or order.end_at or now()
    start = order.start_at
    threshold = timedelta(hours=order.part_day_hours or 4)
    stretches = [(s.from_at, s.until_at or end, s) for s in order.segments]
    lines, day_start, no = [], start, 1
    while day_start < end:
        day_end = min(day_start + DAY, end)
        served = {}
        for f, u, seg in stretches:
            overlap = (min(u, day_end) - max(f, day_start)).total_seconds()
            if overlap > 0:
                key = (seg.level_id, seg.daily_price)
                secs, latest, _seg = served.get(key, (0, f, seg))
                served[key] = (secs + overlap, max(latest, f), seg)
        if served:
            _secs, _latest, seg = max(served.values(), key=lambda v: (v[0], v[1]))
            length = day_end - day_start
            fraction = Decimal(1) if length >= DAY or length >= threshold else Decimal("0.5")
            lines.append(dict(no=no, start=day_start, end=day_end, hours=Decimal(length.total_seconds()) / 3600,
                              fraction=fraction, level=seg.level, price=seg.daily_price,
                              amount=cents(seg.daily_price * fraction)))
        day_start, no = day_start + DAY, no + 1
    return lines


def totals(lines):
    return sum((line["fraction"] for line in lines), Decimal(0)), sum((line["amount"] for line in lines), Decimal("0.00"))


def settle(order, *, ended_at=None, payment_method=None, by):
    """Discharge: care ends (now, or an earlier time the desk states), charges are fixed, and
    charges − deposit is the balance due (positive) or the refund (negative)."""
    order = locked(db.session, CareOrder, order.id)
    if order.workflow_state != ACTIVE:
        raise Conflict(_("%(doc)s is not in care.", doc=order.name))
    end = minute(ended_at or now())
    if end > now():
        raise ValidationError(_("Care cannot end in the future."))
    if end < order.start_at or end < order.current_segment.from_at:
        raise ValidationError(_("Care cannot end before it started or before the last change."))
    order.end_at = end
    order.current_segment.until_at = end
    days, charges = totals(charge_lines(order, end))
    balance = charges - cents(order.deposit)
    order.care_days, order.charges = days, charges
    order.balance_due, order.refund = max(balance, Decimal("0.00")), max(-balance, Decimal("0.00"))
    if payment_method:
        if payment_method not in PAYMENT_METHODS:
            raise ValidationError(_("Unknown payment method."))
        order.payment_method = payment_method
    order.settled_by = username_of(by)
    workflow.apply(order, "settle", by=by)
    return order


def on_cancel(order, *, by, reason=None):
    """A cancelled order (never signed) served no day: the whole deposit goes back."""
    order.refund = cents(order.deposit)
    order.end_at = now()
    order.current_segment.until_at = max(order.current_segment.from_at, order.end_at)


# --- complaints, ratings, violations ---------------------------------------------------------

def add_feedback(order, kind, rating, text, *, by):
    if kind == "rating" and rating is None:
        raise ValidationError(_("Give a rating from 1 to 5."))
    if kind == "complaint" and not (text or "").strip():
        raise ValidationError(_("Say what the complaint is about."))
    if order.workflow_state == CANCELLED:
        raise Conflict(_("%(doc)s was cancelled: nobody cared for the patient.", doc=order.name))
    seg = order.current_segment
    order.feedback.append(CareFeedback(kind=kind, rating=rating if kind == "rating" else None, text=text or "",
                                       worker_id=seg.worker_id, vendor_id=order.vendor_id, at=now(),
                                       by=username_of(by)))
    db.session.flush()
    return order


def record_violation(order, rule_id, witness, severity, penalty, *, by):
    """A "八不准" violation by the worker on duty: recorded in workforce's conduct register (so
    removal flags and workforce's evidence see it) and linked to this order."""
    rule = db.session.get(CareRule, int(rule_id)) if str(rule_id or "").isdigit() else None
    if rule is None:
        raise NotFound(_("Unknown rule."))
    if order.workflow_state not in (ACTIVE, SETTLED):
        raise Conflict(_("%(doc)s has not been in care.", doc=order.name))
    seg = order.current_segment
    fields = dict(occurred_on=now().date(), rule=f"八不准：{rule.text}", witness=witness or "", severity=severity,
                  penalty=penalty or "")
    violation = workforce.record_violation(seg.worker, **fields)
    db.session.add(CareViolation(order_id=order.id, violation_id=violation.id, vendor_id=order.vendor_id, at=now()))
    db.session.flush()
    return order


# --- what the ward and the assessment see -----------------------------------------------------

def in_care_today(user):
    """Open orders of the user's wards (record rule) in care at some time today."""
    from erp_core.permissions import scoped_select
    from erp_core.types import LOCAL_TZ
    today = now().astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + DAY
    stmt = (scoped_select(CareOrder, user).where(
        CareOrder.workflow_state.in_((ACTIVE, SETTLED)), CareOrder.start_at < tomorrow,
        or_(CareOrder.end_at.is_(None), CareOrder.end_at >= today))
        .order_by(CareOrder.ward_id, CareOrder.bed))
    return db.session.scalars(stmt).all()


def month_range(year, month):
    from erp_core.types import LOCAL_TZ
    first = datetime(year, month, 1, tzinfo=LOCAL_TZ)
    after = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return first, after


def evidence(vendor_id, year, month):
    first, after = month_range(year, month)
    in_month = and_(CareFeedback.vendor_id == vendor_id, CareFeedback.at >= first, CareFeedback.at < after)
    rows = db.session.execute(select(CareFeedback.kind, CareFeedback.rating, CareOrder.name)
                              .join(CareOrder, CareOrder.id == CareFeedback.order_id).where(in_month)).all()
    complaints = [name for kind, _r, name in rows if kind == "complaint"]
    low = [name for kind, rating, name in rows if kind == "rating" and rating is not None and rating <= 2]
    violations = db.session.execute(select(CareOrder.name).join(CareViolation, CareViolation.order_id == CareOrder.id)
                                    .where(CareViolation.vendor_id == vendor_id, CareViolation.at >= first,
                                           CareViolation.at < after)).scalars().all()
    return [
        {"evidence": "care.complaint", "count": len(complaints), "refs": sorted(set(complaints)),
         "note": _("Complaints about care workers on care orders")},
        {"evidence": "care.low_rating", "count": len(low), "refs": sorted(set(low)),
         "note": _("Ratings of 1 or 2 out of 5 on care orders")},
        {"evidence": "care.violation", "count": len(violations), "refs": sorted(set(violations)),
         "note": _("Violations of the care worker rules (八不准)")},
    ]
