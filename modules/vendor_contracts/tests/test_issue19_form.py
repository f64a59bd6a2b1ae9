"""The assessment form the vendor signs (issue 20, point 4) and the 大写 converter."""
from datetime import timedelta
from decimal import Decimal

import pytest

from erp_core.testing import get_user
from erp_core.types import now
from modules.vendor_contracts import services
from modules.vendor_contracts.form import rmb_upper

from .test_assessment import approve, open_month, pdf_text


@pytest.mark.parametrize("value, words", [
    ("182280.00", "壹拾捌万贰仟贰佰捌拾元整"), ("100000", "壹拾万元整"), ("1005", "壹仟零伍元整"),
    ("10005", "壹万零伍元整"), ("10500", "壹万零伍佰元整"), ("0.05", "伍分"), ("1.05", "壹元零伍分"),
    ("1.50", "壹元伍角整"), ("0", "零元整"), ("100010000", "壹亿零壹万元整"), ("1010", "壹仟零壹拾元整"),
    ("164400.36", "壹拾陆万肆仟肆佰元叁角陆分")])
def test_rmb_upper(value, words):
    assert rmb_upper(Decimal(value)) == words


def test_the_form_shows_every_item_the_steps_and_the_amount_in_words(app, client, login_as, session, contract):
    a = open_month(app, contract, session, [("C6", "病房", 1), ("C1", "门诊", 20)])
    login_as("Logistics Manager")
    text, _f = pdf_text(client.get(f"/print/vendor_contracts.assessment/{a.name}.pdf").data)
    lines, text = text, text.replace("\n", "")
    assert "草稿" in text and "序号" in text and "扣完为止" in text and "发现即全扣" in text
    assert "C1" not in text and "Wholesite" not in text                        # no raw codes, no English
    # 门诊 85 (capped 15), 病房 80, 手术室 100 -> 88.3 良好 -> 2 % = 3 720 -> 182 280
    assert "88.3" in text and "88.30" not in text and "良好" in text and "¥182,280.00" in text
    assert "壹拾捌万贰仟贰佰捌拾元整" in text and "乙方确认" in text and "盖章" in text
    assert "四舍五入" in text
    import re
    assert not re.search(r"\d\.\d{6,}", lines)                                   # no run of 6+ decimals
    approve(app, a, session)
    text, _f = pdf_text(client.get(f"/print/vendor_contracts.assessment/{a.name}.pdf").data)
    assert "草稿" not in text and "第1页/共1页" in text


def test_a_reprint_shows_what_was_known_at_approval(app, client, login_as, session, contract):
    may = approve(app, open_month(app, contract, session, [("C1", "门诊", 1)]), session)
    services.raise_rectification(may, problem="五月的问题", deadline=now().date() + timedelta(days=3),
                                 by=get_user(app, "Inspector"))
    june = open_month(app, contract, session, [("C1", "门诊", 1)], month=6)
    approve(app, june, session)                                   # June lists May's open notice
    services.raise_rectification(june, problem="七月才发现的问题", deadline=now().date() + timedelta(days=3),
                                 by=get_user(app, "Inspector"))
    other = approve(app, open_month(app, contract, session, [("C1", "门诊", 1)], month=7), session)
    session.commit()
    login_as("Logistics Manager")
    text, _f = pdf_text(client.get(f"/print/vendor_contracts.assessment/{june.name}.pdf").data)
    assert "五月的问题" in text and "七月才发现的问题" not in text
    assert other.name
