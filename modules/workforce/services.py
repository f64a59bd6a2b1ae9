"""Workforce business rules: certificates per post, assignment, conduct, headcount figures."""
import calendar
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from erp_core.context import acting_as, actor
from erp_core.errors import Conflict, NotFound, ValidationError
from erp_core.extensions import db
from erp_core.money import half_up

from .models import (ACTIVE, LEFT, PENDING, REMOVAL_WINDOW_DAYS, SERIOUS, SERIOUS_FOR_REMOVAL, AgreedHeadcount,
                     Assignment, Certificate, Issue, Person, Post, Violation, id_card_hash, today, valid_id_card)


# --- certificates -----------------------------------------------------------------------

def missing_certificates(person, post, on_date):
    """``[(certificate type, reason)]`` the person lacks for ``post`` on ``on_date``: none held,
    or every one held has expired (or is not valid yet)."""
    out = []
    held = list(person.certificates)
    for ctype in (post.required if post is not None else []):
        mine = [c for c in held if c.certificate_type_id == ctype.id or c.certificate_type is ctype]
        if not mine:
            out.append((ctype, "missing"))
        elif not any(c.valid_from <= on_date <= c.valid_until for c in mine):
            out.append((ctype, "expired"))
    return out


def check_assignable(person, post, on_date):
    """Refuse (422, naming the certificate) a person who lacks a valid certificate the post requires."""
    problems = missing_certificates(person, post, on_date)
    if not problems:
        return
    parts = []
    for ctype, why in problems:
        if why == "missing":
            parts.append(_("%(name)s has no %(cert)s", name=person.full_name, cert=ctype.title))
        else:
            parts.append(_("%(name)s's %(cert)s is not valid on %(day)s", name=person.full_name, cert=ctype.title,
                           day=on_date.isoformat()))
    from erp_core.fieldpolicy import FieldRefused
    message = _("Cannot assign to %(post)s: %(problems)s.", post=post.title, problems="; ".join(parts))
    raise FieldRefused({"post": message}, message)


def eligible(vendor_id, post_code, on_date):
    """Active persons of the vendor on the post holding every required certificate valid on the date."""
    post = db.session.scalars(select(Post).where(Post.code == post_code)).first()
    if post is None:
        return []
    people = db.session.scalars(select(Person).where(Person.vendor_id == vendor_id, Person.post_id == post.id,
                                                     Person.status == ACTIVE).order_by(Person.full_name)).all()
    return [p for p in people if not missing_certificates(p, post, on_date)]


def expiring(days=30, on=None):
    """Certificates of people still in the hospital that expire within ``days`` (not yet expired)."""
    on = on or today()
    return _certs().where(Certificate.valid_until >= on, Certificate.valid_until <= on + timedelta(days=days))


def expired(on=None):
    return _certs().where(Certificate.valid_until < (on or today()))


def _certs():
    return select(Certificate).join(Person, Certificate.person_id == Person.id) \
        .where(Person.status != LEFT).order_by(Certificate.valid_until)


def count(stmt):
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def overdue_issues(on=None):
    return select(Issue).join(Person, Issue.person_id == Person.id).where(
        Person.status != LEFT, Issue.replaced_on.is_(None), Issue.replace_due < (on or today())) \
        .order_by(Issue.replace_due)


def find_by_id_card(number):
    """The person with exactly this ID-card number (keyed-hash lookup), or NotFound."""
    if not valid_id_card(number):
        raise ValidationError(_("Give the full 18-character ID card number."))
    person = db.session.scalars(select(Person).where(Person.id_card_hash == id_card_hash(number))).first()
    if person is None:
        raise NotFound(_("Nobody with this ID card number is in the register."))
    return person


# --- register -----------------------------------------------------------------------------

def record_assignment(person):
    db.session.add(Assignment(person=person, post=person.post, department=person.department or "",
                              status=person.status, by=actor()))


def assign(person, post, department, *, by):
    """Put a person on duty on a post in a department (the certificate rule applies)."""
    if person.status == LEFT:
        raise Conflict(_("%(name)s has left.", name=person.full_name))
    with acting_as(by):
        person.post, person.department, person.status = post, department or person.department, ACTIVE
        db.session.flush()
    return person


def leave(person, exit_date, *, by):
    if person.status == LEFT:
        raise Conflict(_("%(name)s has left already.", name=person.full_name))
    if exit_date < person.entry_date:
        raise ValidationError(_("The exit date is before the entry date."))
    with acting_as(by):
        person.exit_date, person.status = exit_date, LEFT
        db.session.flush()
    return person


# --- conduct ------------------------------------------------------------------------------

def serious_count(person, on=None):
    on = on or today()
    return db.session.scalar(select(func.count()).select_from(Violation).where(
        Violation.person_id == person.id, Violation.severity == SERIOUS,
        Violation.occurred_on > on - timedelta(days=REMOVAL_WINDOW_DAYS), Violation.occurred_on <= on))


def after_violation(violation):
    """Repeated serious violations flag the person for removal (辞退)."""
    person = violation.person
    if violation.severity != SERIOUS or person.removal_flagged:
        return
    with db.session.no_autoflush:
        n = serious_count(person, violation.occurred_on) + (1 if violation.id is None else 0)
    if n >= SERIOUS_FOR_REMOVAL:
        person.removal_flagged = True
        person.removal_reason = _("%(n)s serious violations within 12 months (last: %(v)s).", n=n, v=violation.name)
        person.vendor_reply, person.vendor_reply_outcome = "", ""


