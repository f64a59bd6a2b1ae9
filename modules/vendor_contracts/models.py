"""Vendor master data. (Contracts, templates and assessments are added below by the module.)"""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l, gettext as _
from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from erp_core.fieldpolicy import LATER, ONCE, edit
from erp_core.document import Document
from erp_core.errors import ValidationError

from .evidence import EvidenceKeys, evidence_keys
from .showmixins import TemplateShowMixin, VendorShowMixin
from .uscc import is_valid


class Vendor(Document):
    __tablename__ = "vendor_contracts_vendor"
    legal_name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(String(60), default="", index=True)
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    bank_account: Mapped[str] = mapped_column(String(40), default="")
    certificates = relationship("VendorCertificate", back_populates="vendor", cascade="all, delete-orphan")

    class Meta:
        fields = ["legal_name", "credit_code", "contact_name", "contact_phone", "address", "bank_name",
                  "bank_account"]
        title = _l("Vendor")
        title_plural = _l("Vendors")
        naming = "VND-.#####"
        icon = "fa-building"
        view_mixins = (VendorShowMixin,)
        list_columns = ["name", "legal_name", "credit_code", "contact_name", "contact_phone"]
        search_columns = ["name", "legal_name", "credit_code", "contact_name"]
        label_columns = {"legal_name": _l("Legal name"), "credit_code": _l("Unified social credit code"),
                         "contact_name": _l("Contact"), "contact_phone": _l("Contact phone"),
                         "address": _l("Address"), "bank_name": _l("Bank"), "bank_account": _l("Bank account"),
                         "certificates": _l("Certificates")}

    def __str__(self):
        return self.legal_name or self.name or ""

    def validate(self):
        self.credit_code = (self.credit_code or "").strip().upper()
        if not is_valid(self.credit_code):
            raise ValidationError(_("%(code)s is not a valid unified social credit code.", code=self.credit_code))


class VendorCertificate(Document):
    __tablename__ = "vendor_contracts_certificate"
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    vendor = relationship("Vendor", back_populates="certificates")
    kind: Mapped[str] = mapped_column(String(80))
    number: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str] = mapped_column(String(120), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    scan: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    scan_filename: Mapped[str | None] = mapped_column(String(200), nullable=True)

    class Meta:
        title = _l("Qualification certificate")
        title_plural = _l("Qualification certificates")
        naming = "CERT-.######"
        icon = "fa-certificate"
        list_columns = ["name", "vendor", "kind", "number", "valid_until", "mandatory"]
        fields = {"vendor": ONCE, "kind": edit(), "number": edit(), "issuer": edit(), "valid_from": edit(),
                  "valid_until": edit(), "mandatory": edit()}
        label_columns = {"vendor": _l("Vendor"), "kind": _l("Certificate type"), "number": _l("Certificate number"),
                         "issuer": _l("Issuer"), "valid_from": _l("Valid from"), "valid_until": _l("Valid until"),
                         "mandatory": _l("Mandatory"), "scan": _l("Scanned file")}

    def validate(self):
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError(_("The certificate expires before it is valid."))


# --- contracts, templates, assessments ---------------------------------------------------
import json  # noqa: E402
from decimal import Decimal  # noqa: E402

from sqlalchemy import Index, Numeric  # noqa: E402

from erp_core.money import half_up  # noqa: E402
from erp_core.types import Money, UTCDateTime, now  # noqa: E402
from flask_appbuilder import Model  # noqa: E402
from erp_core.workflow import State, Transition, Workflow  # noqa: E402

CATEGORIES = {"cleaning": _l("Cleaning"), "security": _l("Security"), "care": _l("Care workers"),
              "transport": _l("Porters / transport"), "catering": _l("Catering"), "laundry": _l("Laundry"),
              "lift": _l("Lift maintenance"), "hvac": _l("HVAC maintenance"), "gas": _l("Gas maintenance")}
COORD, INSPECTOR, MANAGER = "Vendor Coordinator", "Inspector", "Logistics Manager"


def pairs(text):
    """'病房:2, 门诊:1' -> {'病房': '2', '门诊': '1'} (the form's way to write a small table)."""
    out = {}
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        if part.strip():
            key, _sep, value = part.partition(":")
            out[key.strip()] = value.strip()
    return out


class AssessmentTemplate(Document):
    __tablename__ = "vendor_contracts_template"
    title: Mapped[str] = mapped_column(String(120))
    service_category: Mapped[str] = mapped_column(String(16))
    full_marks: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("100"))
    areas: Mapped[str] = mapped_column(String(300), default="")
    area_combine: Mapped[str] = mapped_column(String(10), default="mean")
    area_weights: Mapped[str] = mapped_column(String(300), default="")
    inspection_weight: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("1"))
    satisfaction_weight: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0"))
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    veto_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    items = relationship("TemplateItem", back_populates="template", order_by="TemplateItem.sort",
                         cascade="all, delete-orphan")
    bands = relationship("GradeBand", back_populates="template", order_by="GradeBand.sort",
                         cascade="all, delete-orphan")

    class Meta:
        choices = {"service_category": CATEGORIES, "area_combine": {"mean": _l("Mean of the areas"), "weighted": _l("Weighted by area"), "min": _l("The worst area")}}
        title, title_plural = _l("Assessment template"), _l("Assessment templates")
        naming = "TPL-.####"
        icon = "fa-list-alt"
        view_mixins = (TemplateShowMixin,)
        list_columns = ["name", "title", "service_category", "area_combine", "revision"]
        fields = ["title", "service_category", "full_marks", "areas", "area_combine", "area_weights",
                  "inspection_weight", "satisfaction_weight", "decimals", "veto_score"]   # revision: services
        label_columns = {"title": _l("Template"), "service_category": _l("Service category"),
                         "full_marks": _l("Full marks"), "areas": _l("Areas or sites"),
                         "area_combine": _l("Combine areas by"), "area_weights": _l("Area weights"),
                         "inspection_weight": _l("Inspection weight"), "satisfaction_weight": _l("Satisfaction weight"),
                         "decimals": _l("Decimal places"), "veto_score": _l("Score after a one-vote veto"),
                         "revision": _l("Revision")}
        description_columns = {"areas": _l("Comma separated, e.g. 门诊, 病房, 手术室; empty for one site"),
                               "area_combine": _l("mean, weighted or min (the worst area)"),
                               "area_weights": _l("For weighted: 病房:2, 门诊:1"),
                               "decimals": _l("The final score is rounded half-up to this many places, once, after blending")}

    def __str__(self):
        return f"{self.title} (r{self.revision})" if self.title else ""

    def validate(self):
        from erp_core.document import changes
        if self.id is not None and set(changes(self)) - {"revision", "modified_at", "modified_by", "version"}:
            bump_revision(self)                          # past assessments keep their own snapshot
        if self.service_category not in CATEGORIES:
            raise ValidationError(_("Unknown service category: %(c)s", c=self.service_category))
        if self.area_combine not in ("mean", "weighted", "min"):
            raise ValidationError(_("Areas are combined by mean, weighted or min."))
        if (self.inspection_weight or 0) < 0 or (self.satisfaction_weight or 0) < 0 or \
                (self.inspection_weight or 0) + (self.satisfaction_weight or 0) != 1:
            raise ValidationError(_("Inspection and satisfaction weights must add up to 1."))
        if self.full_marks is None or self.full_marks <= 0:
            raise ValidationError(_("Full marks must be more than 0."))
        if self.area_combine == "weighted":
            weights = pairs(self.area_weights)
            if set(weights) != set(self.area_list()):
                raise ValidationError(_("Give a weight for every area."))
            for area, value in weights.items():
                if not _positive(value):
                    raise ValidationError(_("The weight of %(area)s must be a positive number, not %(value)s.",
                                            area=area, value=value))
        if not 0 <= (self.decimals or 0) <= 4:
            raise ValidationError(_("Between 0 and 4 decimal places."))
        self.check_bands()

    def check_bands(self):
        """No overlap, no gap between the bands, lower < upper, percentages 0-100 (a band
        set may be built one band at a time; a contract needs 0..full marks covered)."""
        from .engine import check_coverage
        bands = [b.as_rule() for b in self.bands]
        problem = check_coverage(bands, self.full_marks or 100, claimed_only=True)
        if problem:
            raise ValidationError(problem)

    def normalised_weights(self):
        """Area weights as shares of 1 (shown on the template page and the form)."""
        weights = {a: Decimal(w) for a, w in pairs(self.area_weights).items() if _positive(w)}
        total = sum(weights.values())
        return {a: half_up(w / total, 4) for a, w in weights.items()} if total else {}

    def area_list(self):
        return [a.strip() for a in (self.areas or "").replace("，", ",").split(",") if a.strip()]

    def snapshot(self):
        """The template as the engine reads it, frozen into each assessment."""
        return {"title": self.title, "revision": self.revision, "full_marks": str(self.full_marks),
                "areas": self.area_list() or [""], "area_combine": self.area_combine,
                "area_weights": pairs(self.area_weights), "inspection_weight": str(self.inspection_weight),
                "satisfaction_weight": str(self.satisfaction_weight), "decimals": self.decimals,
                "veto_score": str(self.veto_score),
                "items": [i.as_rule() for i in self.items], "bands": [b.as_rule() for b in self.bands]}


