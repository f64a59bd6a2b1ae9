"""Rental catalogue, assets, loans and the deposit ledger."""
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from erp_core.fieldpolicy import LATER, ONCE, edit
from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.types import Money, UTCDateTime, now

# Asset states: lending needs AVAILABLE; a return goes through DISINFECTION (infection control)
AVAILABLE, LENT, DISINFECTION, MAINTENANCE, LOST, RETIRED = \
    "available", "lent", "disinfection", "maintenance", "lost", "retired"
ASSET_STATES = {AVAILABLE: _l("Available"), LENT: _l("Lent"), DISINFECTION: _l("Awaiting disinfection"),
                MAINTENANCE: _l("Maintenance"), LOST: _l("Lost"), RETIRED: _l("Retired")}
OPEN, RETURNED, LOST_LOAN = "open", "returned", "lost"
LOAN_STATES = {OPEN: _l("Lent out"), RETURNED: _l("Returned"), LOST_LOAN: _l("Lost")}
# Deposit ledger movements: the deposit is a liability until refunded, deducted or forfeited
HELD, REFUNDED, DEDUCTED, FORFEITED, BALANCE = "held", "refunded", "deducted", "forfeited", "balance"
MOVEMENTS = {HELD: _l("Deposit taken"), REFUNDED: _l("Deposit refunded"), DEDUCTED: _l("Deducted from deposit"),
             FORFEITED: _l("Deposit forfeited"), BALANCE: _l("Balance paid")}
PAYMENT_METHODS = {"cash": _l("Cash"), "wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card")}


class ItemType(Document):
    __tablename__ = "rentals_item_type"
    title: Mapped[str] = mapped_column(String(60), unique=True)
    deposit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    free_minutes: Mapped[int] = mapped_column(Integer, default=0)
    rate_unit: Mapped[str] = mapped_column(String(8), default="hour")       # "hour" or "day"
    rate: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    daily_cap: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    late_fee_per_day: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    loan_hours: Mapped[int] = mapped_column(Integer, default=24)          # default due time
    needs_disinfection: Mapped[bool] = mapped_column(Boolean, default=True)
    terms: Mapped[str] = mapped_column(Text, default="")

    class Meta:
        fields = ["title", "deposit", "free_minutes", "rate_unit", "rate", "daily_cap", "late_fee_per_day",
                  "loan_hours", "needs_disinfection", "terms"]
        choices = {"rate_unit": {"hour": _l("Per hour"), "day": _l("Per day")}}
        title, title_plural = _l("Item type"), _l("Item types")
        naming = "RIT-.####"
        icon = "fa-tags"
        list_columns = ["title", "deposit", "free_minutes", "rate_unit", "rate", "daily_cap", "late_fee_per_day"]
        search_columns = ["title"]
        label_columns = {"title": _l("Item"), "deposit": _l("Deposit"), "free_minutes": _l("Free minutes"),
                         "rate_unit": _l("Rate per"), "rate": _l("Rate"), "daily_cap": _l("Daily cap"),
                         "late_fee_per_day": _l("Late fee per day"), "loan_hours": _l("Loan hours"),
                         "needs_disinfection": _l("Needs disinfection"), "terms": _l("Terms")}
        description_columns = {"rate_unit": _l("hour or day"),
                               "daily_cap": _l("Most charged for any 24 hours; empty for no cap")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if self.rate_unit not in ("hour", "day"):
            raise ValidationError(_("The rate is charged per hour or per day."))
        for field in ("deposit", "rate", "late_fee_per_day", "daily_cap"):
            value = getattr(self, field)
            if value is not None and value < 0:
                raise ValidationError(_("%(field)s cannot be negative.", field=self._meta.label_columns[field]))
        if (self.free_minutes or 0) < 0 or (self.loan_hours or 0) <= 0:
            raise ValidationError(_("Free minutes cannot be negative and the loan period must be positive."))


class Asset(Document):
    __tablename__ = "rentals_asset"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("rentals_item_type.id"), index=True)
    item_type = relationship("ItemType")
    condition: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(120), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default=AVAILABLE, index=True)

    class Meta:
        choices = {"status": ASSET_STATES}
        title, title_plural = _l("Rental asset"), _l("Rental assets")
        naming = "RAS-.#####"
        icon = "fa-wheelchair"
        list_columns = ["code", "item_type", "status_label", "condition", "location"]
        search_columns = ["code", "item_type", "status", "location"]
        # status moves only through lending, returns, disinfection and the maintenance actions
        fields = {"code": ONCE, "item_type": ONCE, "condition": edit(), "location": edit()}
        state_field = "status"
        label_columns = {"code": _l("Asset code"), "item_type": _l("Item type"), "condition": _l("Condition"),
                         "location": lazy_pgettext("asset", "Location"), "status": _l("Status"), "status_label": _l("Status")}
        description_columns = {"status": _l("available, maintenance or retired; lending and returns set the others")}

    def __str__(self):
        return f"{self.code} {self.item_type}" if self.code else ""

    @property
    def status_label(self):
        return ASSET_STATES.get(self.status, self.status)

    def validate(self):
        self.code = (self.code or "").strip().upper()
        if not self.code:
            raise ValidationError(_("The asset code is required."))
        if self.status not in ASSET_STATES:
            raise ValidationError(_("Unknown asset status: %(status)s", status=self.status))


