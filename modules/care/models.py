"""Care levels and their published prices, the care workers' "八不准", and care orders with
their history of levels and workers (segments), complaints and ratings.

A ward nurse sees only the care orders of her own wards (catering's ``Ward.nurses``): one
record rule on ``CareOrder`` covers list, show, API, export, print and her ward page."""
from datetime import datetime
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.fieldpolicy import ONCE, edit
from erp_core.types import Money, UTCDateTime
from erp_core.workflow import State, Transition, Workflow
from modules.catering.models import Ward, ward_nurses
from modules.workforce.api import Person

DESK, NURSE, COORDINATOR, AUDITOR = "Care Desk", "Ward Nurse", "Vendor Coordinator", "Auditor"
RATIOS = {"one_to_one": _l("One worker to one patient"), "one_to_many": _l("One worker to several patients")}
SHIFTS = {"day": _l("Daytime"), "night": _l("Night time"), "24h": _l("24 hours")}
FEEDBACK = {"rating": _l("Rating"), "complaint": _l("Complaint")}
PAYMENT_METHODS = {"cash": _l("Cash"), "wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card")}
AWAITING, ACTIVE, SETTLED, CANCELLED = "awaiting", "active", "settled", "cancelled"
OPEN_STATES = (AWAITING, ACTIVE)
MAX_PRICE = Decimal("100000")


class CareLevel(Document):
    """一级/二级/三级…: who a worker serves, when, what it includes, and the published daily price."""
    __tablename__ = "care_level"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(60), index=True)
    ratio: Mapped[str] = mapped_column(String(12), default="one_to_one", index=True)
    shift: Mapped[str] = mapped_column(String(8), default="24h", index=True)
    daily_price: Mapped[Decimal] = mapped_column(Money())
    duties: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0, index=True)

    class Meta:
        title, title_plural = _l("Care level"), _l("Care levels")
        naming = "HL-.###"
        icon = "fa-heart"
        choices = {"ratio": RATIOS, "shift": SHIFTS}
        order = ("sort", "asc")
        fields = {"code": ONCE, "title": edit(), "ratio": edit(), "shift": edit(), "daily_price": edit(),
                  "duties": edit(), "published": edit(), "sort": edit()}
        list_columns = ["code", "title", "ratio", "shift", "daily_price", "published"]
        search_columns = ["code", "title", "ratio", "shift", "published"]
        label_columns = {"code": _l("Code"), "title": _l("Care level"), "ratio": _l("Workers to patients"),
                         "shift": _l("Hours"), "daily_price": _l("Price per day"), "duties": _l("Duties included"),
                         "published": _l("Published to families"), "sort": _l("Order on the board")}
        description_columns = {"published": _l("Only published levels are offered to families and shown on the "
                                                "price board and the public price page"),
                               "duties": _l("One duty per line")}

    def __str__(self):
        return self.title or ""

    @property
    def duty_lines(self):
        return [line.strip() for line in (self.duties or "").splitlines() if line.strip()]

    def validate(self):
        self.code = (self.code or "").strip()
        if not self.code or not (self.title or "").strip():
            raise ValidationError(_("A care level needs a code and a title."))
        if self.ratio not in RATIOS or self.shift not in SHIFTS:
            raise ValidationError(_("Choose how many patients a worker serves and the hours."))
        if self.daily_price is None or not Decimal(0) <= self.daily_price < MAX_PRICE:
            raise ValidationError(_("The price per day is between 0 and 99,999.99."))


class CareRule(Document):
    """One of the hospital's "八不准": what a care worker must not do. Printed on every agreement."""
    __tablename__ = "care_rule"
    sort: Mapped[int] = mapped_column(Integer, default=0, index=True)
    text: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    class Meta:
        title, title_plural = _l("Care worker rule"), _l("Care worker rules (八不准)")
        naming = "BBZ-.###"
        icon = "fa-ban"
        order = ("sort", "asc")
        fields = ["sort", "text", "active"]
        list_columns = ["sort", "text", "active"]
        label_columns = {"sort": _l("Rule no."), "text": _l("Care workers must not"), "active": _l("In force")}

    def __str__(self):
        return self.text or ""

    def validate(self):
        if not (self.text or "").strip():
            raise ValidationError(_("Write what care workers must not do."))


