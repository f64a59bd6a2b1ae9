"""Procurement rules: budget, dates, sealed bids and their receipts, the two openings, the
committee's blind scoring, ranking, publicity, award and the contract. Verbs take the
acting user as ``by``; workflow effects (``on_*``) and conditions (``can_*``) are wired in
``models.Tender.Meta.workflow``."""
import base64
import calendar
import hashlib
import json
import secrets
from datetime import timedelta, timezone
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit, workflow
from erp_core.context import acting_as, username_of
from erp_core.document import locked
from erp_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from erp_core.extensions import db
from erp_core.money import D, cents
from erp_core.permissions import user_can
from erp_core.types import aware, now

from . import scoring
from .models import (AUTO_FAIL, CATEGORIES, EVALUATION, EXPERT, METHODS, MIN_INVITEES, MIN_VALID_BIDS, Bid, BidFile,
                     Criterion, Envelope, Invitee, Member, Objection, Registration, Score, Tender)

DATES = ("notice_at", "registration_closes_at", "bid_deadline", "opening_at")      # in this order
RESTRICTED = ("invited", "negotiation", "single_source")     # only invitees may register
MAX_FILE = 20 * 1024 * 1024


def _label(field):
    return {"notice_at": _("Notice published"), "registration_closes_at": _("Registration closes"),
            "bid_deadline": _("Bid deadline"), "opening_at": _("Bid opening")}[field]