def _positive(value):
    try:
        return Decimal(str(value)) > 0
    except Exception:
        return False


def bump_revision(template):
    """One revision per saved change, however many items and bands it touches."""
    from sqlalchemy.orm import object_session
    session = object_session(template)
    bumped = session.info.setdefault("vendor_contracts_bumped", set()) if session is not None else set()
    if template.id is None or id(template) in bumped:
        return
    bumped.add(id(template))
    template.revision = (template.revision or 1) + 1


@event.listens_for(Session, "after_commit")
def _revision_done(session):
    session.info.pop("vendor_contracts_bumped", None)


@event.listens_for(Session, "after_rollback")
def _revision_undone(session):
    session.info.pop("vendor_contracts_bumped", None)


class _TemplatePart(Document):
    """Items and bands share the template's permission; changing one bumps its revision."""
    __abstract__ = True

    def validate(self):
        if self.template is not None:
            bump_revision(self.template)


ITEM_EFFECTS = ("deduct", "zero", "veto", "bonus", "downgrade")


class TemplateItem(_TemplatePart):
    __tablename__ = "vendor_contracts_template_item"
    template_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_template.id"), index=True)
    template = relationship("AssessmentTemplate", back_populates="items")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    section: Mapped[str] = mapped_column(String(60), default="")
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    max_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    per_occurrence: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"))
    area_rates: Mapped[str] = mapped_column(String(300), default="")
    kinds: Mapped[str] = mapped_column(String(300), default="")
    effect: Mapped[str] = mapped_column(String(10), default="deduct")
    evidence: Mapped[str | None] = mapped_column(String(60), nullable=True)   # a key of houqin_assessment_evidence

    class Meta:
        fields = {"template": ONCE, "sort": edit(), "section": edit(), "code": edit(), "title": edit(),
                  "max_points": edit(), "per_occurrence": edit(), "area_rates": edit(), "effect": edit(),
                  "kinds": edit(), "evidence": edit()}
        choices = {"effect": {"deduct": _l("Deduct points"), "veto": _l("Veto (fails the month)"), "zero": _l("Zero the area")},
                   "evidence": EvidenceKeys()}
        title, title_plural = _l("Scoring item"), _l("Scoring items")
        naming = "TPI-.######"
        permission = "AssessmentTemplate"
        resource_name = "template_item"
        icon = "fa-check-square-o"
        list_columns = ["template", "sort", "section", "code", "title", "max_points", "per_occurrence", "effect"]
        label_columns = {"template": _l("Template"), "sort": _l("Order"), "section": _l("Section"), "code": _l("Code"),
                         "title": _l("Scoring item"), "max_points": _l("Maximum points"),
                         "per_occurrence": _l("Points per finding"), "area_rates": _l("Points per finding by area"),
                         "kinds": _l("Kinds of finding"), "effect": _l("Effect"), "evidence": _l("Evidence from")}
        description_columns = {"evidence": _l("What another module reports (e.g. the service desk's SLA breaches) "
                                              "pre-fills this item's findings when a month is opened"),
                               "area_rates": _l("Stricter or lighter in some areas: 手术室:2, 病房:0.5"),
                               "kinds": _l("Several deduction rates under the item's one cap: 乱扔垃圾:2, 未分类:5, 医废流失:全扣"),
                               "effect": _l("deduct; zero (the whole item, 全扣); veto (fails the sheet, 一票否决); "
                                            "bonus (奖励加分, up to the maximum); downgrade (一票降级: one grade lower)")}

    def validate(self):
        super().validate()
        self.evidence = (self.evidence or "").strip() or None
        from erp_core.document import changes
        if self.evidence and (self.id is None or "evidence" in changes(self)):
            offered = evidence_keys()
            if self.evidence not in offered:
                from erp_core.fieldpolicy import FieldRefused
                raise FieldRefused({"evidence": _("unknown evidence key")}, _(
                    "%(field)s: no enabled module offers %(key)s (offered: %(keys)s).", field=_("Evidence from"),
                    key=self.evidence, keys="、".join(str(v) for v in offered.values()) or "-"))
        if self.effect not in ITEM_EFFECTS:
            raise ValidationError(_("The effect is deduct, zero, veto, bonus or downgrade."))
        if not (self.code or "").strip() or not (self.title or "").strip():
            raise ValidationError(_("A scoring item needs a code and a title."))
        for kind, value in pairs(self.kinds).items():
            if value not in ("全扣", "zero") and not (_positive(value) or value == "0"):
                raise ValidationError(_("Kind %(kind)s: give points per finding or 全扣, not %(value)s.", kind=kind,
                                        value=value))
        if self.max_points is None or self.max_points < 0 or (self.per_occurrence or 0) < 0:
            raise ValidationError(_("Points cannot be negative."))
        for value in pairs(self.area_rates).values():
            try:
                if Decimal(value) < 0:
                    raise ValueError
            except Exception:
                raise ValidationError(_("Area rates are written like 手术室:2, 病房:0.5"))

    def as_rule(self):
        return {"code": self.code, "section": self.section, "title": self.title, "max_points": str(self.max_points),
                "per_occurrence": str(self.per_occurrence), "area_rates": pairs(self.area_rates), "kinds": pairs(self.kinds),
                "effect": self.effect, "evidence": self.evidence or ""}


