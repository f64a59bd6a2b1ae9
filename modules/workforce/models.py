"""The people vendors put in the hospital: register, posts and their certificates, training,
headcount agreed per contract, conduct, uniforms (issue 22, "Outsourced workforce").

The certificate rule lives in ``Person.validate`` (via ``services.check_assignable``), so
the form, the API, the import, the actions and scripts all pass through it.
"""
import hashlib
import hmac
import re
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_appbuilder import Model
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.fieldpolicy import FieldRefused, LATER, ONCE, edit
from erp_core.types import Money, UTCDateTime, now

from .showmixins import PersonApiMixin, PersonShowMixin

OFFICER, COORD, MANAGER, AUDITOR = "Workforce Officer", "Vendor Coordinator", "Logistics Manager", "Auditor"

# A person is "pending" when registered but not yet on duty; "active" means assigned to a post
# (the certificate rule is checked on entering it); "left" after the exit date is recorded.
PENDING, ACTIVE, LEFT = "pending", "active", "left"
PERSON_STATES = {PENDING: _l("Registered, not on duty"), ACTIVE: _l("On duty"), LEFT: _l("Left")}
MINOR, SERIOUS = "minor", "serious"
SEVERITIES = {MINOR: _l("Minor"), SERIOUS: _l("Serious")}
SERIOUS_FOR_REMOVAL = 2       # serious violations within REMOVAL_WINDOW_DAYS flag a person for removal (辞退)
REMOVAL_WINDOW_DAYS = 365
REPLIES = {"accepted": _l("Accepted: the person is withdrawn"), "contested": _l("Contested")}

ID_CARD = re.compile(r"^\d{17}[\dX]$")


def today():
    return now().date()


# --- ID-card numbers: never stored in clear -------------------------------------------

