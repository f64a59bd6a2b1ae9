"""Convenience services: stock that never goes negative, counter sales, storage, pick-up."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.context import acting_as, username_of
from erp_core.document import locked
from erp_core.errors import Conflict, NotFound, ValidationError
from erp_core.extensions import db
from erp_core.money import cents
from erp_core.types import now

from .models import PAYMENT_METHODS, Sale, SaleItem, SaleLine, StockMove, Storage


def _qty(value, allow_negative=False):
    from erp_core.validation import check_integer
    try:
        qty = check_integer(value, 100_000)
    except ValueError:
        raise ValidationError(_("The quantity must be a whole number."))
    if qty == 0 or (qty < 0 and not allow_negative):
        raise ValidationError(_("The quantity must be a positive whole number."))
    return qty


def find_item(code):
    code = (code or "").strip().upper()
    return db.session.scalars(select(SaleItem).where(SaleItem.code == code)).first() if code else None


def _change_stock(item, delta, kind, *, reason="", reference="", by):
    """Stock changes under a row lock: two sales of the last roll of tape cannot both pass."""
    item = locked(db.session, SaleItem, item.id)
    if item.stock + delta < 0:
        raise Conflict(_("Only %(stock)s %(unit)s of %(item)s in stock.", stock=item.stock, unit=item.unit,
                         item=item.title))
    item.stock += delta
    db.session.add(StockMove(item=item, qty=delta, kind=kind, reason=reason, reference=reference, by=username_of(by)))
    return item


def receive_stock(item, qty, *, reason="", by):
    with acting_as(username_of(by)):
        item = _change_stock(item, _qty(qty), "receipt", reason=reason or _("Stock received"), by=by)
        db.session.flush()
    return item


def adjust_stock(item, delta, *, reason, by):
    if not (reason or "").strip():
        raise ValidationError(_("A stock adjustment needs a reason."))
    with acting_as(username_of(by)):
        item = _change_stock(item, _qty(delta, allow_negative=True), "adjustment", reason=reason.strip(), by=by)
        db.session.flush()
    return item


def sell(lines, *, payment_method="cash", by):
    """A counter sale of several lines, all or nothing."""
    if payment_method not in PAYMENT_METHODS:
        raise ValidationError(_("Unknown payment method: %(method)s", method=payment_method))
    if not lines:
        raise ValidationError(_("A sale needs at least one item."))
    clerk = username_of(by)
    with acting_as(clerk):
        sale = Sale(payment_method=payment_method, status="paid")
        db.session.add(sale)
        db.session.flush()
        for item, qty in sorted(((i, _qty(q)) for i, q in lines), key=lambda pair: pair[0].id):  # lock order
            if not item.active:
                raise ValidationError(_("%(item)s is not on sale.", item=item.title))
            item = _change_stock(item, -qty, "sale", reference=sale.name, by=clerk)
            sale.lines.append(SaleLine(item=item, qty=qty, price=item.price, amount=cents(item.price * qty)))
        sale.total = sum((line.amount for line in sale.lines), cents(0))
        db.session.flush()
    return sale


def refund(sale, *, reason, by):
    """Refund a whole sale; the goods go back on the shelf."""
    if not (reason or "").strip():
        raise ValidationError(_("A refund needs a reason."))
    sale = locked(db.session, Sale, sale.id)
    if sale.status != "paid":
        raise Conflict(_("%(sale)s was already refunded.", sale=sale.name))
    with acting_as(username_of(by)):
        for line in sale.lines:
            _change_stock(line.item, line.qty, "refund", reason=reason.strip(), reference=sale.name, by=by)
        sale.status, sale.refund_reason = "refunded", reason.strip()
        db.session.flush()
    return sale


def low_stock():
    return db.session.scalars(select(SaleItem).where(SaleItem.active.is_(True),
                                                     SaleItem.stock <= SaleItem.low_stock_level)
                              .order_by(SaleItem.stock, SaleItem.code)).all()


def find_tag(tag):
    tag = (tag or "").strip().upper()
    return db.session.scalars(select(Storage).where(Storage.tag == tag)).first() if tag else None


def next_tag():
    """Tags are short and easy to read out: S0001, S0002 … They come from a naming counter
    (one atomic increment in this transaction), so two check-ins never get the same tag;
    tags already in use (typed by hand, or from before the counter) are skipped."""
    from erp_core.naming import next_name
    while True:
        tag = next_name(db.session.connection(), "S.####")
        if not find_tag(tag):
            return tag


def store(*, owner_name, phone, description, items_count=1, location="", tag=None, by):
    phone = (phone or "").strip()
    if not (owner_name or "").strip() or not (description or "").strip():
        raise ValidationError(_("Owner and description are required."))
    if len([c for c in phone if c.isdigit()]) < 4:
        raise ValidationError(_("A phone number is needed to check the pick-up."))
    count = _qty(items_count)
    with acting_as(username_of(by)):
        storage = Storage(tag=(tag or next_tag()).strip().upper(), owner_name=owner_name.strip(), phone=phone,
                          description=description.strip(), items_count=count, location=(location or "").strip(),
                          stored_at=now(), status="stored")
        if find_tag(storage.tag):
            raise Conflict(_("Tag %(tag)s is in use.", tag=storage.tag))
        db.session.add(storage)
        db.session.flush()
    return storage


def pick_up(storage, *, tag, phone_last4, picked_up_by="", by):
    """Hand belongings back only with the tag and the last four digits of the phone."""
    storage = locked(db.session, Storage, storage.id)
    if storage.status != "stored":
        raise Conflict(_("Tag %(tag)s was already picked up.", tag=storage.tag))
    digits = "".join(c for c in storage.phone if c.isdigit())
    if (tag or "").strip().upper() != storage.tag or (phone_last4 or "").strip() != digits[-4:]:
        raise ValidationError(_("The tag or the phone digits do not match."))
    with acting_as(username_of(by)):
        storage.status, storage.picked_up_at = "picked_up", now()
        storage.picked_up_by = (picked_up_by or storage.owner_name).strip()
        db.session.flush()
    return storage


def unclaimed(days):
    if days < 0:
        raise ValidationError(_("The number of days cannot be negative."))
    return db.session.scalars(select(Storage).where(Storage.status == "stored",
                                                    Storage.stored_at <= now() - timedelta(days=days))
                              .order_by(Storage.stored_at)).all()
