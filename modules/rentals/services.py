"""Rental business rules: fees, lending, returns, the deposit ledger, disinfection."""
import base64
import math
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from erp_core.context import acting_as, username_of
from erp_core.document import locked
from erp_core.errors import PermissionDenied, Conflict, NotFound, ValidationError
from erp_core.extensions import db
from erp_core.money import D, cents
from erp_core.types import LOCAL_TZ, aware, now

from .models import (AVAILABLE, BALANCE, DEDUCTED, DISINFECTION, FORFEITED, HELD, LENT, LOST, LOST_LOAN,
                     MAINTENANCE, OPEN, PAYMENT_METHODS, REFUNDED, RETURNED, Asset, ClerkPin, DepositMovement,
                     Disinfection, Loan, LoanSignature)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MAX_SIGNATURE = 300 * 1024


def _units(span, unit):
    """Started units: 61 minutes are 2 hours; exactly 60 are 1."""
    return math.ceil(span / unit) if span > timedelta(0) else 0


def compute_fee(item_type, lent_at, returned_at, due_at):
    """(rental fee, late fee) for a loan. The free period is free only if the item comes back
    within it; then every started hour/day is charged, each 24 hours at most ``daily_cap``;
    each started day past the due time adds the late fee."""
    if returned_at < lent_at:
        raise ValidationError(_("The return time is before the lending time."))
    span = returned_at - lent_at
    rental = Decimal("0")
    if span > timedelta(minutes=item_type.free_minutes or 0):
        rate, cap = D(item_type.rate), item_type.daily_cap
        if item_type.rate_unit == "day":
            days = _units(span, DAY)
            rental = rate * days if cap is None else min(rate, D(cap)) * days
        else:
            full_days, rest = divmod(span, DAY)
            per_day = rate * 24 if cap is None else min(rate * 24, D(cap))
            rest_fee = rate * _units(rest, HOUR)
            rental = per_day * full_days + (rest_fee if cap is None else min(rest_fee, D(cap)))
    late = D(item_type.late_fee_per_day) * _units(returned_at - due_at, DAY) if returned_at > due_at else Decimal("0")
    return cents(rental), cents(late)


def mask_id_card(number):
    """Validate an 18-digit resident ID (GB 11643 check digit) and keep only 6 + 4 digits."""
    number = (number or "").strip().upper()
    if not number:
        return ""
    if len(number) != 18 or not number[:17].isdigit():
        raise ValidationError(_("The ID card number must have 18 characters."))
    check = "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS)) % 11]
    if number[17] != check:
        raise ValidationError(_("The ID card number is not valid (check digit)."))
    return number[:6] + "*" * 8 + number[-4:]


def _png(data):
    """Signature images arrive as PNG bytes or a data: URL from the canvas."""
    if data is None:
        return None
    if isinstance(data, str):
        if not data.startswith("data:image/png;base64,"):
            raise ValidationError(_("The signature must be a PNG image."))
        try:
            data = base64.b64decode(data.split(",", 1)[1], validate=True)
        except ValueError:
            raise ValidationError(_("The signature image is damaged."))
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) > MAX_SIGNATURE:
        raise ValidationError(_("The signature must be a PNG image of at most 300 KB."))
    return data


def find_asset(code):
    code = (code or "").strip().upper()
    return db.session.scalars(select(Asset).where(Asset.code == code)).first() if code else None


def open_loan_of(asset):
    return db.session.scalars(select(Loan).where(Loan.asset_id == asset.id, Loan.status == OPEN)).first()


def _movement(loan, kind, amount, by, reason="", method=None):
    if amount:
        loan.movements.append(DepositMovement(kind=kind, amount=cents(amount), by=username_of(by),
                                              payment_method=method or loan.payment_method, reason=reason))


