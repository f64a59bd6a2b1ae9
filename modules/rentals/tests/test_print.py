"""Receipts and the daily cash summary as PDFs: Chinese text, CJK font, QR, signature image."""
import base64
import subprocess
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader

from erp_core.types import now
from modules.rentals import services

from .test_lending import PNG, lend


def text_and_fonts(pdf):
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode().replace(" ", "")
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    return text, fonts


def test_receipt_has_chinese_qr_and_signature(client, login_as, session, wheelchair):
    loan = lend(session, signature_png=PNG)
    login_as("Front Desk")
    pdf = client.get(f"/print/rentals.receipt/{loan.name}.pdf").data
    text, fonts = text_and_fonts(pdf)
    assert "租借单" in text and "王秀英" in text and loan.name in text and "¥300.00" in text
    assert "WenQuanYi" in fonts
    images = PdfReader(BytesIO(pdf)).pages[0].images
    assert len(images) >= 1                    # the signature (the QR is vector SVG)


def test_return_receipt_and_cash_summary(client, login_as, session, wheelchair):
    loan = lend(session, by="t_front_desk")
    services.return_loan(loan, returned_at=loan.lent_at + timedelta(hours=2), by="t_front_desk")
    session.commit()
    login_as("Front Desk")
    text, fonts = text_and_fonts(client.get(f"/print/rentals.return_receipt/{loan.name}.pdf").data)
    assert "归还单" in text and "¥4.00" in text and "¥296.00" in text and "WenQuanYi" in fonts
    day = now().date().isoformat()
    text, _fonts = text_and_fonts(client.get(f"/print/rentals.cash_summary/{day}.pdf").data)
    assert "押金" in text and "¥300.00" in text and "¥296.00" in text and "¥4.00" in text
    assert client.get("/print/rentals.cash_summary/yesterday.pdf").status_code == 404
    login_as("Sample Own")                      # a role with no rental permissions
    assert client.get(f"/print/rentals.cash_summary/{day}.pdf").status_code == 403


def test_receipt_in_words_reprint_and_80mm(client, login_as, session, wheelchair, app):
    from erp_core.models import Settings
    loan = lend(session, signature_png=PNG, by="t_front_desk")
    login_as("Front Desk")
    first, _f = text_and_fonts(client.get(f"/print/rentals.receipt/{loan.name}.pdf").data)
    assert "人民币叁佰元整" in first and "收款单位（盖章）" in first and "补打" not in first
    assert "t_front_desk" not in first and "打印人" in first          # names, not logins
    second, _f = text_and_fonts(client.get(f"/print/rentals.receipt/{loan.name}.pdf").data)
    assert "补打" in second                                          # printed before: a reprint
    # the counter's printer takes 80 mm paper (hospital settings, per format); A4 on request
    session.merge(Settings(id=1, hospital_name="测试医院", papers={"rentals.receipt": "receipt80"}))
    session.commit()
    roll = PdfReader(BytesIO(client.get(f"/print/rentals.receipt/{loan.name}.pdf").data)).pages
    assert len(roll) == 1 and round(float(roll[0].mediabox.width) / 72 * 25.4) == 80
    assert 100 <= float(roll[0].mediabox.height) / 72 * 25.4 < 400         # cut after its content
    a4 = PdfReader(BytesIO(client.get(f"/print/rentals.receipt/{loan.name}.pdf?paper=a4").data)).pages[0]
    assert round(float(a4.mediabox.width) / 72 * 25.4) == 210


def test_no_return_receipt_while_the_loan_is_out(client, login_as, session, wheelchair):
    loan = lend(session, by="t_front_desk")
    login_as("Front Desk")
    resp = client.get(f"/print/rentals.return_receipt/{loan.name}.pdf")
    assert resp.status_code == 409


def test_cash_summary_with_big_sums_fits_the_page_with_its_signatures(app):
    """English headers are long and Chinese sums reach six digits: every column stays on the
    paper and the signatures stay with the totals."""
    from decimal import Decimal
    from flask import render_template
    from flask_babel import force_locale
    from erp_core import printing
    from erp_core.printing import checks
    keys = ["deposits_taken", "deposits_refunded", "deposits_applied", "deposit_change", "balances_paid",
            "fee_income", "cash"]
    rows = [dict(clerk=f"clerk_{i}", **{k: Decimal("987654.32") for k in keys}) for i in range(8)]
    totals = {k: Decimal("7901234.56") for k in keys}
    fmt = app.extensions["houqin_print"].get("rentals.cash_summary")
    for locale in ("zh_CN", "en"):
        with app.test_request_context(), force_locale(locale):
            html = render_template(fmt.template, doc="2026-11-24", fmt=fmt, settings=None, day="2026-11-24", rows=rows,
                                   totals=totals, number="2026-11-24", paper="a4", printed_at="", printed_by="")
        document = printing.layout(html)
        assert checks.overflowing(document) == [], locale
        assert len(document.pages) == 1 and not checks.signatures_alone(document), locale