class GradeBand(_TemplatePart):
    __tablename__ = "vendor_contracts_grade_band"
    template_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_template.id"), index=True)
    template = relationship("AssessmentTemplate", back_populates="bands")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    band_name: Mapped[str] = mapped_column(String(20))
    lower: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    lower_inclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    upper: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    upper_inclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    deduct_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    passing: Mapped[bool] = mapped_column(Boolean, default=True)
    action: Mapped[str] = mapped_column(String(120), default="")

    class Meta:
        fields = {"template": ONCE, "sort": edit(), "band_name": edit(), "lower": edit(), "lower_inclusive": edit(),
                  "upper": edit(), "upper_inclusive": edit(), "deduct_percent": edit(), "passing": edit(),
                  "action": edit()}
        title, title_plural = _l("Grade band"), _l("Grade bands")
        naming = "GRB-.######"
        permission = "AssessmentTemplate"
        resource_name = "grade_band"
        icon = "fa-signal"
        list_columns = ["template", "band_name", "interval", "deduct_percent", "passing", "action"]
        label_columns = {"template": _l("Template"), "sort": _l("Order"), "band_name": _l("Grade"),
                         "lower": _l("From"), "lower_inclusive": _l("From included"), "upper": _l("To"),
                         "upper_inclusive": _l("To included"), "deduct_percent": _l("Fee deduction %"),
                         "passing": _l("Passing"), "action": _l("Action"), "interval": _l("Interval")}
        description_columns = {"lower_inclusive": _l("In Chinese contracts '90分以上' includes 90"),
                               "action": _l("e.g. rectification notice")}

    @property
    def interval(self):
        from .engine import band_text
        return band_text(self.as_rule())

    def validate(self):
        super().validate()
        if not (self.band_name or "").strip():
            raise ValidationError(_("A grade band needs a name."))
        if self.template is not None:
            self.template.check_bands()

    def as_rule(self):
        return {"name": self.band_name, "lower": None if self.lower is None else str(self.lower),
                "lower_inclusive": bool(self.lower_inclusive), "upper": None if self.upper is None else str(self.upper),
                "upper_inclusive": bool(self.upper_inclusive), "deduct_percent": str(self.deduct_percent or 0),
                "passing": bool(self.passing), "action": self.action or ""}


def _renew(contract, *, by, reason=None):
    from .services import renew
    renew(contract, by=by)