def _when(value):
    return aware(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _text(value, limit=None):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Expected text, got %(value)s.", value=str(value)[:40]))
    value = value.strip()
    if limit and len(value) > limit:
        raise ValidationError(_("At most %(n)s characters.", n=limit))
    return value


# --- the tender itself --------------------------------------------------------------------

def validate_tender(t):
    if not (t.title or "").strip():
        raise ValidationError(_("Give the project's title."))
    if t.category not in CATEGORIES:
        raise ValidationError(_("Unknown service category: %(c)s", c=t.category))
    if t.method not in METHODS:
        raise ValidationError(_("Unknown procurement method: %(m)s", m=t.method))
    if t.evaluation_method not in EVALUATION:
        raise ValidationError(_("Unknown evaluation method: %(m)s", m=t.evaluation_method))
    if t.estimated_amount is None or t.estimated_amount <= 0:
        raise ValidationError(_("The estimated amount must be positive."))
    if (t.bid_bond or 0) < 0:
        raise ValidationError(_("The bid bond cannot be negative."))
    if t.method == "single_source" and not (t.justification or "").strip():
        raise ValidationError(_("Single-source procurement needs a justification."))
    if not 0 <= (t.price_weight or 0) <= 100:
        raise ValidationError(_("The price weight is between 0 and 100."))
    if not 1 <= (t.publicity_days or 0) <= 30:
        raise ValidationError(_("The publicity period is 1 to 30 days."))
    if not 1 <= (t.service_months or 0) <= 120:
        raise ValidationError(_("The service period is 1 to 120 months."))
    present = [(f, aware(getattr(t, f))) for f in DATES if getattr(t, f) is not None]
    for (f1, d1), (f2, d2) in zip(present, present[1:]):
        if d2 < d1:
            raise ValidationError(_("%(later)s (%(b)s) cannot be before %(earlier)s (%(a)s).",
                                    later=_label(f2), b=_when(d2), earlier=_label(f1), a=_when(d1)))


def _require(by, action, tender=None):
    if not user_can(by, action, "Tender"):
        raise PermissionDenied(_("You are not allowed to do this."))


def _state(t, *states):
    if t.workflow_state not in states:
        raise Conflict(_("Not possible while %(doc)s is %(state)s.", doc=t.name,
                         state=t._meta.workflow.state(t.workflow_state).label))


def set_criteria(t, rows, *, by):
    """Replace the scoring criteria of a draft tender: ``[{title, kind, max_points}]``."""
    _require(by, "write")
    _state(t, "draft")
    if not isinstance(rows, list) or not rows:
        raise ValidationError(_("Give at least one criterion."))
    criteria = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValidationError(_("Each criterion is an object with title, kind and max_points."))
        title, kind = _text(row.get("title"), 200), row.get("kind", "technical")
        points = D(row.get("max_points", ""))
        if not title or kind not in ("technical", "commercial") or points <= 0:
            raise ValidationError(_("Criterion %(n)s needs a title, a kind (technical or commercial) and positive "
                                    "maximum points.", n=i + 1))
        criteria.append(Criterion(sort=i, title=title, kind=kind, max_points=points))
    with acting_as(username_of(by)):
        t.criteria = criteria
        audit.record(db.session, t, "criteria", criteria=[[c.title, c.kind, str(c.max_points)] for c in criteria])
    return t


def set_invitees(t, vendors, *, by):
    _require(by, "write")
    _state(t, "draft", "approved")
    names = sorted({v.id: v for v in vendors}.values(), key=lambda v: v.id)
    with acting_as(username_of(by)):
        keep = {i.vendor_id: i for i in t.invitees}
        t.invitees = [keep.get(v.id) or Invitee(vendor=v) for v in names]
        audit.record(db.session, t, "invitees", vendors=[v.legal_name for v in names])
    return t


# --- budget -------------------------------------------------------------------------------

def budget_position(t):
    line = t.budget_line
    if line is None:
        raise ValidationError(_("Choose the budget line."))
    committed, awarded = line.used(db.session, exclude=t.id)
    return {"amount": line.amount, "committed": committed, "awarded": awarded,
            "remaining": line.amount - committed - awarded}


def can_approve(t):
    if t.budget_line is None:
        return _("Choose the budget line.")
    pos = budget_position(t)
    if t.estimated_amount > pos["remaining"] and not (t.budget_override or "").strip():
        return _("The estimate %(est)s exceeds the remaining budget %(rem)s of %(line)s; a manager records an "
                 "override with its reason first.", est=cents(t.estimated_amount), rem=cents(pos["remaining"]),
                 line=t.budget_line)
    return None


def override_budget(t, reason, *, by):
    pos = budget_position(t)
    return _manager_decision(t, "budget_override", reason, state="draft", by=by,
                             required=_("A reason is required to override the budget."),
                             estimate=str(t.estimated_amount), remaining=str(pos["remaining"]))


def _manager_decision(t, field, reason, *, state, required, by, **facts):
    """A manager's recorded decision (budget override, proceeding with fewer bids): the
    reason on the tender and an audit row with the facts it was taken on."""
    _require(by, "approve")
    _state(t, state)
    reason = _text(reason, 2000)
    if not reason:
        raise ValidationError(required)
    with acting_as(username_of(by)):
        setattr(t, field, reason)
        audit.record(db.session, t, field, reason=reason, **facts)
    return t


# --- publishing, registration, bids ---------------------------------------------------------

def can_publish(t):
    missing = [str(_label(f)) for f in DATES[1:] if getattr(t, f) is None]
    if missing:
        return _("Set these dates first: %(fields)s", fields=", ".join(missing))
    if aware(t.bid_deadline) <= now():
        return _("The bid deadline has already passed.")
    if t.method in ("invited", "negotiation") and len(t.invitees) < MIN_INVITEES:
        return _("%(method)s needs at least %(n)s invited suppliers.", method=METHODS[t.method], n=MIN_INVITEES)
    if t.method == "single_source" and len(t.invitees) != 1:
        return _("Single-source procurement names exactly one supplier.")
    if t.evaluation_method == "comprehensive":
        if not t.criteria:
            return _("Add the scoring criteria first.")
        total = (t.price_weight or 0) + sum(c.max_points for c in t.criteria)
        if total != 100:
            return _("The price weight and the criteria's maximum points add up to %(total)s, not 100.", total=total)
    return None


def on_publish(t, *, by, reason=None):
    if t.notice_at is None:
        t.notice_at = now()
    if aware(t.notice_at) > aware(t.registration_closes_at):
        raise ValidationError(_("Registration cannot close before the notice is published."))


def register(t, vendor, *, by):
    """A supplier registers (obtains the tender documents); only registered suppliers bid."""
    _require(by, "write")
    _state(t, "published")
    if now() > aware(t.registration_closes_at):
        raise Conflict(_("Registration closed at %(at)s.", at=_when(t.registration_closes_at)))
    if t.method in RESTRICTED and vendor.id not in {i.vendor_id for i in t.invitees}:
        raise ValidationError(_("%(vendor)s is not invited to this tender.", vendor=vendor.legal_name))
    if any(r.vendor_id == vendor.id for r in t.registrations):
        raise Conflict(_("%(vendor)s has already registered.", vendor=vendor.legal_name))
    with acting_as(username_of(by)):
        t.registrations.append(Registration(vendor=vendor, registered_by=username_of(by) or ""))
        audit.record(db.session, t, "registration", vendor=vendor.legal_name)
    return t


def canonical(tender_name, credit_code, submitted_at, technical, price):
    """The bytes a bid's SHA-256 is taken of: sorted-key compact JSON, UTF-8, UTC microseconds."""
    body = {"tender": tender_name, "bidder": credit_code,
            "submitted_at": aware(submitted_at).astimezone(timezone.utc).isoformat(timespec="microseconds"),
            "technical": technical, "price": price}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _digest(bid, technical, price):
    return hashlib.sha256(canonical(bid.tender.name, bid.vendor.credit_code, bid.submitted_at,
                                    technical, price)).hexdigest()


def record_bid(t, vendor, *, price, technical="", files=(), bond_paid=False, by):
    """Receive a sealed bid before the deadline. Returns the bid; its ``receipt_hash`` is
    printed on the bidder's receipt. The price and proposal go into envelopes only."""
    _require_bid_desk(by)
    price = cents(D(price))
    if price <= 0:
        raise ValidationError(_("The bid price must be positive."))
    technical = _text(technical, 20000)
    stored = []
    for f in files or ():
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str) or not isinstance(f.get("content"), str):
            raise ValidationError(_("Each file is an object with filename and base64 content."))
        try:
            data = base64.b64decode(f["content"], validate=True)
        except ValueError:
            raise ValidationError(_("%(file)s is not valid base64.", file=f["filename"][:80]))
        if not data or len(data) > MAX_FILE:
            raise ValidationError(_("%(file)s is empty or larger than 20 MB.", file=f["filename"][:80]))
        stored.append((f["filename"][:200], data))
    t = locked(db.session, Tender, t.id)          # serialises against closing and other bids
    if t.workflow_state != "published" or now() > aware(t.bid_deadline):
        raise Conflict(_("Bids closed at %(at)s; this bid is refused.", at=_when(t.bid_deadline)))
    if not any(r.vendor_id == vendor.id for r in t.registrations):
        raise ValidationError(_("%(vendor)s has not registered for this tender.", vendor=vendor.legal_name))
    if any(b.vendor_id == vendor.id for b in t.bids):
        raise Conflict(_("%(vendor)s has already bid.", vendor=vendor.legal_name))
    if t.evaluation_method == "comprehensive" and not technical:
        raise ValidationError(_("The technical envelope is empty."))
    # each envelope carries a random secret, hashed with it and revealed only when it opens:
    # without it the receipt's SHA-256 cannot be used to guess a sealed price or proposal
    tech = {"proposal": technical, "files": [{"filename": n, "sha256": hashlib.sha256(d).hexdigest()}
                                             for n, d in stored], "secret": secrets.token_hex(16)}
    priced = {"price": str(price), "secret": secrets.token_hex(16)}
    with acting_as(username_of(by)):
        bid = Bid(tender=t, vendor=vendor, submitted_at=now(), bond_paid=bool(bond_paid), receipt_hash="")
        bid.receipt_hash = _digest(bid, tech, priced)
        db.session.add(bid)
        db.session.flush()
        db.session.add_all([Envelope(bid_id=bid.id, part="technical", content=json.dumps(tech, ensure_ascii=False)),
                            Envelope(bid_id=bid.id, part="price", content=json.dumps(priced))])
        db.session.add_all([BidFile(bid_id=bid.id, filename=n, data=d) for n, d in stored])
        # the count and the hash are public; the contents are not
        audit.record(db.session, t, "bid_received", bid=bid.name, sha256=bid.receipt_hash, bids=len(t.bids))
    return bid


