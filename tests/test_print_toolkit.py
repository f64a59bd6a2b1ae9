"""The print toolkit: 人民币大写, QR codes zbar can read, dates, names, labels, marks."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from urllib.parse import unquote

from erp_core import printing
from erp_core.printing import checks, toolkit
from erp_core.printing.toolkit import rmb_upper

RMB = [
    ("0", "零元整"), ("0.00", "零元整"), ("0.004", "零元整"), ("0.005", "壹分"),
    ("0.07", "柒分"), ("0.50", "伍角整"), ("0.56", "伍角陆分"),
    ("1", "壹元整"), ("1.23", "壹元贰角叁分"), ("10", "壹拾元整"), ("10.50", "壹拾元伍角整"),
    ("15", "壹拾伍元整"), ("100", "壹佰元整"), ("101", "壹佰零壹元整"), ("110", "壹佰壹拾元整"),
    ("1000.07", "壹仟元零柒分"), ("1005.07", "壹仟零伍元零柒分"), ("1010", "壹仟零壹拾元整"),
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"), ("3.50", "叁元伍角整"),
    ("10000", "壹万元整"), ("10005", "壹万零伍元整"), ("10010", "壹万零壹拾元整"),
    ("100000", "壹拾万元整"), ("105000", "壹拾万伍仟元整"), ("1000005", "壹佰万零伍元整"),
    ("1200000", "壹佰贰拾万元整"), ("98000.00", "玖万捌仟元整"), ("580000", "伍拾捌万元整"),
    ("100000000", "壹亿元整"), ("100010000", "壹亿零壹万元整"), ("1000000001", "壹拾亿零壹元整"),
    ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("1002003004.05", "壹拾亿零贰佰万叁仟零肆元零伍分"),
    ("-3", "负叁元整"), ("-1234.56", "负壹仟贰佰叁拾肆元伍角陆分"), ("-0.001", "零元整"),
    (Decimal("2.675"), "贰元陆角捌分"),     # half-up, not banker's rounding
    (7, "柒元整"),
]


@pytest.mark.parametrize("amount,words", RMB)
def test_rmb_upper(amount, words):
    assert rmb_upper(amount) == words


def test_rmb_upper_refuses_floats_and_too_large():
    with pytest.raises(TypeError):
        rmb_upper(1.1)
    with pytest.raises(ValueError):
        rmb_upper(10 ** 17)
    assert rmb_upper(None) == "" and rmb_upper("") == ""


def test_qr_is_full_qr_with_quiet_zone_and_decodes_with_zbar(app):
    import segno
    for text in ["S0001", "CS-2026-00001", "https://hq.example/print/x", "a" * 64]:
        qr = segno.make(text, error="m", micro=False)
        assert not qr.is_micro
        uri = printing.qr_data_uri(text)
        # the SVG is 2 × 4 modules (quiet zone) wider than the symbol
        assert f"width='{(qr.symbol_size(scale=1, border=0)[0] + 8) * 4}'" in unquote(uri)
    html = f"""<!DOCTYPE html><html><body>
      <img style="width: 20mm" src="{printing.qr_data_uri('S0001')}">
      <img style="width: 20mm" src="{printing.qr_data_uri('CS-2026-00001')}"></body></html>"""
    pdf = printing.html_to_pdf(html)
    assert sorted(checks.decode_qr(pdf)) == ["CS-2026-00001", "S0001"]


def test_dates_the_chinese_way(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import force_locale
        with force_locale("zh_CN"):
            assert toolkit.when(date(2026, 11, 24)) == "2026年11月24日"
            assert toolkit.when(datetime(2026, 11, 24, 9, 5)) == "2026年11月24日 09:05"
            assert toolkit.period("2026-06") == "2026年6月"
        with force_locale("en"):
            assert toolkit.when(date(2026, 11, 24)) == "2026-11-24"
            assert toolkit.period("2026-06") == "2026-06"


def test_people_print_by_name_not_login(app, session):
    sm = app.appbuilder.sm
    if not sm.find_user(username="zhang_wei"):
        sm.add_user("zhang_wei", "张", "伟", "zw@test.local", sm.find_role("Admin"), password="x-Password-1")
    with app.test_request_context():
        assert toolkit.full_name("zhang_wei") == "张伟"
        assert toolkit.full_name(sm.find_user(username="zhang_wei")) == "张伟"
        assert toolkit.full_name("nobody_here") == "nobody_here"


def test_money_and_labels_and_scores():
    assert toolkit.money(Decimal("98000")) == "¥98,000.00"
    assert toolkit.money(None) == ""
    assert toolkit.label("open", {"open": "公开招标"}) == "公开招标"
    assert toolkit.label("x", [("y", "Y")]) == "x"
    assert toolkit.score(Decimal("87.33333333333333333")) == "87.33"
    assert toolkit.score(Decimal("2.675")) == "2.68"


LONG = """{% extends "print/base.html" %}{% from "print/macros.html" import signature_block %}
{% block title %}测试单{% endblock %}{% block extra_css %}{{ css }}{% endblock %}
{% block content %}<table><thead><tr><th>序号</th><th>借用人</th><th class="num">金额</th></tr></thead>
{% for i in range(rows) %}<tr><td>{{ i }}</td><td>{{ who }}</td><td class="num">¥123,456.00</td></tr>{% endfor %}
<tr class="total"><th colspan="2">合计</th><th class="num">¥999,999.00</th></tr></table>{% endblock %}
{% block signatures %}{{ signature_block(["经办人", "复核人", "负责人"]) }}{% endblock %}"""


def _render(app, src, **ctx):
    base = dict(doc=None, fmt=None, settings=None, number="CS-2026-00042", printed_at="2026年12月1日 09:00",
                printed_by="王秀英", draft=False, reprint=False, who="王秀英", paper="a4", css="")
    base.update(ctx)
    with app.test_request_context():
        from flask_babel import force_locale
        with force_locale("zh_CN"):
            return app.jinja_env.from_string(src).render(**base)


def test_every_page_repeats_the_number_the_header_row_and_the_footer(app):
    pdf = printing.html_to_pdf(_render(app, LONG, rows=90))
    pages = [checks.squeeze(t) for t in checks.page_texts(pdf)]
    assert len(pages) >= 3
    for text in pages:
        assert "CS-2026-00042" in text               # running header
        assert "序号" in text and "借用人" in text      # thead repeated
        assert "打印人：王秀英" in text.replace(":", "：") and "打印时间" in text
    assert "第1页/共" in pages[0] and f"第{len(pages)}页/共{len(pages)}页" in pages[-1]


def test_signatures_stay_with_the_totals(app):
    rows = range(24, 40)
    # without keeping them together, some of these lengths leave the signatures alone on page 2
    loose = [n for n in rows if checks.signatures_alone(printing.layout(
        _render(app, LONG, rows=n, css=".signatures { break-before: auto !important }")))]
    assert loose
    for n in loose + [rows[-1]]:
        document = printing.layout(_render(app, LONG, rows=n))
        assert len(document.pages) == 2
        assert not checks.signatures_alone(document), n


def test_draft_watermark_and_reprint_mark(app):
    plain = checks.squeeze("".join(checks.page_texts(printing.html_to_pdf(_render(app, LONG, rows=2)))))
    draft = checks.squeeze("".join(checks.page_texts(printing.html_to_pdf(_render(app, LONG, rows=2, draft=True)))))
    again = checks.squeeze("".join(checks.page_texts(printing.html_to_pdf(_render(app, LONG, rows=2, reprint=True)))))
    assert "草" not in plain and "稿" not in plain and "补打" not in plain
    assert "草" in draft and "稿" in draft      # rotated: extracted one glyph per line
    assert "补打" in again


def test_rare_characters_print_from_an_embedded_font(app):
    """𠮷 (U+20BB7, CJK Ext-B) is not in WenQuanYi: the fallback font (HanaMinB, fonts-hanazono)
    must draw it; pdftotext alone cannot tell a glyph from an empty box."""
    pdf = printing.html_to_pdf(_render(app, LONG, rows=1, who="𠮷野家"))
    fonts = checks.embedded_fonts(pdf)
    drawn = []
    for name in checks.fonts_with_glyph(pdf, "𠮷"):
        font = fonts.get(name)
        cmap = font.getBestCmap() if hasattr(font, "getBestCmap") else {}
        if cmap.get(0x20BB7) not in (None, ".notdef"):
            drawn.append(name)
    assert drawn, f"no embedded font draws 𠮷: {sorted(fonts)}"


def test_shared_words_keep_each_modules_meaning(app):
    """Catalogues merge in module load order: a bare "Location" from rentals (存放位置) used to
    override convenience's (地点), so a taxi booking printed 存放位置."""
    from flask_babel import force_locale, pgettext
    with app.test_request_context(), force_locale("zh_CN"):
        assert pgettext("booking", "Location") == "地点"
        assert pgettext("asset", "Location") == "存放位置"
        booking = app.jinja_env.get_template("convenience/print/booking.html")
        assert 'pgettext("booking", "Location")' in open(booking.filename, encoding="utf-8").read()