def _nurse_wards(user):
    return select(ward_nurses.c.ward_id).where(ward_nurses.c.user_id == getattr(user, "id", None))


class CareOrder(Document):
    __tablename__ = "care_order"
    ward_id: Mapped[int] = mapped_column(ForeignKey("catering_ward.id"), index=True)
    ward = relationship(Ward)
    bed: Mapped[str] = mapped_column(String(20), index=True)
    patient_name: Mapped[str] = mapped_column(String(60), index=True)
    inpatient_no: Mapped[str] = mapped_column(String(30), default="")
    level_id: Mapped[int] = mapped_column(ForeignKey("care_level.id"), index=True)     # in force now
    level = relationship("CareLevel")
    daily_price: Mapped[Decimal] = mapped_column(Money())                             # of the level in force
    worker_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)  # on duty now
    worker = relationship(Person)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    vendor = relationship("Vendor")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    family_name: Mapped[str] = mapped_column(String(60), index=True)
    family_relation: Mapped[str] = mapped_column(String(20), default="")
    family_phone: Mapped[str] = mapped_column(String(20))
    deposit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    payment_method: Mapped[str] = mapped_column(String(10), default="cash")
    # the part-day rule agreed with the family (a part day under this many hours counts half)
    part_day_hours: Mapped[int] = mapped_column(Integer, default=4)
    # what the family signed: the rules and duties as printed then, and how it came back
    rules_text: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signed_by: Mapped[str] = mapped_column(String(64), default="")
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)       # PNG from the tablet
    signed_scan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)          # core_attachment id
    care_days: Mapped[Decimal] = mapped_column(Numeric(8, 1), default=Decimal("0"))
    charges: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    balance_due: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    refund: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    settled_by: Mapped[str] = mapped_column(String(64), default="")
    segments = relationship("CareSegment", back_populates="order", cascade="all, delete-orphan",
                            order_by="CareSegment.id")
    feedback = relationship("CareFeedback", back_populates="order", cascade="all, delete-orphan",
                            order_by="CareFeedback.id")

    class Meta:
        title, title_plural = _l("Care order"), _l("Care orders")
        naming = "PH-.YYYY.MM.-.####"
        icon = "fa-user-md"
        generic_create = False          # created by the care desk's action (worker and booking rules)
        choices = {"payment_method": PAYMENT_METHODS}
        people = ("signed_by", "settled_by")
        list_eager = ("worker.post",)        # a worker reads as "name（post）"
        list_columns = ["name", "ward", "bed", "patient_name", "level", "worker", "start_at", "planned_end",
                        "state_label"]
        search_columns = ["name", "ward", "bed", "patient_name", "family_name", "workflow_state"]
        key_fields = ["ward", "bed", "patient_name", "level", "daily_price", "worker", "vendor", "start_at",
                      "planned_end", "end_at", "family_name", "family_phone", "deposit", "charges", "balance_due",
                      "refund"]
        show_columns = ["name", "ward", "bed", "patient_name", "inpatient_no", "level", "daily_price", "worker",
                        "vendor", "start_at", "planned_end", "end_at", "family_name", "family_relation",
                        "family_phone", "deposit", "payment_method", "part_day_hours", "signed_at", "signed_by",
                        "care_days", "charges", "balance_due", "refund", "settled_by", "state_label"]
        # the bed moves with the patient; the rest changes through the order's actions
        fields = {"bed": edit(states=OPEN_STATES), "family_phone": edit(states=OPEN_STATES),
                  "planned_end": edit(states=OPEN_STATES)}
        related = ("segments", "feedback")
        label_columns = {"ward": _l("Ward"), "bed": _l("Bed"), "patient_name": _l("Patient"),
                         "inpatient_no": _l("Inpatient number"), "level": _l("Care level"),
                         "daily_price": _l("Price per day"), "worker": _l("Care worker"), "vendor": _l("Care vendor"),
                         "start_at": _l("Care from"), "planned_end": _l("Planned end"), "end_at": _l("Care ended"),
                         "family_name": _l("Family contact"), "family_relation": _l("Relation to the patient"),
                         "family_phone": _l("Family phone"), "deposit": _l("Deposit"),
                         "payment_method": _l("Payment method"), "part_day_hours": _l("Part day: half under (hours)"),
                         "signed_at": _l("Agreement signed at"), "signed_by": _l("Agreement taken by"),
                         "care_days": _l("Days charged"), "charges": _l("Charges"), "balance_due": _l("Balance due"),
                         "refund": _l("Refund"), "settled_by": _l("Settled by"), "segments": _l("Levels and workers"),
                         "feedback": _l("Complaints and ratings")}
        history_actions = {"change_worker": _l("changed the care worker"), "change_level": _l("changed the care level"),
                           "sign": _l("recorded the signed agreement"), "settle": _l("settled the order"),
                           "feedback": _l("recorded a complaint or rating"),
                           "violation": _l("recorded a violation of the care worker rules")}
        history_labels = {"worker": _l("Care worker"), "level": _l("Care level"), "reason": _l("Reason"),
                          "kind": _l("Kind"), "rating": _l("Rating"), "text": _l("Details"),
                          "payment_method": _l("Payment method"), "ended_at": _l("Care ended")}
        record_rules = {NURSE: lambda user: CareOrder.ward_id.in_(_nurse_wards(user))}
        workflow = Workflow(
            states=[State(AWAITING, _l("Awaiting the signed agreement"), style="warning"),
                    State(ACTIVE, _l("In care"), style="info"),
                    State(SETTLED, _l("Settled"), docstatus=1, style="success"),
                    State(CANCELLED, _l("Cancelled"), docstatus=2, style="danger")],
            transitions=[
                Transition("sign", _l("Record the signed agreement"), AWAITING, ACTIVE, roles=[DESK]),
                Transition("settle", _l("Discharge and settle"), ACTIVE, SETTLED, roles=[DESK]),
                Transition("cancel_order", _l("Cancel the order"), AWAITING, CANCELLED, roles=[DESK],
                           needs_reason=True, style="danger"),
            ])

    def __str__(self):
        return f"{self.name} {self.patient_name}" if self.name else ""

    @property
    def current_segment(self):
        return self.segments[-1] if self.segments else None