def _require_bid_desk(by):
    if not user_can(by, "create", "Bid"):
        raise PermissionDenied(_("You are not allowed to record bids."))


def set_bond_paid(bid, paid, *, by):
    if not user_can(by, "write", "Bid"):
        raise PermissionDenied(_("You are not allowed to do this."))
    _state(bid.tender, "published", "closed")
    with acting_as(username_of(by)):
        bid.bond_paid = bool(paid)
    return bid


def bid_count(t):
    return len(t.bids)


# --- the openings -----------------------------------------------------------------------

def can_close(t):
    if now() < aware(t.bid_deadline):
        return _("Bidding is open until %(at)s.", at=_when(t.bid_deadline))
    return None


def can_open(t):
    if now() < aware(t.opening_at):
        return _("The bids open at %(at)s, not before.", at=_when(t.opening_at))
    return None


def _envelope(bid, part):
    return db.session.scalars(select(Envelope).where(Envelope.bid_id == bid.id, Envelope.part == part)).one()


def envelope_opened(bid, part):
    """Whether ``bid``'s ``part`` envelope has been opened (by the envelope, not the bid row)."""
    return db.session.scalar(select(Envelope.opened_at).where(Envelope.bid_id == bid.id,
                                                              Envelope.part == part)) is not None


def _open(bid, part):
    env = _envelope(bid, part)
    content = json.loads(env.content)
    env.opened_at = now()
    if part == "technical":
        bid.technical = content["proposal"]
    else:
        bid.price = Decimal(content["price"])
    return content.get("secret")


