"""Items for sale with stock, counter sales, belongings storage, service bookings."""
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from erp_core.fieldpolicy import LATER, ONCE, edit
from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.types import Money, UTCDateTime, now
from erp_core.workflow import State, Transition, Workflow

PAYMENT_METHODS = {"cash": _l("Cash"), "wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card")}
SALE_STATES = {"paid": _l("Paid"), "refunded": _l("Refunded")}
STORAGE_STATES = {"stored": _l("Stored"), "picked_up": _l("Picked up")}
BOOKING_KINDS = {"taxi": _l("Taxi for discharged patients"), "haircut": _l("Haircut for in-patients"),
                 "funeral": _l("Funeral services"), "repair": _l("Home repair for staff")}


class SaleItem(Document):
    __tablename__ = "convenience_item"
    __table_args__ = (CheckConstraint("stock >= 0", name="convenience_item_stock_not_negative"),)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(80), index=True)
    unit: Mapped[str] = mapped_column(String(10), default="个")
    price: Mapped[Decimal] = mapped_column(Money())
    stock: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_level: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    class Meta:
        title, title_plural = _l("Item for sale"), _l("Items for sale")
        naming = "ITM-.#####"
        icon = "fa-shopping-basket"
        list_columns = ["code", "title", "unit", "price", "stock", "low_stock_level", "active"]
        search_columns = ["code", "title", "active"]
        # stock moves only through receipts, adjustments and sales (the ledger)
        fields = {"code": ONCE, "title": edit(), "unit": edit(), "price": edit(), "low_stock_level": edit(),
                  "active": edit()}
        label_columns = {"code": _l("Item code"), "title": _l("Item"), "unit": _l("Unit"), "price": _l("Price"),
                         "stock": _l("Stock"), "low_stock_level": _l("Low-stock level"), "active": _l("On sale")}
        description_columns = {"low_stock_level": _l("Listed as low stock at or below this quantity")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        self.code = (self.code or "").strip().upper()
        if not self.code or not (self.title or "").strip():
            raise ValidationError(_("Item code and name are required."))
        if self.price is None or self.price < 0:
            raise ValidationError(_("The price cannot be negative."))
        if self.stock < 0:
            raise ValidationError(_("Stock of %(item)s cannot go below zero.", item=self.title))
        if (self.low_stock_level or 0) < 0:
            raise ValidationError(_("The low-stock level cannot be negative."))


class StockMove(Model):
    """Every change of stock, with why: receipts, adjustments, sales, refunds."""
    __tablename__ = "convenience_stock_move"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("convenience_item.id"), index=True)
    item = relationship("SaleItem")
    qty: Mapped[int] = mapped_column(Integer)                  # signed
    kind: Mapped[str] = mapped_column(String(12))              # receipt, adjustment, sale, refund
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    by: Mapped[str] = mapped_column(String(64))


class Sale(Document):
    __tablename__ = "convenience_sale"
    __table_args__ = (Index("ix_convenience_sale_created_by", "created_by"),)   # a declared filter
    payment_method: Mapped[str] = mapped_column(String(12), default="cash")
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(10), default="paid", index=True)        # paid / refunded
    refund_reason: Mapped[str] = mapped_column(String(200), default="")
    lines = relationship("SaleLine", back_populates="sale", cascade="all, delete-orphan", order_by="SaleLine.id")

    class Meta:
        choices = {"payment_method": PAYMENT_METHODS, "status": {"paid": _l("Paid"), "refunded": _l("Refunded")}}
        title, title_plural = _l("Sale"), _l("Sales")
        naming = "SAL-.YYYY.-.#####"
        icon = "fa-shopping-cart"
        generic_create = False
        list_columns = ["name", "created_at", "total", "payment_method", "status", "created_by"]
        search_columns = ["name", "status", "created_by"]
        fields = {}                    # a sale is a ledger entry: refunds go through the refund action
        state_field = "status"
        label_columns = {"payment_method": _l("Payment method"), "total": _l("Total"), "status": _l("Status"),
                         "refund_reason": _l("Refund reason"), "lines": _l("Lines")}

    @property
    def status_label(self):
        return SALE_STATES.get(self.status, self.status)


class SaleLine(Model):
    __tablename__ = "convenience_sale_line"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("convenience_sale.id"), index=True)
    sale = relationship("Sale", back_populates="lines")
    item_id: Mapped[int] = mapped_column(ForeignKey("convenience_item.id"))
    item = relationship("SaleItem")
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())