def lend(asset, *, borrower_name, ward_bed="", phone="", id_card="", deposit=None, payment_method="cash",
         due_at=None, signature_png=None, by):
    """Lend an available asset. The asset row is locked first, so two clerks lending the
    last wheelchair at the same moment cannot both succeed."""
    session = db.session
    clerk = username_of(by)
    if not (borrower_name or "").strip():
        raise ValidationError(_("The borrower's name is required."))
    if not (ward_bed or "").strip() and not (phone or "").strip():
        raise ValidationError(_("Give the borrower's ward and bed or a phone number."))
    if payment_method not in PAYMENT_METHODS:
        raise ValidationError(_("Unknown payment method: %(method)s", method=payment_method))
    masked = mask_id_card(id_card)
    signature = _png(signature_png)
    asset = locked(session, Asset, asset.id)
    if asset is None:
        raise NotFound(_("Unknown asset."))
    if asset.status != AVAILABLE:
        raise Conflict(_("%(asset)s is not available (%(status)s).", asset=asset.code, status=asset.status_label))
    kind = asset.item_type
    deposit = cents(kind.deposit if deposit in (None, "") else D(deposit))
    if deposit < 0:
        raise ValidationError(_("The deposit cannot be negative."))
    lent_at = now()
    due_at = aware(due_at) if due_at else lent_at + timedelta(hours=kind.loan_hours)
    if due_at <= lent_at:
        raise ValidationError(_("The due time must be after the lending time."))
    with acting_as(clerk):
        loan = Loan(asset=asset, item_type=kind, borrower_name=borrower_name.strip(), ward_bed=ward_bed.strip(),
                    phone=(phone or "").strip(), id_card=masked, payment_method=payment_method, deposit=deposit,
                    lent_at=lent_at, due_at=due_at, status=OPEN, lent_by=clerk)
        _movement(loan, HELD, deposit, clerk, _("Deposit for %(asset)s", asset=asset.code))
        if signature:
            loan.signatures.append(LoanSignature(kind="handover", png=signature, clerk=clerk))
        asset.status = LENT
        session.add(loan)
        session.flush()
    return loan


def return_loan(loan, *, returned_at=None, damaged=False, damage_note="", damage_charge=Decimal("0"),
                signature_png=None, by):
    """Take an item back: fee from the real duration, the deposit settled in the ledger,
    the asset to disinfection (or maintenance when damaged) — not straight back to lending."""
    session = db.session
    clerk = username_of(by)
    loan = locked(session, Loan, loan.id)
    if loan.status != OPEN:
        raise Conflict(_("%(loan)s is not out on loan.", loan=loan.name))
    returned_at = aware(returned_at) if returned_at else now()
    damage_charge = cents(D(damage_charge or 0))
    if damage_charge < 0:
        raise ValidationError(_("The damage charge cannot be negative."))
    if damage_charge and not damaged:
        raise ValidationError(_("A damage charge needs the item marked as damaged."))
    if damaged and not (damage_note or "").strip():
        raise ValidationError(_("Describe the damage."))
    signature = _png(signature_png)
    rental, late = compute_fee(loan.item_type, loan.lent_at, returned_at, loan.due_at)
    charges = rental + late + damage_charge
    applied = min(loan.deposit, charges)
    with acting_as(clerk):
        loan.returned_at, loan.rental_fee, loan.late_fee = returned_at, rental, late
        loan.damaged, loan.damage_note, loan.damage_charge = bool(damaged), (damage_note or "").strip(), damage_charge
        loan.refund, loan.balance_due = loan.deposit - applied, charges - applied
        loan.status, loan.returned_by = RETURNED, clerk
        _movement(loan, DEDUCTED, applied, clerk, _("Fees %(fees)s, damage %(damage)s",
                                                    fees=rental + late, damage=damage_charge))
        _movement(loan, REFUNDED, loan.refund, clerk)
        _movement(loan, BALANCE, loan.balance_due, clerk, _("Charges above the deposit"))
        if signature:
            loan.signatures.append(LoanSignature(kind="return", png=signature, clerk=clerk))
        asset = locked(session, Asset, loan.asset_id)
        asset.status = MAINTENANCE if damaged else DISINFECTION if loan.item_type.needs_disinfection else AVAILABLE
        session.flush()
    return loan


def mark_lost(loan, *, by):
    """The borrower lost the item: the whole deposit is forfeited, the asset is lost."""
    session = db.session
    clerk = username_of(by)
    loan = locked(session, Loan, loan.id)
    if loan.status != OPEN:
        raise Conflict(_("%(loan)s is not out on loan.", loan=loan.name))
    with acting_as(clerk):
        loan.status, loan.returned_by = LOST_LOAN, clerk
        _movement(loan, FORFEITED, loan.deposit, clerk, _("Item lost"))
        locked(session, Asset, loan.asset_id).status = LOST
        session.flush()
    return loan


def disinfect(asset, *, method, note="", by):
    """Record cleaning/disinfection; only then is a returned item available again."""
    session = db.session
    if not (method or "").strip():
        raise ValidationError(_("Say how the item was disinfected."))
    asset = locked(session, Asset, asset.id)
    if asset.status not in (DISINFECTION, MAINTENANCE):
        raise Conflict(_("%(asset)s is not waiting for disinfection.", asset=asset.code))
    with acting_as(username_of(by)):
        session.add(Disinfection(asset=asset, by=username_of(by), method=method.strip(), note=(note or "").strip()))
        asset.status = AVAILABLE
        session.flush()
    return asset