def _revealed(t, opened):
    """The secrets of the envelopes just opened, published in the audit row of the opening."""
    return {"secrets": {getattr(key, "name", key): secret for key, secret in opened if secret}}


def on_open(t, *, by, reason=None):
    """The public opening: the technical envelopes (and, with lowest price, the prices) open;
    bids get blind labels in a random order; bids without their bond are invalid."""
    bids = list(t.bids)
    labels = [chr(ord("A") + i) if i < 26 else f"Z{i - 25}" for i in range(len(bids))]
    secrets.SystemRandom().shuffle(bids)
    opened = []
    for bid, label in zip(bids, labels):
        bid.label = label
        opened.append((bid, _open(bid, "technical")))
        if t.evaluation_method == "lowest_price":
            opened.append((bid.name + "/price", _open(bid, "price")))
        if t.bid_bond and not bid.bond_paid:
            bid.status, bid.invalid_reason = "invalid", _("Bid bond not paid")
        else:
            bid.status = "valid"
    valid = [b for b in bids if b.status == "valid"]
    audit.record(db.session, t, "opening", bids=len(bids), valid=len(valid), **_revealed(t, opened),
                 **({"prices": {b.name: str(b.price) for b in bids}} if t.evaluation_method == "lowest_price" else {}))
    t.__dict__["_houqin_opened_by"] = by


def valid_bids(t):
    return [b for b in t.bids if b.status == "valid"]


