"""Budget lines, tenders, sealed bids, the evaluation committee and its scores.

Bid prices and technical proposals live only in ``Envelope`` rows (no view, no API, no
audit data) until the tender's opening copies them onto the ``Bid``: every generic read
path (list, show, API, export, print, history) therefore has nothing to leak before then.
"""
from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import (Boolean, Date, ForeignKey, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint,
                        func, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.fieldpolicy import LATER, ONCE, edit
from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.types import Money, UTCDateTime, now
from erp_core.workflow import State, Transition, Workflow, service
from modules.vendor_contracts.models import CATEGORIES  # noqa: F401 - the tender's categories are the contracts'

from .showmixins import TenderShowMixin

OFFICER, EXPERT, MANAGER = "Procurement Officer", "Evaluation Expert", "Procurement Manager"
METHODS = {"open": _l("Open tendering"), "invited": _l("Invited tendering"),
           "negotiation": _l("Competitive negotiation"), "single_source": _l("Single source")}
EVALUATION = {"lowest_price": _l("Lowest price"), "comprehensive": _l("Comprehensive scoring")}
# valid bids needed at opening; open and invited tenders fail below it, a negotiation may go on
# with a recorded manager decision (政府采购竞争性谈判: 2 suppliers in special cases)
MIN_VALID_BIDS = {"open": 3, "invited": 3, "negotiation": 3, "single_source": 1}
AUTO_FAIL = ("open", "invited")
MIN_INVITEES = 3
# the bids' totals rank first; then these, in order (printed on the evaluation summary)
TIE_RULE = _l("Equal totals: the lower price ranks first, then the higher technical score, then the earlier bid.")
ACTIVE = ("approved", "published", "closed", "opened", "evaluated", "publicity")
AWARDED = ("awarded", "contracted")


class BudgetLine(Document):
    __tablename__ = "procurement_budget_line"
    year: Mapped[int] = mapped_column(Integer, index=True)
    department: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(120), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())

    class Meta:
        title, title_plural = _l("Budget line"), _l("Budget lines")
        naming = "BUD-.####"
        icon = "fa-money"
        list_columns = ["name", "year", "department", "title", "amount"]
        fields = ["year", "department", "title", "amount"]
        search_columns = ["year", "department", "title"]
        label_columns = {"year": _l("Year"), "department": _l("Department"), "title": _l("Budget item"),
                         "amount": _l("Amount")}

    def __str__(self):
        return f"{self.year} {self.department} {self.title}" if self.title else ""

    def validate(self):
        if self.amount is None or self.amount <= 0:
            raise ValidationError(_("The budget amount must be positive."))
        if not 2000 <= (self.year or 0) <= 2100:
            raise ValidationError(_("Give a real budget year."))

    def used(self, session, exclude=None):
        """(committed by running tenders at their estimate, awarded at the award amount)."""
        def total(column, states):
            q = select(func.coalesce(func.sum(column), 0)).where(Tender.budget_line_id == self.id,
                                                                 Tender.workflow_state.in_(states))
            if exclude is not None:
                q = q.where(Tender.id != exclude)
            return Decimal(session.scalar(q))
        return total(Tender.estimated_amount, ACTIVE), total(Tender.award_amount, AWARDED)

    def remaining(self, session, exclude=None):
        committed, awarded = self.used(session, exclude)
        return self.amount - committed - awarded