class CareSegment(Model):
    """One stretch of an order with one level and one worker; a change closes it and opens the next."""
    __tablename__ = "care_segment"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("care_order.id"), index=True)
    order = relationship("CareOrder", back_populates="segments")
    from_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("care_level.id"))
    level = relationship("CareLevel")
    one_to_one: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_price: Mapped[Decimal] = mapped_column(Money())
    worker_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    worker = relationship(Person)
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_by: Mapped[str] = mapped_column(String(64), default="")

    class Meta:
        title_plural = _l("Levels and workers")
        list_columns = ["from_at", "until_at", "level", "daily_price", "worker", "reason", "changed_by"]
        people = ("changed_by",)
        label_columns = {"from_at": _l("From"), "until_at": _l("Until"), "level": _l("Care level"),
                         "daily_price": _l("Price per day"), "worker": _l("Care worker"), "reason": _l("Reason"),
                         "changed_by": _l("Changed by")}


class CareFeedback(Model):
    """A family's or a nurse's rating (1–5) or complaint about the care on an order."""
    __tablename__ = "care_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("care_order.id"), index=True)
    order = relationship("CareOrder", back_populates="feedback")
    kind: Mapped[str] = mapped_column(String(10), default="rating")
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(String(500), default="")
    worker_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    worker = relationship(Person)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    by: Mapped[str] = mapped_column(String(64), default="")

    class Meta:
        title_plural = _l("Complaints and ratings")
        choices = {"kind": FEEDBACK}
        people = ("by",)
        list_columns = ["at", "kind", "rating", "text", "worker", "by"]
        label_columns = {"at": _l("At"), "kind": _l("Kind"), "rating": _l("Rating"), "text": _l("Details"),
                         "worker": _l("Care worker"), "by": _l("Recorded by")}


class CareViolation(Model):
    """Links a "八不准" violation recorded in workforce's conduct register to the care order it
    happened on (so the care vendor's assessment can count them as care evidence)."""
    __tablename__ = "care_violation"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("care_order.id"), index=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("workforce_violation.id"), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