def after_transition(t):
    """Open and invited tenders fail (流标) at once when the opening finds too few valid bids."""
    opener = t.__dict__.pop("_houqin_opened_by", None)
    if t.workflow_state == "opened" and t.method in AUTO_FAIL and len(valid_bids(t)) < MIN_VALID_BIDS[t.method]:
        workflow.apply(t, "fail", by=opener, reason=_(
            "Only %(n)s valid bids at the opening; at least %(need)s are required.",
            n=len(valid_bids(t)), need=MIN_VALID_BIDS[t.method]))


def record_proceed_decision(t, reason, *, by):
    """A negotiation with fewer valid bids than usual goes on only on the manager's recorded decision."""
    return _manager_decision(t, "proceed_decision", reason, state="opened", by=by,
                             required=_("A reason is required to proceed with fewer bids."),
                             valid_bids=len(valid_bids(t)))


# --- the committee ----------------------------------------------------------------------

def assign_member(t, user, *, chair=False, by):
    _require(by, "write")
    _state(t, "approved", "published", "closed")
    if not any(r.name == EXPERT for r in user.roles):
        raise ValidationError(_("%(user)s is not an evaluation expert.", user=user.username))
    if any(m.user_id == user.id for m in t.members):
        raise Conflict(_("%(user)s is already on the committee.", user=user.username))
    with acting_as(username_of(by)):
        t.members.append(Member(user=user, is_chair=bool(chair)))
        audit.record(db.session, t, "committee", added=user.username, chair=bool(chair))
    return t


def member_of(t, user):
    member = next((m for m in t.members if m.user_id == getattr(user, "id", None)), None)
    if member is None:
        raise PermissionDenied(_("You are not on the evaluation committee of %(doc)s.", doc=t.name))
    return member


def declare(t, user, *, no_conflict, statement=""):
    """The conflict-of-interest declaration, required before scoring. An expert who declares a
    conflict cannot score; the officer replaces them."""
    member = member_of(t, user)
    if member.declared_at is not None:
        raise Conflict(_("You have already declared."))
    if not isinstance(no_conflict, bool):
        raise ValidationError(_("Declare whether you have a conflict of interest (true or false)."))
    with acting_as(username_of(user)):
        member.declared_at, member.no_conflict, member.declaration = now(), no_conflict, _text(statement, 2000)
        audit.record(db.session, t, "conflict_declaration", expert=user.username, no_conflict=no_conflict)
    return member


def _bid_by_label(t, label):
    bid = next((b for b in valid_bids(t) if b.label == str(label).strip().upper()), None)
    if bid is None:
        raise NotFound(_("No valid bid labelled %(label)s.", label=str(label)[:8]))
    return bid


def score(t, user, rows):
    """``rows``: ``[{bid: "A", criterion: id, points}]`` — the expert's own points, editable
    until submitted."""
    member = member_of(t, user)
    _state(t, "opened")
    if t.evaluation_method != "comprehensive":
        raise Conflict(_("A lowest-price tender is not scored by the experts."))
    if member.declared_at is None:
        raise Conflict(_("Declare your conflicts of interest before scoring."))
    if not member.no_conflict:
        raise PermissionDenied(_("You declared a conflict of interest and cannot score this tender."))
    if member.submitted_at is not None:
        raise Conflict(_("Your scores are submitted and can no longer change."))
    if not isinstance(rows, list) or not rows:
        raise ValidationError(_("Give the scores as a list of {bid, criterion, points}."))
    criteria = {c.id: c for c in t.criteria}
    mine = {(s.bid_id, s.criterion_id): s for s in member.scores}
    for row in rows:
        if not isinstance(row, dict):
            raise ValidationError(_("Give the scores as a list of {bid, criterion, points}."))
        bid = _bid_by_label(t, row.get("bid", ""))
        try:
            criterion = criteria[int(row.get("criterion"))]
        except (TypeError, ValueError, KeyError):
            raise ValidationError(_("Unknown criterion: %(c)s", c=str(row.get("criterion"))[:20]))
        points = D(row.get("points", ""))
        if not 0 <= points <= criterion.max_points:
            raise ValidationError(_("%(criterion)s is scored from 0 to %(max)s.", criterion=criterion.title,
                                    max=criterion.max_points))
        if (bid.id, criterion.id) in mine:
            mine[(bid.id, criterion.id)].points = points
        else:
            mine[(bid.id, criterion.id)] = Score(member=member, bid_id=bid.id, criterion_id=criterion.id, points=points)
            db.session.add(mine[(bid.id, criterion.id)])
    return member


