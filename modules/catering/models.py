"""Wards, diets, dishes, meal slots, menus and off-hours meal orders.

A ward nurse sees only the orders of her own wards (``Ward.nurses``): one record rule on
``Order`` covers list, show, edit, export, print and the API."""
from datetime import date, datetime, time
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.fieldpolicy import LATER, ONCE, edit
from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.types import Money, UTCDateTime
from erp_core.workflow import State, Transition, Workflow, service

CLERK, KITCHEN, DIETITIAN, NURSE = "Catering Clerk", "Kitchen", "Dietitian", "Ward Nurse"
PAYMENTS = {"paid": _l("Paid at ordering"), "inpatient": _l("Charged to the inpatient account"),
            "staff_card": _l("Staff card")}


def tags(text):
    """'低盐, 糖尿病；软食' -> {'低盐', '糖尿病', '软食'} (how the forms write small sets)."""
    for sep in ("，", "；", ";", "、"):
        text = (text or "").replace(sep, ",")
    return {t.strip() for t in text.split(",") if t.strip()}


def hhmm(text):
    return time.fromisoformat(text) if text else None


def hhmm_text(value):
    """'8:5' / '20:30' / time(20, 30) -> '20:30'; '' stays ''; anything else is refused."""
    if value in (None, ""):
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    try:
        h, m = (int(x) for x in str(value).strip().replace("：", ":").split(":"))
        return time(h, m).strftime("%H:%M")
    except ValueError:
        raise ValidationError(_("Give a time of day as HH:MM, not %(v)s.", v=str(value)[:10]))


ward_nurses = Table("catering_ward_nurse", Model.metadata,
                    Column("ward_id", ForeignKey("catering_ward.id"), primary_key=True),
                    Column("user_id", ForeignKey("ab_user.id"), primary_key=True))


