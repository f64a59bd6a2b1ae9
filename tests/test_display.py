"""Typed display (issue 17.1): every registered document's declared choices resolve to
translated labels, and each kind reads as people read it, in pages, history and PDFs."""
from datetime import date, datetime, timezone
from decimal import Decimal

from flask import render_template_string
from flask_babel import force_locale

from erp_core import display


def test_every_declared_choice_has_a_label_in_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        seen = 0
        for cls in app.extensions["houqin"].documents:
            declared = display.meta_get(cls, "choices", {}) or {}
            for field, labels in declared.items():
                assert field in cls.__table__.c, (cls.__name__, field)
                assert display.kind_of(cls, field) == "choice"
                for code, label in labels.items():
                    text = display.format_value(cls, field, code)
                    assert text and text != code and text.isascii() is False, (cls.__name__, field, code, text)
                    seen += 1
        assert seen > 30


def test_each_kind_reads_as_people_read_it(app):
    from modules.procurement.models import Tender
    with app.test_request_context(), force_locale("zh_CN"):
        assert display.format_value(Tender, "estimated_amount", Decimal("420000")) == "¥420,000.00"
        assert display.format_value(Tender, "drop_extremes", True) == "是"
        assert display.format_value(Tender, "drop_extremes", False) == "否"
        assert display.format_value(Tender, "justification", None) == ""
        assert display.format_value(Tender, "method", "open") == "公开招标"
        utc = datetime(2026, 11, 26, 7, 9, 45, 730945, tzinfo=timezone.utc)
        assert display.format_value(Tender, "bid_deadline", utc) == "2026-11-26 15:09"     # Asia/Shanghai, minutes
        assert display.format_value(Tender, "service_start", date(2027, 1, 1)) == "2027-01-01"
        assert display.kind_of(Tender, "created_by") == "person"
        assert display.kind_of(Tender, "budget_line") == "relation"
        assert display.plain([1, Decimal("2.50")]) == "1、2.50"


def test_pdf_templates_have_the_display_filters(app):
    from modules.procurement.models import Tender
    with app.test_request_context(), force_locale("zh_CN"):
        t = Tender(title="x", method="negotiation", estimated_amount=Decimal("1234.5"), drop_extremes=True)
        out = render_template_string("{{ t|field('method') }}|{{ t|field('estimated_amount') }}|"
                                     "{{ t.drop_extremes|display }}|{{ 5|yuan }}", t=t)
        assert out == "竞争性谈判|¥1,234.50|是|¥5.00"


def test_history_reads_as_sentences(app):
    from modules.procurement.models import Tender

    class Row:
        def __init__(self, action, data, user="nobody"):
            self.action, self.user, self._data = action, user, data
            self.ts = datetime(2026, 11, 26, 7, 9, 45, tzinfo=timezone.utc)

        def payload(self):
            return self._data
    rows = [Row("create", {"title": "x"}),
            Row("transition", {"action": "close_bidding", "from": "published", "to": "closed",
                               "changes": {"workflow_state": ["published", "closed"], "docstatus": [1, 1]}}),
            Row("update", {"changes": {"estimated_amount": ["1.00", "420000.00"], "method": ["open", "invited"]}})]
    with app.test_request_context(), force_locale("zh_CN"):
        lines = display.history_sentences(Tender, rows)
    text = " ".join(" ".join(parts) for _when, parts in lines)
    assert lines[0][0] == "2026-11-26 15:09"
    assert "nobody 把 状态 从 已发布 改为 投标已截止" in text
    assert "从 ¥1.00 改为 ¥420,000.00" in text and "从 公开招标 改为 邀请招标" in text
    assert "published" not in text and "{" not in text