def submit_scores(t, user):
    member = member_of(t, user)
    _state(t, "opened")
    if member.submitted_at is not None:
        raise Conflict(_("Your scores are submitted and can no longer change."))
    have = {(s.bid_id, s.criterion_id) for s in member.scores}
    missing = [(b.label, c.title) for b in valid_bids(t) for c in t.criteria if (b.id, c.id) not in have]
    if missing:
        raise ValidationError(_("Score every bid on every criterion first; missing: %(list)s",
                                list=", ".join(f"{b}/{c}" for b, c in missing[:6])))
    with acting_as(username_of(user)):
        member.submitted_at = now()
        sheet = sorted((s.bid_id, s.criterion_id, str(s.points)) for s in member.scores)
        # who submitted, and a fingerprint of the sheet; the points stay out of the shared history
        audit.record(db.session, t, "scores_submitted", expert=user.username,
                     sha256=hashlib.sha256(json.dumps(sheet).encode()).hexdigest())
    return member


def scoring_sheet(t, user):
    """What an expert sees: bids by label only (blind), the opened technical proposals, the
    criteria and the expert's own points — never another expert's before evaluation closes."""
    member = member_of(t, user)
    mine = {(s.bid_id, s.criterion_id): s.points for s in member.scores}
    return {"tender": t.name, "title": t.title, "state": t.workflow_state, "declared": member.declared_at is not None,
            "no_conflict": member.no_conflict, "submitted": member.submitted_at is not None,
            "criteria": [{"id": c.id, "title": c.title, "kind": c.kind, "max_points": str(c.max_points)}
                         for c in t.criteria],
            "bids": [{"bid": b.label, "technical": b.technical,
                      "scores": {str(c.id): (str(mine[(b.id, c.id)]) if (b.id, c.id) in mine else None)
                                 for c in t.criteria}}
                     for b in sorted(valid_bids(t), key=lambda b: b.label)],
            "bids_count": len(t.bids)}


def member_totals(t):
    """``{bid id: [each expert's total]}`` over the members who scored."""
    totals = {b.id: [] for b in valid_bids(t)}
    for m in t.members:
        if not m.no_conflict:
            continue
        per_bid = {}
        for s in m.scores:
            per_bid[s.bid_id] = per_bid.get(s.bid_id, Decimal(0)) + s.points
        for bid_id, total in per_bid.items():
            if bid_id in totals:
                totals[bid_id].append(total)
    return totals


def can_evaluate(t):
    valid = valid_bids(t)
    if not valid:
        return _("No valid bid.")
    if len(valid) < MIN_VALID_BIDS[t.method] and not (t.proceed_decision or "").strip():
        return _("Only %(n)s valid bids; the manager records a decision to proceed, or the tender fails.",
                 n=len(valid))
    if t.evaluation_method == "comprehensive":
        waiting = [m.user.username for m in t.members if m.declared_at is None or
                   (m.no_conflict and m.submitted_at is None)]
        if waiting:
            return _("Waiting for the scores of: %(names)s", names=", ".join(waiting))
        if not any(m.no_conflict for m in t.members):
            return _("No expert of the committee has declared and scored.")
    return None