class Ward(Document):
    __tablename__ = "catering_ward"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    building: Mapped[str] = mapped_column(String(80), default="")
    nurses = relationship(User, secondary=ward_nurses)

    class Meta:
        title, title_plural = _l("Ward"), _l("Wards")
        naming = "WARD-.###"
        icon = "fa-bed"
        list_columns = ["code", "title", "building"]
        fields = ["code", "title", "building", "nurses"]
        label_columns = {"code": _l("Ward code"), "title": _l("Ward"), "building": _l("Building"),
                         "nurses": _l("Ward nurses")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if not (self.code or "").strip() or not (self.title or "").strip():
            raise ValidationError(_("A ward needs a code and a name."))


class Diet(Document):
    __tablename__ = "catering_diet"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12), default="therapeutic")     # basic / therapeutic / tcm
    contraindications: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    class Meta:
        choices = {"kind": {"basic": _l("Basic diet"), "therapeutic": _l("Therapeutic diet"), "tcm": _l("TCM diet")}}
        title, title_plural = _l("Diet"), _l("Diets")
        naming = "DIET-.###"
        icon = "fa-heartbeat"
        list_columns = ["code", "title", "kind", "contraindications"]
        fields = ["code", "title", "kind", "contraindications", "notes"]
        label_columns = {"code": _l("Diet code"), "title": _l("Diet"), "kind": _l("Kind"),
                         "contraindications": _l("Contraindicated allergens and ingredients"), "notes": _l("Notes")}
        description_columns = {"kind": _l("basic, therapeutic or tcm"),
                               "contraindications": _l("Comma separated, e.g. 花生, 海鲜, 高盐")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if self.kind not in ("basic", "therapeutic", "tcm"):
            raise ValidationError(_("A diet is basic, therapeutic or tcm."))
        if not (self.code or "").strip() or not (self.title or "").strip():
            raise ValidationError(_("A diet needs a code and a name."))


class Dish(Document):
    __tablename__ = "catering_dish"
    title: Mapped[str] = mapped_column(String(80), index=True)
    price: Mapped[Decimal] = mapped_column(Money())
    diets: Mapped[str] = mapped_column(String(300), default="", index=True)          # codes of the diets it suits
    allergens: Mapped[str] = mapped_column(String(300), default="", index=True)
    ingredients: Mapped[str] = mapped_column(Text, default="")
    tcm_properties: Mapped[str] = mapped_column(String(200), default="")
    # "HH:MM" (FAB's forms have no time-of-day field); read through hhmm()
    available_from: Mapped[str] = mapped_column(String(5), default="")
    available_until: Mapped[str] = mapped_column(String(5), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    class Meta:
        title, title_plural = _l("Dish"), _l("Dishes")
        naming = "DISH-.####"
        icon = "fa-cutlery"
        list_columns = ["name", "title", "price", "diets", "allergens", "available_from", "available_until", "active"]
        search_columns = ["title", "diets", "allergens"]
        fields = ["title", "price", "diets", "allergens", "ingredients", "tcm_properties", "available_from",
                  "available_until", "active"]
        label_columns = {"title": _l("Dish"), "price": _l("Price"), "diets": _l("Suits diets"),
                         "allergens": _l("Allergens and key ingredients"), "ingredients": _l("Ingredients"),
                         "tcm_properties": _l("TCM properties"), "available_from": _l("Available from"),
                         "available_until": _l("Available until"), "active": _l("Active")}
        description_columns = {"diets": _l("Diet codes, comma separated; empty = regular diet only"),
                               "available_from": _l("Empty for all day; a window may pass midnight (22:00–02:00)")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        if self.price is None or self.price < 0:
            raise ValidationError(_("The price cannot be negative."))
        self.available_from, self.available_until = hhmm_text(self.available_from), hhmm_text(self.available_until)
        if bool(self.available_from) != bool(self.available_until):
            raise ValidationError(_("Give both ends of the availability window, or neither."))

    def available_at(self, t):
        if not self.available_from:
            return True
        a, b = hhmm(self.available_from), hhmm(self.available_until)
        return a <= t <= b if a <= b else (t >= a or t <= b)     # a window across midnight


class MealSlot(Document):
    """A delivery slot outside the ward's regular meals, e.g. 夜宵 20:30–21:30, orders close 60 min before."""
    __tablename__ = "catering_slot"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(60))
    start_time: Mapped[str] = mapped_column(String(5))      # "HH:MM"
    end_time: Mapped[str] = mapped_column(String(5))
    cutoff_minutes: Mapped[int] = mapped_column(Integer, default=60)

    class Meta:
        title, title_plural = _l("Meal slot"), _l("Meal slots")
        naming = "SLOT-.###"
        icon = "fa-clock-o"
        list_columns = ["code", "title", "start_time", "end_time", "cutoff_minutes"]
        fields = ["code", "title", "start_time", "end_time", "cutoff_minutes"]
        label_columns = {"code": _l("Slot code"), "title": _l("Meal slot"), "start_time": _l("Delivery from"),
                         "end_time": _l("Delivery until"), "cutoff_minutes": _l("Orders close (minutes before)")}
        description_columns = {"start_time": _l("HH:MM, e.g. 20:30")}

    def __str__(self):
        return f"{self.title} {self.start_time}–{self.end_time}" if self.title else ""

    @property
    def starts(self):
        return hhmm(self.start_time)

    @property
    def ends(self):
        return hhmm(self.end_time)

    def validate(self):
        self.start_time, self.end_time = hhmm_text(self.start_time), hhmm_text(self.end_time)
        if not self.start_time or not self.end_time or self.ends <= self.starts:
            raise ValidationError(_("A slot ends after it starts (on the same day)."))
        if not 0 <= (self.cutoff_minutes or 0) <= 24 * 60:
            raise ValidationError(_("The cut-off is 0 to 1440 minutes."))


menu_dishes = Table("catering_menu_dish", Model.metadata,
                    Column("menu_id", ForeignKey("catering_menu.id"), primary_key=True),
                    Column("dish_id", ForeignKey("catering_dish.id"), primary_key=True))


class DailyMenu(Document):
    __tablename__ = "catering_menu"
    __table_args__ = (UniqueConstraint("day", "slot_id"),)
    day: Mapped[date] = mapped_column(Date, index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("catering_slot.id"))
    slot = relationship("MealSlot")
    dishes = relationship("Dish", secondary=menu_dishes)

    class Meta:
        title, title_plural = _l("Menu"), _l("Menus")
        naming = "MENU-.YYYY.-.####"
        icon = "fa-list"
        list_columns = ["day", "slot", "dishes"]
        fields = ["day", "slot", "dishes"]
        order = ("day", "desc")
        label_columns = {"day": _l("Day"), "slot": _l("Meal slot"), "dishes": _l("Dishes")}


def _nurse_wards(user):
    return select(ward_nurses.c.ward_id).where(ward_nurses.c.user_id == getattr(user, "id", None))


class Order(Document):
    __tablename__ = "catering_order"
    order_for: Mapped[str] = mapped_column(String(8), default="patient")      # patient / staff
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("catering_ward.id"), nullable=True, index=True)
    ward = relationship("Ward")
    bed: Mapped[str] = mapped_column(String(20), default="", index=True)
    patient_name: Mapped[str] = mapped_column(String(60), default="", index=True)
    inpatient_no: Mapped[str] = mapped_column(String(30), default="")
    diet_id: Mapped[int | None] = mapped_column(ForeignKey("catering_diet.id"), nullable=True)
    diet = relationship("Diet")
    allergies: Mapped[str] = mapped_column(String(300), default="")
    department: Mapped[str] = mapped_column(String(80), default="", index=True)
    staff_name: Mapped[str] = mapped_column(String(60), default="")
    slot_id: Mapped[int] = mapped_column(ForeignKey("catering_slot.id"))
    slot = relationship("MealSlot")
    day: Mapped[date] = mapped_column(Date, index=True)
    deliver_from: Mapped[datetime] = mapped_column(UTCDateTime)
    deliver_until: Mapped[datetime] = mapped_column(UTCDateTime)
    instructions: Mapped[str] = mapped_column(String(300), default="")
    payment: Mapped[str] = mapped_column(String(12), default="inpatient")
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    received_by: Mapped[str] = mapped_column(String(60), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(String(500), default="")
    lines = relationship("OrderLine", back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id")

    class Meta:
        choices = {"payment": PAYMENTS, "order_for": {"patient": _l("Patient"), "staff": _l("Staff")}}
        history_actions = {"diet_override": _l("overrode the diet check")}
        history_labels = {"conflicts": _l("Conflicts"), "reason": _l("Reason")}
        title, title_plural = _l("Meal order"), _l("Meal orders")
        naming = "DC-.YYYY.MM.DD.-.####"
        icon = "fa-coffee"
        generic_create = False          # placed through services (diet, window and cut-off rules)
        children = ("lines",)
        allow_on_submit = ("received_by", "rating", "comment")
        list_columns = ["name", "ward", "bed", "patient_name", "diet", "slot", "day", "total", "workflow_state", "late"]
        search_columns = ["name", "ward", "bed", "patient_name", "department", "day", "workflow_state"]
        fields = {"bed": LATER, "instructions": LATER}   # until the kitchen accepts it (then submitted)
        show_columns = ["name", "order_for", "ward", "bed", "patient_name", "inpatient_no", "diet", "allergies",
                        "department", "staff_name", "slot", "day", "deliver_from", "deliver_until", "instructions",
                        "payment", "total", "override_reason", "received_by", "delivered_at", "late", "rating",
                        "comment", "workflow_state"]
        label_columns = {"order_for": _l("Ordered for"), "ward": _l("Ward"), "bed": _l("Bed"),
                         "patient_name": _l("Patient"), "inpatient_no": _l("Inpatient number"),
                         "diet": _l("Prescribed diet"), "allergies": _l("Allergies"), "department": _l("Department"),
                         "staff_name": _l("Staff member"), "slot": _l("Meal slot"), "day": _l("Day"),
                         "deliver_from": _l("Deliver from"), "deliver_until": _l("Deliver until"),
                         "instructions": _l("Special instructions"), "payment": _l("Payment"), "total": _l("Total"),
                         "override_reason": _l("Dietitian's override"), "received_by": _l("Received by"),
                         "delivered_at": _l("Delivered at"), "late": _l("Late"), "rating": _l("Rating"),
                         "comment": _l("Comment")}
        record_rules = {NURSE: lambda user: Order.ward_id.in_(_nurse_wards(user))}
        workflow = Workflow(
            states=[State("placed", _l("Placed")), State("accepted", _l("Accepted"), docstatus=1, style="info"),
                    State("prepared", _l("Prepared"), docstatus=1, style="info"),
                    State("out", _l("Out for delivery"), docstatus=1, style="warning"),
                    State("delivered", _l("Delivered"), docstatus=1, style="success"),
                    State("cancelled", _l("Cancelled"), docstatus=2, style="danger")],
            transitions=[
                Transition("accept", _l("Accept"), "placed", "accepted", roles=[KITCHEN]),
                Transition("prepare", _l("Mark prepared"), "accepted", "prepared", roles=[KITCHEN]),
                Transition("dispatch", _l("Out for delivery"), "prepared", "out", roles=[KITCHEN]),
                Transition("deliver", _l("Delivered"), "out", "delivered", roles=[KITCHEN],
                           condition=service(__package__, "can_deliver"), run=service(__package__, "on_deliver")),
                Transition("cancel_order", _l("Cancel order"), ("placed", "accepted"), "cancelled",
                           roles=[CLERK, NURSE, KITCHEN, DIETITIAN], needs_reason=True, style="danger"),
            ])

    def __str__(self):
        return self.name or ""

    def validate(self):
        if self.order_for not in ("patient", "staff"):
            raise ValidationError(_("An order is for a patient or a staff member."))
        if self.payment not in PAYMENTS:
            raise ValidationError(_("Unknown payment: %(p)s", p=self.payment))


class OrderLine(Model):
    __tablename__ = "catering_order_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("catering_order.id"), index=True)
    order = relationship("Order", back_populates="lines")
    dish_id: Mapped[int] = mapped_column(ForeignKey("catering_dish.id"))
    dish = relationship("Dish")
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    class Meta:   # how the order's page lists its lines (erp_core.display)
        title_plural = _l("Order lines")
        label_columns = {"dish": _l("Dish"), "qty": _l("Quantity"), "price": _l("Price"), "amount": _l("Amount")}
        list_columns = ["dish", "qty", "price", "amount"]