def _certificates_valid(contract):
    today = now().date()
    expired = [c for c in contract.vendor.certificates if c.mandatory and c.valid_until < today]
    if expired:
        return _("%(vendor)s has an expired mandatory certificate: %(cert)s", vendor=contract.vendor.legal_name,
                 cert=expired[0].kind)
    return None


class Contract(Document):
    __tablename__ = "vendor_contracts_contract"
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_vendor.id"), index=True)
    vendor = relationship("Vendor")
    title: Mapped[str] = mapped_column(String(200), index=True)
    service_category: Mapped[str] = mapped_column(String(16), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    monthly_fee: Mapped[Decimal] = mapped_column(Money())
    payment_terms: Mapped[str] = mapped_column(Text, default="")
    performance_bond: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    penalty_clauses: Mapped[str] = mapped_column(Text, default="")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_contracts_template.id"), nullable=True)
    template = relationship("AssessmentTemplate")
    retention_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    retention_release: Mapped[str] = mapped_column(String(200), default="")
    retention_rule: Mapped[str] = mapped_column(String(16), default="full")
    retention_mark: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    source_reference: Mapped[str] = mapped_column(String(64), default="")
    rules = relationship("PaymentRule", back_populates="contract", cascade="all, delete-orphan",
                         order_by="PaymentRule.id")
    escalation_rules = relationship("EscalationRule", back_populates="contract", cascade="all, delete-orphan")

    class Meta:
        choices = {"service_category": CATEGORIES}
        title, title_plural = _l("Service contract"), _l("Service contracts")
        naming = "HT-.YYYY.-.####"
        icon = "fa-file-text"
        list_columns = ["name", "vendor", "title", "service_category", "start_date", "end_date", "monthly_fee",
                        "state_label"]
        search_columns = ["name", "vendor", "title", "service_category"]
        # drafted, then fixed when signed (active = submitted); procurement sets source_reference
        fields = {f: edit() for f in ("vendor", "title", "service_category", "scope", "start_date", "end_date",
                                      "monthly_fee", "performance_bond", "penalty_clauses", "template",
                                      "retention_percent", "retention_rule", "retention_mark", "retention_release")}
        fields["payment_terms"] = edit(on_submit=True)
        label_columns = {"vendor": _l("Vendor"), "title": _l("Contract title"), "service_category": _l("Service category"),
                         "scope": _l("Scope"), "start_date": _l("Start"), "end_date": _l("End"),
                         "monthly_fee": _l("Monthly fee"), "payment_terms": _l("Payment terms"),
                         "performance_bond": _l("Performance bond"), "penalty_clauses": _l("Penalty clauses"),
                         "template": _l("Assessment template"), "retention_percent": _l("Retention %"),
                         "retention_release": _l("Retention kept at year end, % by grade"),
                         "retention_rule": _l("Retention release rule"), "retention_mark": _l("Release mark"),
                         "source_reference": _l("Source")}
        description_columns = {"retention_release": _l("不合格:100, 合格:50 — share of the retention kept by the year's grade"),
                               "retention_rule": _l("full, grade, average (released when the year's average reaches "
                                                    "the mark) or failed_months (released when at most the mark's "
                                                    "number of months failed)")}
        workflow = Workflow(
            states=[State("draft", _l("Draft")), State("active", _l("Active"), docstatus=1),
                    State("expired", _l("Expired"), docstatus=1), State("terminated", _l("Terminated"), docstatus=1),
                    State("renewed", _l("Renewed"), docstatus=1)],
            transitions=[
                Transition("renew", _l("Renew"), ("active", "expired"), "renewed", roles=[COORD, MANAGER], run=_renew),
                Transition("activate", _l("Activate"), "draft", "active", roles=[COORD, MANAGER],
                           condition=_certificates_valid),
                Transition("expire", _l("Mark expired"), "active", "expired", roles=[COORD, MANAGER]),
                Transition("terminate", _l("Terminate"), "active", "terminated", roles=[MANAGER], needs_reason=True,
                           style="danger"),
            ])
        allow_on_submit = ("payment_terms",)

    def __str__(self):
        return f"{self.name} {self.title}" if self.name else ""

    def validate(self):
        if self.service_category not in CATEGORIES:
            raise ValidationError(_("Unknown service category: %(c)s", c=self.service_category))
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError(_("The contract must end after it starts."))
        for field in ("monthly_fee", "performance_bond", "retention_percent"):
            if getattr(self, field) is not None and getattr(self, field) < 0:
                raise ValidationError(_("%(field)s cannot be negative.", field=self._meta.label_columns[field]))
        if self.retention_percent and self.retention_percent > 100:
            raise ValidationError(_("The retention is a percentage up to 100."))
        self.check_retention()
        if self.template is not None and self.workflow_state == "active":
            from .engine import check_coverage
            problem = check_coverage([b.as_rule() for b in self.template.bands], self.template.full_marks)
            if problem:
                raise ValidationError(problem)
        if self.id is None and self.vendor is not None:
            problem = _certificates_valid(self)
            if problem:
                raise ValidationError(problem)

    def check_retention(self):
        from .engine import RETENTION_RULES
        rule = self.retention_rule or "full"
        if rule not in RETENTION_RULES:
            raise ValidationError(_("The retention release rule is full, grade, average or failed_months."))
        mark = self.retention_mark
        if rule == "average" and (mark is None or not 0 < mark <= 100):
            raise ValidationError(_("Give the year's average (0-100) that releases the retention."))
        if rule == "failed_months" and (mark is None or mark < 0 or mark != mark.to_integral_value()):
            raise ValidationError(_("Give how many failed months still release the retention (a whole number)."))
        if rule == "grade":
            shares = pairs(self.retention_release)
            if not shares:
                raise ValidationError(_("Say which share of the retention each grade keeps, e.g. 不合格:100, 合格:50."))
            for grade, value in shares.items():
                try:
                    ok = 0 <= Decimal(value) <= 100
                except Exception:
                    ok = False
                if not ok:
                    raise ValidationError(_("Grade %(grade)s: the share kept is a percentage 0-100, not %(value)s.",
                                            grade=grade, value=value))

    def rules_snapshot(self):
        return {"monthly_fee": str(self.monthly_fee), "retention_percent": str(self.retention_percent or 0),
                "retention_release": pairs(self.retention_release), "retention_rule": self.retention_rule or "full",
                "retention_mark": None if self.retention_mark is None else str(self.retention_mark),
                "start_date": self.start_date.isoformat(), "end_date": self.end_date.isoformat(),
                "rules": [r.as_rule() for r in self.rules],
                "escalations": [e.as_rule() for e in sorted(self.escalation_rules, key=lambda e: (e.sort or 0, e.id or 0))]}


def check_formula(expression, full_marks=100):
    """A paid-% formula is tried over the whole score range when it is saved: every score
    0..full marks by 0.01, and around every number the formula names (where a divisor may
    vanish). A syntax error, a division by zero or a result outside 0-100 % is refused,
    naming the score that breaks it. An error message or None."""
    from erp_core.formula import Formula, FormulaError
    formula = Formula(expression, ("score",))      # refuses with the position of the error
    full = Decimal(str(full_marks))
    probes = {Decimal(n) / 100 for n in range(0, int(full * 100) + 1)}
    for token in formula.tokens:
        if token[0] == "num":
            x = Decimal(token[1])
            probes |= {x, x - Decimal("0.0001"), x + Decimal("0.0001"), x - Decimal("0.005"), x + Decimal("0.005")}
    for score in sorted(p for p in probes if 0 <= p <= full):
        try:
            value = formula.evaluate(score=score)
        except FormulaError as exc:
            return _("At score %(score)s: %(problem)s", score=score.normalize(), problem=str(exc))
        if not 0 <= value <= 100:
            return _("At score %(score)s the formula pays %(value)s %%: the paid share must be between 0 and 100 %%.",
                     score=format(score.normalize(), "f"), value=format(half_up(value, 2).normalize(), "f"))
    return None


RULE_KINDS = {"band_percent": _l("Percentage of the fee per grade"), "per_point": _l("Money per point below a threshold"),
              "formula": _l("Formula of the score"), "fine": _l("Fine per incident"),
              "reward": _l("Reward for a grade (paid on top)")}


class PaymentRule(Document):
    __tablename__ = "vendor_contracts_payment_rule"
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract", back_populates="rules")
    kind: Mapped[str] = mapped_column(String(16))
    percents: Mapped[str] = mapped_column(String(200), default="")
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    floor: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    amount_per_point: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    below_floor_action: Mapped[str] = mapped_column(String(120), default="")
    expression: Mapped[str] = mapped_column(String(300), default="")
    wording: Mapped[str] = mapped_column(String(300), default="")
    grade: Mapped[str] = mapped_column(String(20), default="")
    incident: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)

    class Meta:
        fields = {"contract": ONCE, "kind": edit(), "percents": edit(), "threshold": edit(), "floor": edit(),
                  "amount_per_point": edit(), "below_floor_action": edit(), "expression": edit(), "incident": edit(),
                  "amount": edit(), "wording": edit(), "grade": edit()}
        choices = {"kind": RULE_KINDS}
        title, title_plural = _l("Payment rule"), _l("Payment rules")
        naming = "PR-.######"
        permission = "Contract"
        resource_name = "payment_rule"
        icon = "fa-money"
        list_columns = ["contract", "kind", "threshold", "floor", "amount_per_point", "expression", "incident", "amount"]
        label_columns = {"contract": _l("Contract"), "kind": _l("Rule"), "percents": _l("Deduction % by grade"),
                         "threshold": _l("Threshold score"), "floor": _l("Floor score"),
                         "amount_per_point": _l("Money per point"), "below_floor_action": _l("Action below the floor"),
                         "expression": _l("Paid % formula"), "incident": _l("Incident type"), "amount": _l("Fine"),
                         "wording": _l("Wording on the form"), "grade": _l("Grade")}
        description_columns = {"kind": _l("band_percent, per_point, formula or fine"),
                               "percents": _l("Empty: the grade band's own deduction %"),
                               "expression": _l("e.g. 15 + score (paid %, 0-100); functions min, max, if, round, abs"),
                               "wording": _l("The formula in words, as printed on the form (optional)"),
                               "grade": _l("For a reward: the grade that earns it, e.g. 优秀")}

    def validate(self):
        if self.kind not in RULE_KINDS:
            raise ValidationError(_("Unknown payment rule: %(kind)s", kind=self.kind))
        if self.kind == "band_percent":
            for grade, value in pairs(self.percents).items():
                try:
                    ok = 0 <= Decimal(value) <= 100
                except Exception:
                    ok = False
                if not ok:
                    raise ValidationError(_("Grade %(grade)s: the deduction is a percentage 0-100, not %(value)s.",
                                            grade=grade, value=value))
        if self.kind == "reward" and (not (self.grade or "").strip() or self.amount is None or self.amount < 0):
            raise ValidationError(_("A reward needs the grade that earns it and a non-negative amount."))
        if self.kind == "per_point":
            if None in (self.threshold, self.floor, self.amount_per_point) or self.floor > self.threshold \
                    or self.amount_per_point < 0:
                raise ValidationError(_("A per-point rule needs a threshold, a floor not above it and a non-negative amount."))
        if self.kind == "formula":
            full = self.contract.template.full_marks if self.contract is not None and self.contract.template else 100
            problem = check_formula(self.expression, full)
            if problem:
                raise ValidationError(problem)
        if self.kind == "fine" and (not self.incident.strip() or self.amount is None or self.amount < 0):
            raise ValidationError(_("A fine needs an incident type and a non-negative amount."))

    def as_rule(self):
        rule = {"kind": self.kind}
        if self.kind == "band_percent":
            rule["percents"] = pairs(self.percents)
        elif self.kind == "per_point":
            rule.update(threshold=str(self.threshold), floor=str(self.floor), amount_per_point=str(self.amount_per_point),
                        below_floor_action=self.below_floor_action)
        elif self.kind == "formula":
            rule.update(expression=self.expression, wording=self.wording or "")
        elif self.kind == "reward":
            rule.update(grade=self.grade, amount=str(self.amount))
        else:
            rule.update(incident=self.incident, amount=str(self.amount))
        return rule