def on_evaluate(t, *, by, reason=None):
    """The price envelopes open only now, after every technical score is in; then the ranking."""
    bids = valid_bids(t)
    opened = []
    if t.evaluation_method == "comprehensive":
        for bid in t.bids:
            opened.append((bid.name + "/price", _open(bid, "price")))
    rank_bids(t, bids)
    audit.record(db.session, t, "evaluation", prices={b.name: str(b.price) for b in t.bids}, **_revealed(t, opened),
                 ranking=[[b.name, b.rank, str(b.total_score) if b.total_score is not None else None]
                          for b in sorted(bids, key=lambda b: b.rank)])


def rank_bids(t, bids):
    for b in t.bids:
        b.rank, b.recommended = None, False
    if not bids:
        return
    entries = []
    if t.evaluation_method == "comprehensive":
        prices = scoring.price_scores({b.id: b.price for b in bids}, t.price_weight)
        totals = member_totals(t)
        for b in bids:
            b.price_score = prices[b.id]
            b.technical_score = scoring.expert_average(totals[b.id], t.drop_extremes) or Decimal("0.00")
            b.total_score = b.technical_score + b.price_score
            entries.append(dict(key=b.id, price=b.price, technical=b.technical_score, total=b.total_score,
                                submitted_at=b.submitted_at))
    else:
        entries = [dict(key=b.id, price=b.price, technical=0, total=0, submitted_at=b.submitted_at) for b in bids]
    order = scoring.rank(entries, t.evaluation_method)
    by_id = {b.id: b for b in bids}
    for i, key in enumerate(order, 1):
        by_id[key].rank = i
    by_id[order[0]].recommended = True   # the committee's recommendation; the award confirms it


def all_scores(t):
    """Every expert's points, for the officer and the record — only after evaluation closes."""
    if t.workflow_state in ("draft", "approved", "published", "closed", "opened"):
        raise Conflict(_("The experts' scores are sealed until the evaluation is closed."))
    return [{"expert": m.user.username, "bid": next(b.label for b in t.bids if b.id == s.bid_id),
             "criterion": s.criterion_id, "points": str(s.points)} for m in t.members for s in m.scores]


# --- publicity, objections, award, contract ------------------------------------------------

def on_publicity(t, *, by, reason=None):
    t.publicity_ends_at = now() + timedelta(days=t.publicity_days)


def raise_objection(t, *, raised_by, content, by):
    _require(by, "write")
    _state(t, "publicity")
    raised_by, content = _text(raised_by, 200), _text(content, 5000)
    if not raised_by or not content:
        raise ValidationError(_("Record who objects and what the objection is."))
    with acting_as(username_of(by)):
        o = Objection(raised_by=raised_by, content=content)
        t.objections.append(o)
        db.session.flush()
        audit.record(db.session, t, "objection", objection=o.id, raised_by=raised_by, content=content)
    return o


def answer_objection(t, objection_id, *, answer, upheld=False, disqualify=None, by):
    """Answer an objection; an upheld one may disqualify a bid, and the ranking is redone."""
    _require(by, "award")
    _state(t, "publicity")
    o = next((o for o in t.objections if o.id == objection_id), None)
    if o is None:
        raise NotFound(_("Not found."))
    if o.resolved_at is not None:
        raise Conflict(_("This objection is already answered."))
    answer = _text(answer, 5000)
    if not answer:
        raise ValidationError(_("Write the answer to the objection."))
    with acting_as(username_of(by)):
        o.answer, o.upheld, o.resolved_at = answer, bool(upheld), now()
        if upheld and disqualify:
            bid = next((b for b in valid_bids(t) if b.name == disqualify), None)
            if bid is None:
                raise NotFound(_("No valid bid %(name)s.", name=str(disqualify)[:40]))
            bid.status, bid.invalid_reason, bid.total_score = "invalid", _("Disqualified on objection"), None
            rank_bids(t, valid_bids(t))
        audit.record(db.session, t, "objection_answered", objection=o.id, upheld=bool(upheld), answer=answer,
                     disqualified=disqualify or None)
    return o