def id_card_hash(number):
    """Keyed hash (HMAC-SHA256 with the app's secret) of a normalised ID-card number: the
    only way to find a person by ID card is the exact number."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_id_card(number).encode(), hashlib.sha256).hexdigest()


def normalise_id_card(number):
    return (number or "").strip().upper().replace(" ", "")


def mask_id_card(number):
    n = normalise_id_card(number)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def valid_id_card(number):
    """18-digit resident ID with its ISO 7064 MOD 11-2 check character."""
    n = normalise_id_card(number)
    if not ID_CARD.match(n):
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(n[:17], weights)) % 11] == n[17]


def is_masked(value):
    return "*" in (value or "")


def _services():
    from . import services
    return services


def _flagged():
    from sqlalchemy import select
    return select(Person).where(Person.removal_flagged.is_(True), Person.status != LEFT, Person.vendor_reply == "")


# --- master data ------------------------------------------------------------------------

class CertificateType(Document):
    __tablename__ = "workforce_certificate_type"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(80), index=True)
    note: Mapped[str] = mapped_column(String(200), default="")

    class Meta:
        title, title_plural = _l("Certificate type"), _l("Certificate types")
        naming = "ZJLX-.###"
        icon = "fa-id-badge"
        fields = {"code": ONCE, "title": edit(), "note": edit()}
        list_columns = ["code", "title", "note"]
        search_columns = ["code", "title"]
        label_columns = {"code": _l("Code"), "title": _l("Certificate type"), "note": _l("Note")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        self.code = (self.code or "").strip().upper()
        if not self.code or not (self.title or "").strip():
            raise ValidationError(_("A certificate type needs a code and a title."))


post_certificate = Table(
    "workforce_post_certificate", Model.metadata,
    Column("post_id", ForeignKey("workforce_post.id", ondelete="CASCADE"), primary_key=True),
    Column("certificate_type_id", ForeignKey("workforce_certificate_type.id"), primary_key=True))


class Post(Document):
    """A job in the hospital (cleaner, porter, care worker, cook…) and the certificates it needs."""
    __tablename__ = "workforce_post"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(60), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    required = relationship("CertificateType", secondary=post_certificate, order_by="CertificateType.code")

    class Meta:
        title, title_plural = _l("Post"), _l("Posts")
        naming = "GW-.###"
        icon = "fa-sitemap"
        fields = {"code": ONCE, "title": edit(), "required": edit(), "active": edit()}
        list_columns = ["code", "title", "required", "active"]
        search_columns = ["code", "title"]
        label_columns = {"code": _l("Code"), "title": _l("Post"), "required": _l("Required certificates"),
                         "active": _l("In use")}

    def __str__(self):
        return self.title or ""

    def validate(self):
        self.code = (self.code or "").strip().lower()
        if not self.code or not (self.title or "").strip():
            raise ValidationError(_("A post needs a code and a title."))


# --- the register ----------------------------------------------------------------------

class Person(Document):
    """A member of a vendor's staff working in the hospital."""
    __tablename__ = "workforce_person"
    full_name: Mapped[str] = mapped_column(String(60), index=True)
    # what people write here is the clear number; validate() replaces it with the masked
    # display and keeps only the keyed hash for lookup, before anything reaches the database
    id_card: Mapped[str] = mapped_column(String(18))
    id_card_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    vendor = relationship("Vendor")
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_contracts_contract.id"), nullable=True,
                                                    index=True)
    contract = relationship("Contract")
    post_id: Mapped[int | None] = mapped_column(ForeignKey("workforce_post.id"), nullable=True, index=True)
    post = relationship("Post", lazy="selectin")   # a person reads "name（post）" in every choice list
    department: Mapped[str | None] = mapped_column(String(60), nullable=True, default="", index=True)
    entry_date: Mapped[date] = mapped_column(Date)
    exit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    removal_flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    removal_reason: Mapped[str] = mapped_column(Text, default="")
    vendor_reply: Mapped[str] = mapped_column(Text, default="")
    vendor_reply_outcome: Mapped[str] = mapped_column(String(10), default="")
    certificates = relationship("Certificate", back_populates="person", order_by="Certificate.valid_until")

    class Meta:
        title, title_plural = _l("Staff member"), _l("Staff register")
        naming = "RY-.#####"
        icon = "fa-users"
        view_mixins = (PersonShowMixin,)
        api_mixins = (PersonApiMixin,)
        choices = {"status": PERSON_STATES, "vendor_reply_outcome": REPLIES}
        # status is a field so the register can be imported "on duty"; leaving goes through the action
        fields = {"full_name": edit(), "id_card": ONCE, "phone": edit(), "vendor": ONCE, "contract": edit(),
                  "post": edit(), "department": edit(), "entry_date": edit(),
                  "status": edit(states=(PENDING, ACTIVE))}
        state_field = "status"
        list_columns = ["name", "full_name", "id_card", "vendor", "post", "department", "status", "removal_flagged"]
        # never the ID card: a masked column would find people by its last digits (exact match only)
        search_columns = ["name", "full_name", "phone", "vendor", "post", "department", "status", "removal_flagged"]
        show_columns = ["name", "full_name", "id_card", "phone", "vendor", "contract", "post", "department",
                        "entry_date", "exit_date", "status", "removal_flagged", "removal_reason", "vendor_reply",
                        "vendor_reply_outcome"]
        api_columns = ["full_name", "id_card", "phone", "vendor_id", "contract_id", "post_id", "department",
                       "entry_date", "exit_date", "status", "removal_flagged", "removal_reason", "vendor_reply",
                       "vendor_reply_outcome"]
        order = ("name", "asc")
        label_columns = {"full_name": _l("Name"), "id_card": _l("ID card number"), "phone": _l("Phone"),
                         "vendor": _l("Vendor"), "contract": _l("Contract"), "post": _l("Post"),
                         "department": _l("Department / ward"), "entry_date": _l("Entry date"),
                         "exit_date": _l("Exit date"), "status": _l("Status"),
                         "removal_flagged": _l("Flagged for removal"), "removal_reason": _l("Reason for removal"),
                         "vendor_reply": _l("Vendor's reply"), "vendor_reply_outcome": _l("Reply")}
        watch = [(_l("flagged for removal, no reply yet"), lambda: _flagged(), "/workforce/person/list/?_flt_0_removal_flagged=y")]
        description_columns = {"id_card": _l("Stored masked; find a person by the full number only"),
                               "status": _l("On duty needs every certificate the post requires")}

    def __str__(self):
        return f"{self.full_name}（{self.post}）" if self.post else (self.full_name or "")

    @property
    def status_label(self):
        return PERSON_STATES.get(self.status, self.status)

    def validate(self):
        from .services import check_assignable
        self.full_name = (self.full_name or "").strip()
        if not self.full_name:
            raise FieldRefused({"full_name": _l("is required")}, _("The name is required."))
        if not is_masked(self.id_card):           # a clear number was given: keep hash and mask only
            if not valid_id_card(self.id_card):
                raise FieldRefused({"id_card": _l("is not a valid ID card number")},
                                   _("%(n)s is not a valid ID card number.", n=mask_id_card(self.id_card)
                                     if len(normalise_id_card(self.id_card)) > 7 else "?"))
            self.id_card_hash = id_card_hash(self.id_card)
            self.id_card = mask_id_card(self.id_card)
            session = object_session(self)
            with session.no_autoflush:
                other = session.scalar(select(Person.name).where(Person.id_card_hash == self.id_card_hash,
                                                                 Person.id != (self.id or 0)))
            if other:
                raise FieldRefused({"id_card": _l("is in the register already")},
                                   _("This ID card number is in the register already: %(name)s.", name=other))
        if self.status not in PERSON_STATES:
            raise FieldRefused({"status": _l("is unknown")}, _("Unknown status: %(s)s", s=self.status))
        if self.entry_date is None:
            raise FieldRefused({"entry_date": _l("is required")}, _("The entry date is required."))
        if self.exit_date and self.exit_date < self.entry_date:
            raise FieldRefused({"exit_date": _l("is before the entry date")},
                               _("The exit date is before the entry date."))
        if self.contract is not None and self.vendor is not None and self.contract.vendor_id != self.vendor.id:
            raise FieldRefused({"contract": _l("is another vendor's")},
                               _("The contract %(c)s is not with %(v)s.", c=self.contract.name, v=self.vendor))
        if self.status == ACTIVE and self.post is None:
            raise FieldRefused({"post": _l("is required")}, _("A person on duty needs a post."))
        changed = self._assignment_changed()
        if self.status == ACTIVE and changed:
            check_assignable(self, self.post, today())
        if changed or sa_inspect(self).attrs.department.history.has_changes():
            from .services import record_assignment
            record_assignment(self)

    def _assignment_changed(self):
        state = sa_inspect(self)
        if state.transient or state.pending:
            return True
        return any(state.attrs[k].history.has_changes() for k in ("status", "post", "post_id"))