class EscalationRule(Document):
    __tablename__ = "vendor_contracts_escalation_rule"
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract", back_populates="escalation_rules")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    lower: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    fail_below: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    skip_unassessed: Mapped[bool] = mapped_column(Boolean, default=False)
    stacks: Mapped[bool] = mapped_column(Boolean, default=False)
    consecutive: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cumulative: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    extra_deduction: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    clause: Mapped[str] = mapped_column(Text)

    class Meta:
        fields = {"contract": ONCE, "fail_below": edit(), "consecutive": edit(), "cumulative": edit(),
                  "action": edit(), "extra_deduction": edit(), "clause": edit(), "sort": edit(), "lower": edit(),
                  "skip_unassessed": edit(), "stacks": edit()}
        choices = {"action": {"warning": _l("Warning"), "extra_deduction": _l("Extra deduction"), "termination_right": _l("Right to terminate")}}
        title, title_plural = _l("Escalation rule"), _l("Escalation rules")
        naming = "ESR-.######"
        permission = "Contract"
        resource_name = "escalation_rule"
        icon = "fa-exclamation"
        list_columns = ["contract", "sort", "lower", "fail_below", "consecutive", "cumulative", "action", "extra_deduction"]
        label_columns = {"contract": _l("Contract"), "fail_below": _l("Failing below"), "sort": _l("Order"),
                         "lower": _l("Score from"), "skip_unassessed": _l("An unassessed month does not break a run"),
                         "stacks": _l("Applies on top of other clauses for the same month"),
                         "consecutive": _l("Consecutive months"), "cumulative": _l("Cumulative months in a year"),
                         "action": _l("Action"), "extra_deduction": _l("Extra deduction"), "clause": _l("Contract clause")}
        description_columns = {"action": _l("warning, extra_deduction or termination_right"),
                               "lower": _l("The clause's score band is [from, failing below): e.g. 80 to 90")}

    def validate(self):
        if self.action not in ("warning", "extra_deduction", "termination_right"):
            raise ValidationError(_("The action is warning, extra_deduction or termination_right."))
        if not (self.consecutive or self.cumulative) or not (self.clause or "").strip():
            raise ValidationError(_("Say after how many consecutive or cumulative months, and quote the clause."))
        if any(n is not None and n < 1 for n in (self.consecutive, self.cumulative)):
            raise ValidationError(_("Months are counted from 1."))
        if self.fail_below is None or (self.lower is not None and self.lower >= self.fail_below):
            raise ValidationError(_("The clause's band needs a lower bound below its upper bound."))
        if (self.extra_deduction or 0) < 0:
            raise ValidationError(_("%(field)s cannot be negative.", field=_("Extra deduction")))
        if self.contract is not None and (self.extra_deduction or 0) > 0 and not self.stacks:
            from .engine import _overlap, escalation_band
            for other in self.contract.escalation_rules:
                if other is not self and (other.extra_deduction or 0) > 0 and not other.stacks and \
                        _overlap(escalation_band(self.as_rule()), escalation_band(other.as_rule())):
                    raise ValidationError(_("Two deduction clauses count the same months (%(a)s; %(b)s): narrow their "
                                            "score bands, or mark the one the contract applies on top.",
                                            a=self.clause, b=other.clause))

    def as_rule(self):
        return {"lower": None if self.lower is None else str(self.lower), "upper": str(self.fail_below),
                "consecutive": self.consecutive, "cumulative": self.cumulative, "action": self.action,
                "extra_deduction": str(self.extra_deduction or 0), "clause": self.clause,
                "skip_unassessed": bool(self.skip_unassessed), "stacks": bool(self.stacks)}