class Tender(Document):
    __tablename__ = "procurement_tender"
    title: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("procurement_budget_line.id"), index=True)
    budget_line = relationship("BudgetLine")
    estimated_amount: Mapped[Decimal] = mapped_column(Money())
    method: Mapped[str] = mapped_column(String(16), default="open", index=True)
    justification: Mapped[str] = mapped_column(Text, default="")
    evaluation_method: Mapped[str] = mapped_column(String(16), default="comprehensive")
    price_weight: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("30"))
    drop_extremes: Mapped[bool] = mapped_column(Boolean, default=True)
    bid_bond: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    bid_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opening_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opening_place: Mapped[str] = mapped_column(String(120), default="")
    publicity_days: Mapped[int] = mapped_column(Integer, default=3)
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    service_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    service_months: Mapped[int] = mapped_column(Integer, default=12)
    budget_override: Mapped[str] = mapped_column(Text, default="")
    proceed_decision: Mapped[str] = mapped_column(Text, default="")
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    award_amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contract_name: Mapped[str] = mapped_column(String(40), default="")
    criteria = relationship("Criterion", back_populates="tender", order_by="Criterion.sort",
                            cascade="all, delete-orphan")
    invitees = relationship("Invitee", back_populates="tender", cascade="all, delete-orphan")
    registrations = relationship("Registration", back_populates="tender", cascade="all, delete-orphan")
    members = relationship("Member", back_populates="tender", order_by="Member.id", cascade="all, delete-orphan")
    bids = relationship("Bid", back_populates="tender", order_by="Bid.id")
    objections = relationship("Objection", back_populates="tender", order_by="Objection.id",
                              cascade="all, delete-orphan")

    class Meta:
        choices = {"category": CATEGORIES, "method": METHODS, "evaluation_method": EVALUATION}
        related = ()      # the tender desk (tender_show.html) lists criteria, bids and the committee
        # the desk's own audit rows, as the history names them (erp_core.display.history_sentences)
        history_actions = {"committee": _l("added an expert to the committee"), "registration": _l("registered a vendor"),
                           "bid_received": _l("received a bid"), "criteria": _l("set the scoring criteria"),
                           "invitees": _l("set the invited vendors"), "opening": _l("opened the bids"),
                           "evaluation": _l("summed up the evaluation"), "scores_submitted": _l("submitted the scores"),
                           "conflict_declaration": _l("declared on conflicts of interest"),
                           "objection": _l("recorded an objection"), "objection_answered": _l("answered an objection"),
                           "budget_override": _l("overrode the budget"), "proceed_decision": _l("decided to proceed")}
        history_labels = {"added": _l("Expert"), "expert": _l("Expert"), "chair": _l("Chair"), "vendor": _l("Vendor"),
                          "bid": _l("Bid"), "bids": _l("Number of bids"), "valid": _l("Valid bids"),
                          "no_conflict": _l("No conflict of interest"), "reason": _l("Reason"),
                          "raised_by": _l("Raised by"), "upheld": _l("Upheld"), "answer": _l("Answer"),
                          "content": _l("Content"), "objection": _l("Objection")}
        people = ("added", "expert")
        title, title_plural = _l("Tender"), _l("Tenders")
        naming = "ZB-.YYYY.-.###"
        icon = "fa-gavel"
        view_mixins = (TenderShowMixin,)
        allow_on_submit = ("publicity_days", "service_start", "service_months", "opening_place", "proceed_decision")
        children = ("criteria", "invitees")
        list_columns = ["name", "title", "category", "method", "estimated_amount", "bid_deadline", "workflow_state"]
        search_columns = ["name", "title", "category", "method", "workflow_state"]
        # the officer drafts; after approval only the practical details move. Decisions (proceed,
        # budget override), award and failure are recorded by services through their actions.
        fields = {f: edit() for f in ("title", "category", "budget_line", "estimated_amount", "method",
                                      "justification", "evaluation_method", "price_weight", "drop_extremes",
                                      "bid_bond", "notice_at", "registration_closes_at", "bid_deadline",
                                      "opening_at")}
        fields |= {f: edit(on_submit=True) for f in ("opening_place", "publicity_days", "service_start",
                                                      "service_months")}
        show_columns = ["name", "title", "category", "budget_line", "estimated_amount", "method", "justification",
                        "evaluation_method", "price_weight", "drop_extremes", "bid_bond", "notice_at",
                        "registration_closes_at", "bid_deadline", "opening_at", "opening_place", "publicity_days",
                        "publicity_ends_at", "budget_override", "proceed_decision", "failure_reason",
                        "award_amount", "awarded_at", "contract_name", "workflow_state"]
        label_columns = {"title": _l("Project"), "category": _l("Service category"), "budget_line": _l("Budget line"),
                         "estimated_amount": _l("Estimated amount"), "method": _l("Procurement method"),
                         "justification": _l("Justification"), "evaluation_method": _l("Evaluation method"),
                         "price_weight": _l("Price weight"), "drop_extremes": _l("Drop highest and lowest"),
                         "bid_bond": _l("Bid bond"), "notice_at": _l("Notice published"),
                         "registration_closes_at": _l("Registration closes"), "bid_deadline": _l("Bid deadline"),
                         "opening_at": _l("Bid opening"), "opening_place": _l("Opening place"),
                         "publicity_days": _l("Publicity days"), "publicity_ends_at": _l("Publicity ends"),
                         "service_start": _l("Service starts"), "service_months": _l("Service months"),
                         "budget_override": _l("Budget override"), "proceed_decision": _l("Decision to proceed"),
                         "failure_reason": _l("Failure reason"), "winner": _l("Winning bid"),
                         "award_amount": _l("Award amount"), "awarded_at": _l("Awarded at"),
                         "contract_name": _l("Contract")}
        description_columns = {
            "price_weight": _l("Comprehensive scoring: price points; the criteria's maximums make up the rest of 100"),
            "drop_extremes": _l("With 5 or more experts, each bid's highest and lowest expert totals are dropped"),
            "justification": _l("Required for single-source procurement")}
        workflow = Workflow(
            states=[State("draft", _l("Draft")), State("approved", _l("Approved"), docstatus=1, style="info"),
                    State("published", _l("Published"), docstatus=1, style="info"),
                    State("closed", _l("Bidding closed"), docstatus=1, style="warning"),
                    State("opened", _l("Opened"), docstatus=1, style="warning"),
                    State("evaluated", _l("Evaluated"), docstatus=1, style="warning"),
                    State("publicity", _l("Publicity"), docstatus=1, style="warning"),
                    State("awarded", _l("Awarded"), docstatus=1, style="success"),
                    State("contracted", _l("Contract signed"), docstatus=1, style="success"),
                    State("failed", _l("Failed"), docstatus=1, style="danger"),
                    State("cancelled", _l("Cancelled"), docstatus=2, style="danger")],
            transitions=[
                Transition("approve", _l("Approve"), "draft", "approved", roles=[MANAGER],
                           condition=service(__package__, "can_approve")),
                Transition("publish", _l("Publish notice"), "approved", "published", roles=[OFFICER],
                           condition=service(__package__, "can_publish"), run=service(__package__, "on_publish")),
                Transition("close_bidding", _l("Close bidding"), "published", "closed", roles=[OFFICER],
                           condition=service(__package__, "can_close")),
                Transition("open_bids", _l("Open bids"), "closed", "opened", roles=[OFFICER],
                           condition=service(__package__, "can_open"), run=service(__package__, "on_open")),
                Transition("evaluate", _l("Close evaluation"), "opened", "evaluated", roles=[OFFICER],
                           condition=service(__package__, "can_evaluate"), run=service(__package__, "on_evaluate")),
                Transition("start_publicity", _l("Publish the result"), "evaluated", "publicity", roles=[OFFICER],
                           run=service(__package__, "on_publicity")),
                Transition("award", _l("Award"), "publicity", "awarded", roles=[MANAGER],
                           condition=service(__package__, "can_award"), run=service(__package__, "on_award")),
                Transition("sign_contract", _l("Create the contract"), "awarded", "contracted", roles=[OFFICER],
                           run=service(__package__, "on_sign")),
                Transition("fail", _l("Declare failed (流标)"), ("published", "closed", "opened", "evaluated", "publicity"),
                           "failed", roles=[OFFICER, MANAGER], needs_reason=True, style="danger",
                           run=service(__package__, "on_fail")),
                Transition("cancel_tender", _l("Cancel tender"), ("draft", "approved", "published", "closed"),
                           "cancelled", roles=[MANAGER], needs_reason=True, style="danger", run=service(__package__, "on_fail")),
            ])

    def __str__(self):
        return f"{self.name} {self.title}" if self.name else (self.title or "")

    def validate(self):
        from . import services
        services.validate_tender(self)

    @property
    def winner(self):
        """The recommended bid (rank 1), confirmed by the award."""
        return next((b for b in self.bids if b.recommended), None)

    def on_transition(self):
        from . import services
        services.after_transition(self)