class Assignment(Model):
    """History of a person's posts and wards (appended whenever they change)."""
    __tablename__ = "workforce_assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    person = relationship("Person")
    post_id: Mapped[int | None] = mapped_column(ForeignKey("workforce_post.id"), nullable=True)
    post = relationship("Post")
    department: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(10))
    at = mapped_column(UTCDateTime, default=now)
    by: Mapped[str] = mapped_column(String(64), default="")


class Certificate(Document):
    __tablename__ = "workforce_certificate"
    person_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    person = relationship("Person", back_populates="certificates")
    certificate_type_id: Mapped[int] = mapped_column(ForeignKey("workforce_certificate_type.id"), index=True)
    certificate_type = relationship("CertificateType")
    number: Mapped[str] = mapped_column(String(60), index=True)
    issuer: Mapped[str] = mapped_column(String(120), default="", index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)

    class Meta:
        title, title_plural = _l("Staff certificate"), _l("Staff certificates")
        naming = "RZ-.######"
        icon = "fa-certificate"
        fields = {"person": ONCE, "certificate_type": ONCE, "number": edit(), "issuer": edit(),
                  "valid_from": edit(), "valid_until": edit()}
        list_columns = ["person", "certificate_type", "number", "issuer", "valid_from", "valid_until"]
        watch = [(_l("expiring in 30 days"), lambda: _services().expiring(), "/workforce/certificates/expiring/"),
                 (_l("expired"), lambda: _services().expired(), "/workforce/certificates/expired/")]
        search_columns = ["certificate_type", "number", "issuer", "valid_until"]   # by person: on the person's page (a person filter costs two statements a page)
        order = ("valid_until", "asc")
        label_columns = {"person": _l("Staff member"), "certificate_type": _l("Certificate type"),
                         "number": _l("Certificate number"), "issuer": _l("Issuer"), "valid_from": _l("Valid from"),
                         "valid_until": _l("Valid until")}

    def validate(self):
        self.number = (self.number or "").strip()
        if not self.number:
            raise FieldRefused({"number": _l("is required")}, _("The certificate number is required."))
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise FieldRefused({"valid_until": _l("is before the start")},
                               _("The certificate expires before it is valid."))