def _approve(doc, *, by, reason=None):
    from .services import approve_effect
    approve_effect(doc, by=by, reason=reason)


def _confirm(doc, *, by, reason=None):
    doc.vendor_confirmed_at = now()


def _has_findings_or_score(doc):
    return None if doc.final_score is not None else _("Record the findings first: the score is not computed yet.")


def _vendor_confirmed(doc):
    return None if (doc.vendor_rep_name or "").strip() else _("Enter the vendor representative's name first.")


class Assessment(Document):
    """One contract's month: findings in, score, grade and payment out."""
    __tablename__ = "vendor_contracts_assessment"
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract")
    year: Mapped[int] = mapped_column(Integer, index=True)
    month: Mapped[int] = mapped_column(Integer, index=True)
    template_snapshot: Mapped[str] = mapped_column(Text, default="{}")
    contract_snapshot: Mapped[str] = mapped_column(Text, default="{}")
    satisfaction_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    comments: Mapped[str] = mapped_column(Text, default="")
    inspector_name: Mapped[str] = mapped_column(String(60), default="")
    vendor_rep_name: Mapped[str] = mapped_column(String(60), default="")
    vendor_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    inspection_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    final_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    grade: Mapped[str] = mapped_column(String(20), default="", index=True)
    passing: Mapped[bool] = mapped_column(Boolean, default=True)
    deductions: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    penalties: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    extra_deductions: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    reward: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    payable: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    retention: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    paid_now: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    explanation: Mapped[str] = mapped_column(Text, default="[]")
    signed_snapshot: Mapped[str] = mapped_column(Text, default="")
    findings = relationship("Finding", back_populates="assessment", cascade="all, delete-orphan", order_by="Finding.id")
    incidents = relationship("Incident", back_populates="assessment", cascade="all, delete-orphan",
                             order_by="Incident.id")

    class Meta:
        title, title_plural = _l("Monthly assessment"), _l("Monthly assessments")
        naming = "KH-.YYYY.-.#####"
        icon = "fa-star-half-o"
        generic_create = False
        children = ("findings", "incidents")
        list_columns = ["name", "contract", "year", "month", "final_score", "grade", "payable", "state_label"]
        search_columns = ["name", "contract", "year", "month", "grade"]
        show_columns = ["name", "contract", "year", "month", "inspector_name", "satisfaction_score", "inspection_score",
                        "final_score", "grade", "deductions", "penalties", "payable", "retention", "paid_now",
                        "comments", "vendor_rep_name", "vendor_confirmed_at", "state_label"]
        # scores, grade, payable and payments are the engine's and the settlement's
        fields = {"satisfaction_score": edit(create=False, states=("draft",)),
                  "comments": edit(create=False, states=("draft",)),
                  "inspector_name": edit(create=False, states=("draft",)),
                  "vendor_rep_name": edit(create=False, states=("submitted", "confirmed"))}
        api_columns = ["year", "month", "satisfaction_score", "comments", "inspector_name", "vendor_rep_name",
                       "vendor_confirmed_at", "inspection_score", "final_score", "grade", "passing", "deductions",
                       "penalties", "payable", "retention", "paid_now"]
        allow_on_submit = ("vendor_rep_name", "vendor_confirmed_at", "paid_now", "explanation", "signed_snapshot")
        order = ("id", "desc")
        label_columns = {"contract": _l("Contract"), "year": _l("Year"), "month": _l("Month"),
                         "satisfaction_score": _l("Satisfaction score"), "comments": _l("Comments"),
                         "inspector_name": _l("Inspector"), "vendor_rep_name": _l("Vendor representative"),
                         "vendor_confirmed_at": _l("Confirmed by vendor at"), "inspection_score": _l("Inspection score"),
                         "final_score": _l("Final score"), "grade": _l("Grade"), "deductions": _l("Deductions"),
                         "penalties": _l("Fines"), "payable": _l("Payable"), "retention": _l("Retention"),
                         "paid_now": _l("Paid now")}
        workflow = Workflow(
            states=[State("draft", _l("Draft")), State("submitted", _l("Submitted by inspector")),
                    State("confirmed", _l("Confirmed by vendor")), State("approved", _l("Approved"), docstatus=1),
                    State("cancelled", _l("Cancelled"), docstatus=2)],
            transitions=[
                Transition("submit_scores", _l("Submit scores"), "draft", "submitted", roles=[INSPECTOR, COORD],
                           condition=_has_findings_or_score),
                Transition("vendor_confirm", _l("Vendor confirms"), "submitted", "confirmed", roles=[COORD],
                           condition=_vendor_confirmed, run=_confirm),
                Transition("approve", _l("Approve"), "confirmed", "approved", roles=[MANAGER], run=_approve),
                Transition("send_back", _l("Send back"), ("submitted", "confirmed"), "draft", roles=[COORD, MANAGER],
                           needs_reason=True, style="warning"),
                Transition("cancel_month", _l("Cancel for correction"), "approved", "cancelled", roles=[MANAGER],
                           needs_reason=True, style="danger"),
                # a month whose rules turn out broken is never stuck: cancelled, then reopened (amended)
                Transition("cancel_open", _l("Cancel this month"), ("draft", "submitted", "confirmed"), "cancelled",
                           roles=[MANAGER], needs_reason=True, style="danger"),
            ])

    def __str__(self):
        return f"{self.name} {self.year}-{self.month:02d}" if self.name else ""

    @property
    def period(self):
        return f"{self.year}年{self.month}月"

    def template_rules(self):
        return json.loads(self.template_snapshot or "{}")

    def contract_rules(self):
        return json.loads(self.contract_snapshot or "{}")

    def steps(self):
        return [s[:3] for s in json.loads(self.explanation or "[]")]

    def calculation(self):
        """The steps after the item table: areas, blend, rounding, grade, money."""
        return [(s + [""])[:4] for s in json.loads(self.explanation or "[]") if s[3:] != ["item"]]

    def validate(self):
        if not (1 <= (self.month or 0) <= 12) or not (2000 <= (self.year or 0) <= 2100):
            raise ValidationError(_("Give a real year and month."))
        if self.satisfaction_score is not None and not 0 <= self.satisfaction_score <= 100:
            raise ValidationError(_("The satisfaction score is between 0 and 100."))
        if self.workflow_state == "draft" and self.id is not None:
            from erp_core.document import changes
            if "satisfaction_score" in changes(self):
                from .services import recompute
                recompute(self)                   # the draft always shows what its inputs give