class Storage(Document):
    """A patient's belongings kept at the desk, free of charge, until picked up."""
    __tablename__ = "convenience_storage"
    tag: Mapped[str] = mapped_column(String(20), unique=True)
    owner_name: Mapped[str] = mapped_column(String(60), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text)
    items_count: Mapped[int] = mapped_column(Integer, default=1)
    location: Mapped[str] = mapped_column(String(60), default="")
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    picked_up_by: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(10), default="stored", index=True)   # stored / picked_up

    class Meta:
        choices = {"status": {"stored": _l("Stored"), "picked_up": _l("Picked up")}}
        title, title_plural = _l("Stored belongings"), _l("Stored belongings")
        naming = "STO-.YYYY.-.#####"
        icon = "fa-archive"
        generic_create = False
        list_columns = ["tag", "owner_name", "description", "items_count", "location", "stored_at", "status"]
        search_columns = ["tag", "owner_name", "phone", "status"]
        state_field = "status"
        fields = {"location": LATER, "description": LATER}
        label_columns = {"tag": _l("Tag"), "owner_name": _l("Owner"), "phone": _l("Phone"),
                         "description": _l("Description"), "items_count": _l("Pieces"), "location": _l("Shelf"),
                         "stored_at": _l("Stored at"), "picked_up_at": _l("Picked up at"),
                         "picked_up_by": _l("Picked up by"), "status": _l("Status")}

    @property
    def status_label(self):
        return STORAGE_STATES.get(self.status, self.status)


class BookingType(Document):
    __tablename__ = "convenience_booking_type"
    title: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60)
    capacity: Mapped[int] = mapped_column(Integer, default=1)

    class Meta:
        fields = ["title", "kind", "fee", "slot_minutes", "capacity"]
        choices = {"kind": BOOKING_KINDS}
        title, title_plural = _l("Service type"), _l("Service types")
        naming = "SVT-.####"
        icon = "fa-list"
        list_columns = ["title", "kind", "fee", "slot_minutes", "capacity"]
        label_columns = {"title": _l("Service"), "kind": _l("Kind"), "fee": _l("Fee"),
                         "slot_minutes": _l("Slot length (minutes)"), "capacity": _l("Bookings per slot")}
        description_columns = {"kind": _l("taxi, haircut, funeral or repair")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if self.kind not in BOOKING_KINDS:
            raise ValidationError(_("Unknown service kind: %(kind)s", kind=self.kind))
        if (self.capacity or 0) < 1 or (self.slot_minutes or 0) < 5 or (self.fee or 0) < 0:
            raise ValidationError(_("A slot is at least 5 minutes, holds at least one booking, and the fee cannot be negative."))


def _slot_is_future(doc):
    return None if doc.slot_start > now() else _("The time slot has already passed.")


class Booking(Document):
    __tablename__ = "convenience_booking"
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("convenience_booking_type.id"), index=True)
    booking_type = relationship("BookingType")
    requester: Mapped[str] = mapped_column(String(60), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    location: Mapped[str] = mapped_column(String(120))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    fee: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")

    class Meta:
        title, title_plural = _l("Booking"), _l("Bookings")
        naming = "BKG-.YYYY.-.#####"
        icon = "fa-calendar"
        list_columns = ["name", "booking_type", "requester", "location", "slot_start", "fee", "state_label"]
        search_columns = ["name", "requester", "phone", "booking_type"]
        fields = ["booking_type", "requester", "phone", "location", "slot_start", "note"]
        label_columns = {"booking_type": _l("Service"), "requester": _l("Requester"), "phone": _l("Phone"),
                         "location": lazy_pgettext("booking", "Location"), "slot_start": _l("Time slot"), "fee": _l("Fee"),
                         "note": _l("Note")}
        workflow = Workflow(
            states=[State("requested", _l("Requested")), State("confirmed", _l("Confirmed"), docstatus=1),
                    State("done", _l("Done"), docstatus=1), State("cancelled", _l("Cancelled"), docstatus=2)],
            transitions=[
                Transition("confirm", _l("Confirm"), "requested", "confirmed",
                           roles=["Front Desk", "Front Desk Supervisor"], condition=_slot_is_future),
                Transition("complete", _l("Mark done"), "confirmed", "done", roles=["Front Desk", "Front Desk Supervisor"]),
                Transition("cancel_booking", _l("Cancel booking"), ("requested", "confirmed"), "cancelled",
                           roles=["Front Desk", "Front Desk Supervisor"], needs_reason=True, style="danger"),
            ])

    def validate(self):
        from erp_core.extensions import db
        if self.slot_start is None or self.booking_type is None:
            raise ValidationError(_("Choose a service and a time slot."))
        for field in ("requester", "phone", "location"):
            if not (getattr(self, field) or "").strip():
                raise ValidationError(_("%(field)s is required.", field=self._meta.label_columns[field]))
        if self.fee is None:
            self.fee = self.booking_type.fee
        if self.id is None and self.slot_start <= now():
            raise ValidationError(_("The time slot has already passed."))
        slot = self.booking_type.slot_minutes * 60
        if int(self.slot_start.timestamp()) % slot:
            raise ValidationError(_("Time slots start every %(minutes)s minutes.", minutes=self.booking_type.slot_minutes))
        if self.workflow_state in (None, "requested", "confirmed"):
            # lock the service type row so two clerks cannot both take the last place in a slot
            db.session.connection().execute(select(BookingType.__table__.c.id).where(
                BookingType.__table__.c.id == self.booking_type.id).with_for_update())
            taken = db.session.scalar(select(func.count()).select_from(Booking).where(
                Booking.booking_type_id == self.booking_type.id, Booking.slot_start == self.slot_start,
                Booking.workflow_state.in_(["requested", "confirmed"]), Booking.id != (self.id or 0)))
            if taken >= self.booking_type.capacity:
                raise ValidationError(_("This time slot is full (%(n)s bookings).", n=taken))