class Loan(Document):
    __tablename__ = "rentals_loan"
    asset_id: Mapped[int] = mapped_column(ForeignKey("rentals_asset.id"), index=True)
    asset = relationship("Asset")
    item_type_id: Mapped[int] = mapped_column(ForeignKey("rentals_item_type.id"))
    item_type = relationship("ItemType")
    borrower_name: Mapped[str] = mapped_column(String(60), index=True)
    ward_bed: Mapped[str] = mapped_column(String(60), default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    id_card: Mapped[str] = mapped_column(String(18), default="")       # masked: 330102********1234
    payment_method: Mapped[str] = mapped_column(String(12), default="cash")
    deposit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rental_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    late_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    damage_charge: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    refund: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    balance_due: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    damaged: Mapped[bool] = mapped_column(Boolean, default=False)
    damage_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=OPEN, index=True)
    lent_by: Mapped[str] = mapped_column(String(64), default="", index=True)
    returned_by: Mapped[str] = mapped_column(String(64), default="")
    movements = relationship("DepositMovement", back_populates="loan", order_by="DepositMovement.id",
                             cascade="all, delete-orphan")
    signatures = relationship("LoanSignature", back_populates="loan", order_by="LoanSignature.id",
                              cascade="all, delete-orphan")

    class Meta:
        choices = {"status": LOAN_STATES, "payment_method": PAYMENT_METHODS}
        list_eager = ("asset.item_type",)     # the asset's title names its type
        people = ("lent_by", "returned_by")
        title, title_plural = _l("Loan"), _l("Loans")
        naming = "LN-.YYYY.-.#####"
        icon = "fa-exchange"
        list_columns = ["name", "asset", "borrower_name", "ward_bed", "lent_at", "due_at", "status_label"]
        search_columns = ["name", "borrower_name", "ward_bed", "phone", "status", "lent_by"]
        show_columns = ["name", "asset", "item_type", "borrower_name", "ward_bed", "phone", "id_card",
                        "payment_method", "deposit", "lent_at", "due_at", "returned_at", "rental_fee", "late_fee",
                        "damage_charge", "refund", "balance_due", "damage_note", "status_label", "lent_by",
                        "returned_by"]
        state_field = "status"
        fields = {"ward_bed": edit(create=False, states=("open",)), "phone": edit(create=False, states=("open",))}
        api_columns = ["borrower_name", "ward_bed", "phone", "id_card", "payment_method", "deposit", "lent_at",
                       "due_at", "returned_at", "rental_fee", "late_fee", "damage_charge", "refund", "balance_due",
                       "damaged", "damage_note", "status", "lent_by", "returned_by"]
        order = ("lent_at", "desc")
        generic_create = False      # lending and returns go through services, not a generic form
        label_columns = {"asset": _l("Asset"), "item_type": _l("Item type"), "borrower_name": _l("Borrower"),
                         "ward_bed": _l("Ward / bed"), "phone": _l("Phone"), "id_card": _l("ID card (masked)"),
                         "payment_method": _l("Payment method"), "deposit": _l("Deposit"), "lent_at": _l("Lent at"),
                         "due_at": _l("Due at"), "returned_at": _l("Returned at"), "rental_fee": _l("Rental fee"),
                         "late_fee": _l("Late fee"), "damage_charge": _l("Damage charge"), "refund": _l("Refund"),
                         "balance_due": _l("Balance due"), "damaged": _l("Damaged"), "damage_note": _l("Damage note"),
                         "status": _l("Status"), "status_label": _l("Status"), "lent_by": _l("Lent by"),
                         "returned_by": _l("Returned by")}

    @property
    def status_label(self):
        return LOAN_STATES.get(self.status, self.status)

    @property
    def total_charges(self):
        return self.rental_fee + self.late_fee + self.damage_charge

    def signature(self, kind):
        return next((s for s in reversed(self.signatures) if s.kind == kind), None)


class DepositMovement(Model):
    """One line of the deposit ledger; never updated, only appended."""
    __tablename__ = "rentals_deposit_movement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("rentals_loan.id"), index=True)
    loan = relationship("Loan", back_populates="movements")
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Money())
    payment_method: Mapped[str] = mapped_column(String(12), default="cash")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")

    @property
    def kind_label(self):
        return MOVEMENTS.get(self.kind, self.kind)


class LoanSignature(Model):
    """The borrower's signature drawn on the counter tablet (no account needed)."""
    __tablename__ = "rentals_loan_signature"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("rentals_loan.id"), index=True)
    loan = relationship("Loan", back_populates="signatures")
    kind: Mapped[str] = mapped_column(String(10))            # "handover" or "return"
    png: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    clerk: Mapped[str] = mapped_column(String(64))

    @property
    def data_uri(self):
        import base64
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


class Disinfection(Model):
    __tablename__ = "rentals_disinfection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("rentals_asset.id"), index=True)
    asset = relationship("Asset")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    by: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(200), default="")


class ClerkPin(Model):
    """A clerk's PIN for switching on a shared counter login (hashed, never stored plain)."""
    __tablename__ = "rentals_clerk_pin"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)   # None: reset, a new one is due
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")                 # wrong PINs in a row
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
