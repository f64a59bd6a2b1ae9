from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.document import Document
from erp_core.errors import ValidationError
from erp_core.fieldpolicy import edit
from erp_core.types import Money
from erp_core.workflow import State, Transition, Workflow
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l


def _needs_amount(doc):
    return None if doc.amount and doc.amount > 0 else "金额必须大于零"


class SampleRequest(Document):
    __tablename__ = "sample_request"
    title: Mapped[str] = mapped_column(String(100))
    ward: Mapped[str] = mapped_column(String(20), default="A")
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    lines = relationship("SampleLine", back_populates="request", cascade="all, delete-orphan")

    class Meta:
        fields = ["title", "ward", "amount"]
        title = _l("Sample request")
        label_columns = {"title": _l("Title"), "ward": _l("Ward"), "amount": _l("Amount")}
        naming = "SRQ-.YYYY.-.####"
        children = ("lines",)
        workflow = Workflow(
            states=[State("draft", "Draft"), State("approved", "Approved", docstatus=1),
                    State("closed", "Closed", docstatus=1), State("rejected", "Rejected", docstatus=2)],
            transitions=[
                Transition("approve", "Approve", "draft", "approved", roles=["Sample Manager"], condition=_needs_amount),
                Transition("close", "Close", "approved", "closed", roles=["Sample Manager"]),
                Transition("reject", "Reject", ("draft", "approved"), "rejected", roles=["Sample Manager"],
                           needs_reason=True),
            ])
        record_rules = {"Sample Own": lambda user: SampleRequest.created_by == user.username}
        hidden_fields = staticmethod(lambda doc, user: {"amount"} if doc.ward == "SEALED" else set())

    def validate(self):
        if self.title and "<forbidden>" in self.title:
            raise ValidationError("标题不允许包含 <forbidden>")


class SampleLine(Model):
    __tablename__ = "sample_line"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sample_request.id"))
    item: Mapped[str] = mapped_column(String(50))
    request = relationship("SampleRequest", back_populates="lines")


class SampleInvoice(Document):
    __tablename__ = "sample_invoice"
    payee: Mapped[str] = mapped_column(String(100))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    class Meta:
        fields = {"payee": edit(), "total": edit(), "note": edit(on_submit=True)}
        title = _l("Sample invoice")
        label_columns = {"payee": _l("Payee"), "total": _l("Total"), "note": _l("Note")}
        naming = "SIV-.#####"
        submittable = True
        allow_on_submit = ("note",)