def add_signature(loan, kind, png, *, by):
    if kind not in ("handover", "return"):
        raise ValidationError(_("Unknown signature kind."))
    loan.signatures.append(LoanSignature(kind=kind, png=_png(png), clerk=username_of(by)))
    db.session.flush()
    return loan


PIN_DIGITS, PIN_TRIES, PIN_LOCK = 6, 5, timedelta(minutes=15)


def _pin_row(username):
    return db.session.scalars(select(ClerkPin).where(ClerkPin.username == username)).first()


def _pin_audit(username, action, **data):
    from erp_core import audit
    audit.append(db.session.connection(), [dict(action=action, doctype="ClerkPin", doc_id=None, docname=username,
                                                data=audit.jsonable(data))])


def set_clerk_pin(username, pin, *, by=None):
    """A clerk sets her own PIN (only she knows it): at least 6 digits."""
    if by is not None and username_of(by) != username:
        raise PermissionDenied(_("Only the clerk herself sets her PIN."))
    if not isinstance(pin, str) or not pin.isdigit() or not PIN_DIGITS <= len(pin) <= 12:
        raise ValidationError(_("A PIN has 6 to 12 digits."))
    row = _pin_row(username) or ClerkPin(username=username)
    row.pin_hash, row.failed, row.locked_until = generate_password_hash(pin), 0, None
    db.session.add(row)
    db.session.flush()
    _pin_audit(username, "pin_set")


def reset_clerk_pin(username, *, by):
    """A supervisor clears a clerk's PIN: she must set a new one before switching in again."""
    row = _pin_row(username)
    if row is None:
        raise NotFound(_("%(user)s has no counter PIN.", user=username))
    row.pin_hash, row.failed, row.locked_until = None, 0, None
    db.session.flush()
    _pin_audit(username, "pin_reset", by=username_of(by))


def verify_clerk_pin(username, pin):
    """True for the right PIN. Five wrong ones in a row lock the switch for that clerk for
    15 minutes (audited); while locked even the right PIN is refused."""
    row = locked(db.session, ClerkPin, _pin_row(username).id) if _pin_row(username) else None
    if row is None or row.pin_hash is None:
        return False
    if row.locked_until and row.locked_until > now():
        raise Conflict(_("Too many wrong PINs: the switch for %(user)s is locked until %(time)s.",
                         user=username, time=row.locked_until.astimezone(LOCAL_TZ).strftime("%H:%M")))
    if pin and isinstance(pin, str) and check_password_hash(row.pin_hash, pin):
        row.failed, row.locked_until = 0, None
        return True
    row.failed += 1
    if row.failed >= PIN_TRIES:
        row.failed, row.locked_until = 0, now() + PIN_LOCK
        _pin_audit(username, "pin_locked", until=row.locked_until)
    db.session.flush()
    return False


def day_bounds(day):
    from erp_core.validation import sane_day
    start = datetime.combine(sane_day(day), time.min, tzinfo=LOCAL_TZ)
    return start, start + DAY


def cash_summary(day, clerk=None):
    """The day's money per clerk: deposits (a liability) apart from fee income. The drawer
    must hold deposits taken − refunds + balances paid; income is what left the deposits
    (deducted, forfeited) plus balances paid; both tie to the ledger to the cent."""
    start, end = day_bounds(day)
    stmt = (select(DepositMovement.by, DepositMovement.kind, func.count(), func.sum(DepositMovement.amount))
            .where(DepositMovement.at >= start, DepositMovement.at < end)
            .group_by(DepositMovement.by, DepositMovement.kind))
    if clerk:
        stmt = stmt.where(DepositMovement.by == clerk)
    rows = {}
    for who, kind, count, total in db.session.execute(stmt):
        rows.setdefault(who, {k: Decimal("0.00") for k in (HELD, REFUNDED, DEDUCTED, FORFEITED, BALANCE)})
        rows[who][kind] = cents(total or 0)
    result = []
    for who in sorted(rows):
        r = rows[who]
        result.append(dict(
            clerk=who, deposits_taken=r[HELD], deposits_refunded=r[REFUNDED], deposits_applied=r[DEDUCTED] + r[FORFEITED],
            balances_paid=r[BALANCE], fee_income=r[DEDUCTED] + r[FORFEITED] + r[BALANCE],
            cash=r[HELD] - r[REFUNDED] + r[BALANCE],
            deposit_change=r[HELD] - r[REFUNDED] - r[DEDUCTED] - r[FORFEITED]))
    return result