def flag_for_removal(person, reason, *, by):
    if person.status == LEFT:
        raise Conflict(_("%(name)s has left.", name=person.full_name))
    with acting_as(by):
        person.removal_flagged, person.removal_reason = True, reason
        person.vendor_reply, person.vendor_reply_outcome = "", ""
        db.session.flush()
    return person


def record_removal_reply(person, reply, outcome, *, by):
    """The vendor's reply to a removal request; accepted means the person leaves today."""
    if not person.removal_flagged:
        raise Conflict(_("%(name)s is not flagged for removal.", name=person.full_name))
    with acting_as(by):
        person.vendor_reply, person.vendor_reply_outcome = reply, outcome
        if outcome == "accepted" and person.status != LEFT:
            person.exit_date, person.status = max(today(), person.entry_date), LEFT
        db.session.flush()
    return person


def record_violation_reply(violation, reply, *, by):
    with acting_as(by):
        violation.vendor_reply = reply
        db.session.flush()
    return violation


def replace_issue(issue, on, next_due, *, by):
    """Replace an item: the old issue is closed and a new one opened with its next due date."""
    if issue.replaced_on is not None:
        raise Conflict(_("This item was replaced already."))
    if on < issue.issued_on or (next_due is not None and next_due < on):
        raise ValidationError(_("The replacement date is before the issue date."))
    with acting_as(by):
        issue.replaced_on = on
        new = Issue(person=issue.person, item=issue.item, size=issue.size, quantity=issue.quantity, issued_on=on,
                    replace_due=next_due)
        db.session.add(new)
        db.session.flush()
    return new


# --- headcount and turnover ----------------------------------------------------------------

def month_bounds(year, month):
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _on_duty(day):
    """Counted on a day: not merely registered (status other than pending), entered on or before
    the day and not exited before it (the exit day itself is not counted)."""
    return and_(Person.status != PENDING, Person.entry_date <= day,
                or_(Person.exit_date.is_(None), Person.exit_date > day))


def _people(vendor_id=None, contract_id=None):
    stmt = select(Person).where(Person.status != PENDING)
    if contract_id is not None:
        stmt = stmt.where(Person.contract_id == contract_id)
    elif vendor_id is not None:
        stmt = stmt.where(Person.vendor_id == vendor_id)
    return stmt


def figures(year, month, vendor_id=None, contract_id=None):
    """Per (vendor, post) for the month: agreed headcount (sum of the vendor's contracts'),
    headcount at the start and the end, average daily headcount, person-days present and missing
    against the agreed headcount, exits, and turnover = exits / ((start + end) / 2) in %.

    Rows are dicts; the key ``missing_days`` is max(0, agreed × days − person-days)."""
    first, last = month_bounds(year, month)
    days = (last - first).days + 1
    people = db.session.scalars(_people(vendor_id, contract_id).where(
        Person.entry_date <= last, or_(Person.exit_date.is_(None), Person.exit_date >= first))).all()
    rows = {}
    from modules.vendor_contracts.models import Contract

    def row(vendor, post):
        key = (vendor.id, post.id if post else 0)
        if key not in rows:
            rows[key] = dict(vendor=vendor, post=post, agreed=0, start=0, end=0, person_days=0, exits=0, exit_refs=[])
        return rows[key]
    for p in people:
        r = row(p.vendor, p.post)
        if p.entry_date <= first and (p.exit_date is None or p.exit_date > first):
            r["start"] += 1
        if p.entry_date <= last and (p.exit_date is None or p.exit_date > last):
            r["end"] += 1
        present_from, present_to = max(first, p.entry_date), min(last, (p.exit_date - timedelta(days=1))
                                                                 if p.exit_date else last)
        r["person_days"] += max(0, (present_to - present_from).days + 1)
        if p.exit_date and first <= p.exit_date <= last:
            r["exits"] += 1
            r["exit_refs"].append(p.name)
    agreed = select(AgreedHeadcount).join(Contract, AgreedHeadcount.contract_id == Contract.id).where(
        Contract.start_date <= last, Contract.end_date >= first)
    if contract_id is not None:
        agreed = agreed.where(AgreedHeadcount.contract_id == contract_id)
    elif vendor_id is not None:
        agreed = agreed.where(Contract.vendor_id == vendor_id)
    for a in db.session.scalars(agreed):
        row(a.contract.vendor, a.post)["agreed"] += a.headcount
    out = []
    for r in rows.values():
        r["days"] = days
        r["average"] = half_up(Decimal(r["person_days"]) / days, 2)
        r["missing_days"] = max(0, r["agreed"] * days - r["person_days"])
        r["understaffed"] = r["agreed"] > 0 and r["average"] < r["agreed"]
        r["turnover"] = turnover(r["exits"], r["start"], r["end"])
        out.append(r)
    out.sort(key=lambda r: (str(r["vendor"]), r["post"].code if r["post"] else ""))
    return out


def turnover(exits, start, end):
    """Exits / average headcount ((start + end) / 2), in %, one decimal half up; None if nobody."""
    average = Decimal(start + end) / 2
    if not average:
        return None
    return half_up(Decimal(exits) * 100 / average, 1)


def totals(rows):
    start, end = sum(r["start"] for r in rows), sum(r["end"] for r in rows)
    exits = sum(r["exits"] for r in rows)
    return dict(agreed=sum(r["agreed"] for r in rows), start=start, end=end, exits=exits,
                person_days=sum(r["person_days"] for r in rows), missing_days=sum(r["missing_days"] for r in rows),
                turnover=turnover(exits, start, end))