# One live assessment per contract and month; a month cancelled for correction makes way for its amendment.
Index("vendor_contracts_assessment_month", Assessment.contract_id, Assessment.year, Assessment.month, unique=True,
      sqlite_where=Assessment.workflow_state != "cancelled", postgresql_where=Assessment.workflow_state != "cancelled")


class Finding(Model):
    """One inspection record: an item found wanting, how often, where, with a photo."""
    __tablename__ = "vendor_contracts_finding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_assessment.id"), index=True)
    assessment = relationship("Assessment", back_populates="findings")
    item_code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40), default="")
    area: Mapped[str] = mapped_column(String(40), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    location: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    photo_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    by: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # pre-filled from another module's evidence (None: recorded by the inspector)
    evidence: Mapped[str | None] = mapped_column(String(60), nullable=True)
    refs: Mapped[str | None] = mapped_column(Text, nullable=True)
    prefilled_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    adjust_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)   # set: the assessor's count stands

    class Meta:   # how the month's page lists its findings (erp_core.display)
        title_plural = _l("Findings")
        label_columns = {"id": _l("No."), "item_code": _l("Item"), "area": _l("Area"), "count": _l("Count"),
                         "location": _l("Location"), "note": _l("Note"), "by": _l("Recorded by"),
                         "at": _l("Recorded at"), "source": _l("Source"), "refs": _l("Records")}
        list_columns = ["id", "item_code", "area", "count", "source", "refs", "location", "note", "by", "at"]
        people = ("by",)

    @property
    def source(self):
        """Where the count came from and how the assessor changed it, in words."""
        if not self.evidence:
            return ""
        text = _("%(source)s (pre-filled)", source=evidence_keys().get(self.evidence, self.evidence))
        if self.adjust_reason:
            text += "；" + _("adjusted %(old)s → %(new)s: %(reason)s", old=self.prefilled_count, new=self.count,
                            reason=self.adjust_reason)
        return text