def can_award(t):
    if t.publicity_ends_at is None or now() < aware(t.publicity_ends_at):
        return _("The publicity period runs until %(at)s.", at=_when(t.publicity_ends_at))
    if any(o.resolved_at is None for o in t.objections):
        return _("Answer every objection first.")
    if t.winner is None or t.winner.status != "valid":
        return _("No bid can be awarded.")
    return None


def on_award(t, *, by, reason=None):
    t.award_amount, t.awarded_at = t.winner.price, now()
    for bid in t.bids:                   # losers' bonds back now, the winner's after signing
        if not bid.recommended and bid.bond_paid and bid.bond_refunded_at is None:
            bid.bond_refunded_at = now()


def _add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))


def contract_terms(t):
    """(start, end, monthly fee) of the contract: the award spread over the service months."""
    start = t.service_start or (now().date() + timedelta(days=1))
    return start, _add_months(start, t.service_months) - timedelta(days=1), cents(t.award_amount / t.service_months)


def on_sign(t, *, by, reason=None):
    from modules.vendor_contracts.services import create_contract_from_award
    start, end, monthly = contract_terms(t)
    contract = create_contract_from_award(vendor=t.winner.vendor, title=t.title, service_category=t.category,
                                          monthly_fee=monthly, start=start, end=end, source_reference=t.name, by=by)
    t.contract_name = contract.name
    if t.winner.bond_paid and t.winner.bond_refunded_at is None:
        t.winner.bond_refunded_at = now()


def on_fail(t, *, by, reason=None):
    t.failure_reason = reason or ""
    for bid in t.bids:
        if bid.bond_paid and bid.bond_refunded_at is None:
            bid.bond_refunded_at = now()


# --- verification ---------------------------------------------------------------------------

def verify(t):
    """Recompute every bid's SHA-256 from its envelopes and compare it with the receipt and
    with the hash the audit chain recorded when the bid arrived. ``[(bid, [problems])]``."""
    received, revealed = {}, {}
    for row in audit.history(db.session, t):
        data = json.loads(row.data)
        if row.action == "bid_received":
            received[data["bid"]] = data["sha256"]
        revealed.update(data.get("secrets") or {})
    out = []
    for bid in t.bids:
        problems = []
        envelopes = {e.part: json.loads(e.content) for e in
                     db.session.scalars(select(Envelope).where(Envelope.bid_id == bid.id))}
        if set(envelopes) != {"technical", "price"}:
            out.append((bid, [_("an envelope is missing")]))
            continue
        tech, priced = envelopes["technical"], envelopes["price"]
        if _digest(bid, tech, priced) != bid.receipt_hash:
            problems.append(_("the content no longer matches the receipt's SHA-256"))
        if received.get(bid.name) != bid.receipt_hash:
            problems.append(_("the receipt's SHA-256 differs from the one recorded at receipt"))
        files = {f.filename: hashlib.sha256(f.data).hexdigest() for f in
                 db.session.scalars(select(BidFile).where(BidFile.bid_id == bid.id))}
        if files != {f["filename"]: f["sha256"] for f in tech.get("files", [])}:
            problems.append(_("a document of the technical envelope was changed"))
        if bid.price is not None and bid.price != Decimal(priced["price"]):
            problems.append(_("the opened price differs from the sealed one"))
        if bid.technical is not None and bid.technical != tech["proposal"]:
            problems.append(_("the opened proposal differs from the sealed one"))
        for key, part, opened in ((bid.name, tech, envelope_opened(bid, "technical")),
                                  (bid.name + "/price", priced, envelope_opened(bid, "price"))):
            if opened and part.get("secret") and revealed.get(key) != part["secret"]:
                problems.append(_("the secret revealed at the opening differs from the sealed one"))
        out.append((bid, problems))
    return out


def find_tender(name):
    t = db.session.scalars(select(Tender).where(Tender.name == name)).first()
    if t is None:
        raise NotFound(_("Unknown tender: %(name)s", name=str(name)[:40]))
    return t