# --- training ---------------------------------------------------------------------------

class Training(Document):
    __tablename__ = "workforce_training"
    held_on: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str] = mapped_column(String(120), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("1"))
    trainer: Mapped[str] = mapped_column(String(60), default="", index=True)
    attendees = relationship("Attendance", back_populates="training", order_by="Attendance.id",
                             cascade="all, delete-orphan")

    class Meta:
        title, title_plural = _l("Training"), _l("Trainings")
        naming = "PX-.YYYY.-.####"
        icon = "fa-graduation-cap"
        fields = {"held_on": edit(), "topic": edit(), "hours": edit(), "trainer": edit()}
        list_columns = ["name", "held_on", "topic", "hours", "trainer"]
        search_columns = ["name", "topic", "trainer", "held_on"]
        order = ("held_on", "desc")
        label_columns = {"held_on": _l("Date"), "topic": _l("Topic"), "hours": _l("Hours"), "trainer": _l("Trainer"),
                         "attendees": _l("Attendees")}

    def __str__(self):
        return f"{self.held_on} {self.topic}" if self.topic else ""

    def validate(self):
        if not (self.topic or "").strip() or self.held_on is None:
            raise ValidationError(_("A training needs a date and a topic."))
        if self.hours is None or not Decimal("0") < self.hours <= Decimal("100"):
            raise FieldRefused({"hours": _l("must be between 0 and 100")}, _("Hours must be between 0 and 100."))


class Attendance(Document):
    """One attendee of a training and the score of the test that closed it."""
    __tablename__ = "workforce_attendance"
    __table_args__ = (UniqueConstraint("training_id", "person_id"),)
    training_id: Mapped[int] = mapped_column(ForeignKey("workforce_training.id"), index=True)
    training = relationship("Training", back_populates="attendees")
    person_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    person = relationship("Person")
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), nullable=True)

    class Meta:
        title, title_plural = _l("Training attendance"), _l("Training attendance")
        naming = "PXR-.######"
        icon = "fa-check-square-o"
        fields = {"training": ONCE, "person": ONCE, "score": edit()}
        list_columns = ["training", "person", "score"]
        search_columns = ["training"]   # by person: on the person's page (a person filter costs two statements a page)
        label_columns = {"training": _l("Training"), "person": _l("Staff member"), "score": _l("Score")}

    def validate(self):
        if self.score is not None and not Decimal("0") <= self.score <= Decimal("100"):
            raise FieldRefused({"score": _l("must be between 0 and 100")}, _("The score is between 0 and 100."))


# --- headcount agreed per contract ------------------------------------------------------

class AgreedHeadcount(Document):
    """How many people the contract puts on a post (kept here, keyed by contract)."""
    __tablename__ = "workforce_agreed_headcount"
    __table_args__ = (UniqueConstraint("contract_id", "post_id"),)
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract")
    post_id: Mapped[int] = mapped_column(ForeignKey("workforce_post.id"), index=True)
    post = relationship("Post")
    headcount: Mapped[int] = mapped_column(Integer)

    class Meta:
        title, title_plural = _l("Agreed headcount"), _l("Agreed headcounts")
        naming = "DY-.#####"
        icon = "fa-users"
        fields = {"contract": ONCE, "post": ONCE, "headcount": edit()}
        list_columns = ["contract", "post", "headcount"]
        search_columns = ["contract", "post"]
        label_columns = {"contract": _l("Contract"), "post": _l("Post"), "headcount": _l("Agreed headcount")}

    def validate(self):
        if self.headcount is None or not 0 <= self.headcount <= 10000:
            raise FieldRefused({"headcount": _l("must be between 0 and 10000")},
                               _("The agreed headcount is between 0 and 10000."))


# --- conduct ------------------------------------------------------------------------------