class Incident(Model):
    """An incident priced by the contract's fines (e.g. 睡岗, 脱岗), alongside the points."""
    __tablename__ = "vendor_contracts_incident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_assessment.id"), index=True)
    assessment = relationship("Assessment", back_populates="incidents")
    incident: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(300), default="")

    class Meta:
        label_columns = {"incident": _l("Incident"), "count": _l("Count"), "note": _l("Note")}
        title_plural = _l("Incidents")
        list_columns = ["incident", "count", "note"]

class Rectification(Document):
    """整改通知书: raised from a finding, re-checked on next month's assessment."""
    __tablename__ = "vendor_contracts_rectification"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_assessment.id"), index=True)
    assessment = relationship("Assessment")
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract")
    problem: Mapped[str] = mapped_column(Text)
    requirement: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date, index=True)
    responsible_contact: Mapped[str] = mapped_column(String(60), default="")
    result: Mapped[str] = mapped_column(Text, default="")

    class Meta:
        title, title_plural = _l("Rectification notice"), _l("Rectification notices")
        naming = "ZG-.YYYY.-.####"
        icon = "fa-wrench"
        list_columns = ["name", "contract", "problem", "deadline", "responsible_contact", "state_label"]
        fields = {"assessment": ONCE, "problem": edit(states=("open",)), "requirement": edit(states=("open",)),
                  "deadline": edit(states=("open",)), "responsible_contact": edit(states=("open",)),
                  "result": edit(create=False, on_submit=True)}
        allow_on_submit = ("result",)
        label_columns = {"assessment": _l("Assessment"), "contract": _l("Contract"), "problem": _l("Problem found"),
                         "requirement": _l("Required rectification"), "deadline": _l("Deadline"),
                         "responsible_contact": _l("Responsible vendor contact"), "result": _l("Re-check result")}
        workflow = Workflow(
            states=[State("open", _l("Open")), State("rectified", _l("Rectified, to re-check")),
                    State("verified", _l("Verified"), docstatus=1), State("failed", _l("Not rectified"), docstatus=1)],
            transitions=[
                Transition("report_done", _l("Vendor reports done"), "open", "rectified", roles=[COORD]),
                Transition("verify", _l("Verified on re-check"), "rectified", "verified", roles=[INSPECTOR, COORD]),
                Transition("reopen", _l("Not rectified"), "rectified", "open", roles=[INSPECTOR, COORD], needs_reason=True),
                Transition("fail", _l("Close as not rectified"), ("open", "rectified"), "failed", roles=[MANAGER],
                           needs_reason=True, style="danger"),
            ])

    @property
    def overdue(self):
        return self.workflow_state in ("open", "rectified") and self.deadline < now().date()

    def validate(self):
        if self.assessment is not None:
            self.contract = self.assessment.contract
        if not (self.problem or "").strip() or self.deadline is None:
            raise ValidationError(_("A rectification notice needs the problem and a deadline."))


class Escalation(Document):
    """Raised when failing months reach a contract's escalation rule; the manager acknowledges it."""
    __tablename__ = "vendor_contracts_escalation"
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_contract.id"), index=True)
    contract = relationship("Contract")
    assessment_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts_assessment.id"), index=True)
    assessment = relationship("Assessment")
    action: Mapped[str] = mapped_column(String(20))
    clause: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    extra_deduction: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))

    class Meta:
        choices = {"action": {"warning": _l("Warning"), "extra_deduction": _l("Extra deduction"), "termination_right": _l("Right to terminate")}}
        title, title_plural = _l("Escalation"), _l("Escalations")
        naming = "SJ-.YYYY.-.####"
        icon = "fa-bell"
        generic_create = False
        list_columns = ["name", "contract", "action", "detail", "extra_deduction", "state_label"]
        fields = {}                    # raised by the assessment engine, acknowledged through its workflow
        label_columns = {"contract": _l("Contract"), "assessment": _l("Assessment"), "action": _l("Action"),
                         "clause": _l("Contract clause"), "detail": _l("Why"), "extra_deduction": _l("Extra deduction")}
        workflow = Workflow(states=[State("open", _l("To acknowledge")), State("acknowledged", _l("Acknowledged"),
                                                                                 docstatus=1)],
                            transitions=[Transition("acknowledge", _l("Acknowledge"), "open", "acknowledged",
                                                    roles=[MANAGER])])