class Criterion(Model):
    """A technical or commercial scoring criterion of a comprehensive-scoring tender."""
    __tablename__ = "procurement_criterion"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="criteria")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12), default="technical")
    max_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))

    def __str__(self):
        return self.title

    class Meta:   # how the tender's page lists its criteria (erp_core.display)
        title_plural = _l("Scoring criteria")
        label_columns = {"title": _l("Criterion"), "kind": _l("Kind"), "max_points": _l("Maximum")}
        choices = {"kind": {"technical": _l("Technical"), "commercial": _l("Commercial")}}
        list_columns = ["title", "kind", "max_points"]

class Invitee(Model):
    __tablename__ = "procurement_invitee"
    __table_args__ = (UniqueConstraint("tender_id", "vendor_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="invitees")
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"))
    vendor = relationship("Vendor")

    class Meta:
        label_columns = {"vendor": _l("Vendor")}
        title_plural = _l("Invited vendors")
        list_columns = ["vendor"]

class Registration(Model):
    """A vendor registered to bid (bought the tender documents)."""
    __tablename__ = "procurement_registration"
    __table_args__ = (UniqueConstraint("tender_id", "vendor_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="registrations")
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"))
    vendor = relationship("Vendor")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    registered_by: Mapped[str] = mapped_column(String(64), default="")


class Member(Model):
    """An expert on a tender's evaluation committee."""
    __tablename__ = "procurement_member"
    __table_args__ = (UniqueConstraint("tender_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="members")
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"))
    user = relationship(User)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    no_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    declaration: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scores = relationship("Score", back_populates="member", cascade="all, delete-orphan")

    def __str__(self):
        u = self.user
        return f"{u.first_name}{u.last_name}" if u else ""


class Bid(Document):
    __tablename__ = "procurement_bid"
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="bids")
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"))
    vendor = relationship("Vendor")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bond_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    bond_refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(4), default="")          # A, B, C ... given at opening
    status: Mapped[str] = mapped_column(String(10), default="sealed", index=True)  # sealed / valid / invalid
    invalid_reason: Mapped[str] = mapped_column(String(200), default="")
    technical: Mapped[str | None] = mapped_column(Text, nullable=True)     # copied at the technical opening
    price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)   # copied at the price opening
    technical_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    price_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recommended: Mapped[bool] = mapped_column(Boolean, default=False)

    class Meta:
        choices = {"status": {"sealed": _l("Sealed"), "valid": _l("Valid"), "invalid": _l("Invalid")}}
        title, title_plural = _l("Bid"), _l("Bids")
        naming = "TB-.YYYY.-.#####"
        icon = "fa-envelope"
        generic_create = False          # recorded only through the tender's bid desk (services.record_bid)
        allow_on_submit = ("bond_refunded_at",)
        list_columns = ["name", "tender", "vendor", "submitted_at", "bond_paid", "status", "price", "total_score", "rank"]
        search_columns = ["name", "tender", "status"]      # each related filter costs two statements
        fields = {"bond_paid": LATER}   # everything else is the sealed bid and the evaluation
        show_columns = ["name", "tender", "vendor", "submitted_at", "bond_paid", "bond_refunded_at", "receipt_hash",
                        "label", "status", "invalid_reason", "technical", "price", "technical_score", "price_score",
                        "total_score", "rank", "recommended"]
        label_columns = {"tender": _l("Tender"), "vendor": _l("Bidder"), "submitted_at": _l("Submitted at"),
                         "bond_paid": _l("Bond paid"), "bond_refunded_at": _l("Bond refunded"),
                         "receipt_hash": _l("SHA-256 of the bid"), "label": _l("Blind label"), "status": _l("Status"),
                         "invalid_reason": _l("Why invalid"), "technical": _l("Technical proposal"),
                         "price": _l("Bid price"), "technical_score": _l("Technical score"),
                         "price_score": _l("Price score"), "total_score": _l("Total score"), "rank": _l("Rank"),
                         "recommended": _l("Recommended winner")}

    def __str__(self):
        return self.name or ""

    def validate(self):
        if self.id is not None and self.tender is not None and self.tender.workflow_state not in ("published", "closed", "opened"):
            from erp_core.document import changes
            if "bond_paid" in changes(self):
                raise ValidationError(_("The bond status is fixed once the bids are evaluated."))


class Envelope(Model):
    """A sealed part of a bid: ``technical`` or ``price``. Its canonical JSON is hashed into
    the bid's receipt. No view or API reads this table; services open it."""
    __tablename__ = "procurement_envelope"
    __table_args__ = (UniqueConstraint("bid_id", "part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("procurement_bid.id"), index=True)
    bid = relationship("Bid")
    part: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BidFile(Model):
    """A document of the technical envelope (sealed with it; its SHA-256 is in the envelope)."""
    __tablename__ = "procurement_bid_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("procurement_bid.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Score(Model):
    __tablename__ = "procurement_score"
    __table_args__ = (UniqueConstraint("member_id", "bid_id", "criterion_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("procurement_member.id"), index=True)
    member = relationship("Member", back_populates="scores")
    bid_id: Mapped[int] = mapped_column(ForeignKey("procurement_bid.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("procurement_criterion.id"))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))


class Objection(Model):
    """An objection (质疑) raised during the publicity period, and its answer."""
    __tablename__ = "procurement_objection"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("procurement_tender.id"), index=True)
    tender = relationship("Tender", back_populates="objections")
    raised_by: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    answer: Mapped[str] = mapped_column(Text, default="")
    upheld: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