class Violation(Document):
    __tablename__ = "workforce_violation"
    person_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    person = relationship("Person")
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)   # at the time
    vendor = relationship("Vendor")
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    witness: Mapped[str] = mapped_column(String(60), default="")
    severity: Mapped[str] = mapped_column(String(10), default=MINOR, index=True)
    penalty: Mapped[str] = mapped_column(String(200), default="")
    fine: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    vendor_reply: Mapped[str] = mapped_column(Text, default="")

    class Meta:
        title, title_plural = _l("Conduct violation"), _l("Conduct violations")
        naming = "WG-.YYYY.-.####"
        icon = "fa-exclamation-triangle"
        choices = {"severity": SEVERITIES}
        fields = {"person": ONCE, "occurred_on": ONCE, "rule": edit(), "witness": edit(), "severity": edit(),
                  "penalty": edit(), "fine": edit()}
        list_columns = ["name", "occurred_on", "person", "vendor", "rule", "severity", "fine"]
        search_columns = ["name", "vendor", "rule", "severity", "occurred_on"]   # by person: on the person's page (a person filter costs two statements a page)
        order = ("occurred_on", "desc")
        label_columns = {"person": _l("Staff member"), "vendor": _l("Vendor"), "occurred_on": _l("Date"),
                         "rule": _l("Rule broken"), "witness": _l("Seen by"), "severity": _l("Severity"),
                         "penalty": _l("Penalty"), "fine": _l("Fine"), "vendor_reply": _l("Vendor's reply")}

    def validate(self):
        if self.severity not in SEVERITIES:
            raise FieldRefused({"severity": _l("is minor or serious")}, _("The severity is minor or serious."))
        if not (self.rule or "").strip():
            raise FieldRefused({"rule": _l("is required")}, _("Say which rule was broken."))
        if self.fine is not None and self.fine < 0:
            raise FieldRefused({"fine": _l("cannot be negative")}, _("The fine cannot be negative."))
        if self.person is not None and self.vendor_id is None and self.vendor is None:
            self.vendor = self.person.vendor
        if self.id is None and self.person is not None:
            from .services import after_violation
            after_violation(self)


# --- uniforms and equipment ---------------------------------------------------------------

class Issue(Document):
    """Uniform or work equipment handed to a person, due for replacement on a date."""
    __tablename__ = "workforce_issue"
    person_id: Mapped[int] = mapped_column(ForeignKey("workforce_person.id"), index=True)
    person = relationship("Person")
    item: Mapped[str] = mapped_column(String(60), index=True)
    size: Mapped[str] = mapped_column(String(10), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    issued_on: Mapped[date] = mapped_column(Date)
    replace_due: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    replaced_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)

    class Meta:
        title, title_plural = _l("Uniform / equipment issue"), _l("Uniforms and equipment")
        naming = "FZ-.YYYY.-.#####"
        icon = "fa-shield"
        fields = {"person": ONCE, "item": ONCE, "size": edit(), "quantity": edit(), "issued_on": ONCE,
                  "replace_due": edit()}
        list_columns = ["person", "item", "size", "quantity", "issued_on", "replace_due", "replaced_on"]
        watch = [(_l("due for replacement"), lambda: _services().overdue_issues(), "/workforce/issues/overdue/")]
        search_columns = ["item", "replace_due", "replaced_on"]   # by person: on the person's page (a person filter costs two statements a page)
        order = ("replace_due", "asc")
        label_columns = {"person": _l("Staff member"), "item": _l("Item"), "size": _l("Size"),
                         "quantity": _l("Quantity"), "issued_on": _l("Issued on"), "replace_due": _l("Replace by"),
                         "replaced_on": _l("Replaced on")}

    def validate(self):
        if not (self.item or "").strip():
            raise FieldRefused({"item": _l("is required")}, _("Say what was issued."))
        if self.quantity is None or not 1 <= self.quantity <= 100:
            raise FieldRefused({"quantity": _l("must be between 1 and 100")}, _("The quantity is between 1 and 100."))
        if self.replace_due and self.issued_on and self.replace_due < self.issued_on:
            raise FieldRefused({"replace_due": _l("is before the issue date")},
                               _("The replacement date is before the issue date."))
