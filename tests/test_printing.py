"""The PDF renderer: Chinese text in the CJK font, page numbers, safe fetcher, batch merge."""
import subprocess
import socket
from io import BytesIO

import pytest
from pypdf import PdfReader

from erp_core import printing
from erp_core.printing import PrintFormat, PrintRegistry
from erp_core.printing.render import StaticOnlyFetcher

PAGE = """{% extends "print/base.html" %}{% block title %}供应商月度考核表{% endblock %}
{% block content %}<p class="user">{{ user_text }}</p>
{% for i in range(rows) %}<p>第{{ i }}行 清洁</p>{% endfor %}{% endblock %}"""


def pdf_text(pdf):
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True).stdout.decode()


def pdf_fonts(pdf):
    return subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode() or \
        "".join(str(f.get("/BaseFont")) for p in PdfReader(BytesIO(pdf)).pages
                for f in p["/Resources"]["/Font"].values() for f in [f.get_object()])


def render(app, src, **ctx):
    with app.test_request_context():
        return app.jinja_env.from_string(src).render(doc=None, settings=None, fmt=None, **ctx)


def test_chinese_text_page_numbers_and_cjk_font(app):
    pdf = printing.html_to_pdf(render(app, PAGE, user_text="病房保洁", rows=3))
    text = pdf_text(pdf).replace(" ", "")     # pdftotext drops the spaces between CJK glyphs
    assert "供应商月度考核表" in text and "病房保洁" in text and "第1页/共1页" in text
    # text extraction succeeds even with tofu: the embedded font must be the CJK one
    assert "WenQuanYi" in pdf_fonts(pdf) or "NotoSansCJK" in pdf_fonts(pdf)


def test_user_markup_is_text_and_the_fetcher_blocks_everything_outside(app, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the renderer tried to open a network connection")
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    asked = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)
    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    before = StaticOnlyFetcher.refused
    evil = ('<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
            '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
            '<div style="background: url(file:///etc/hostname)">x</div>')
    # 1. through a user field: autoescaped, printed as text, nothing fetched
    pdf = printing.html_to_pdf(render(app, PAGE, user_text='<img src="file:///etc/passwd">', rows=1))
    assert not asked
    assert "file:///etc/passwd" in pdf_text(pdf)
    # 2. markup that got through anyway (|safe): every URL is refused, the PDF still renders
    src = PAGE.replace("{{ user_text }}", "{{ user_text|safe }}")
    pdf = printing.html_to_pdf(render(app, src, user_text=evil, rows=1))
    assert pdf[:4] == b"%PDF"
    assert {"file:///etc/passwd", "http://127.0.0.1:9/x.png", "http://127.0.0.1:9/x.css",
            "file:///etc/hostname"} <= set(asked)
    assert StaticOnlyFetcher.refused - before >= 4
    assert "root:" not in pdf_text(pdf)


def test_own_static_files_are_fetched(app, monkeypatch):
    logo = printing.STATIC_ROOT / "print" / "placeholder-logo.png"
    assert logo.is_file()
    before = StaticOnlyFetcher.refused
    pdf = printing.html_to_pdf(render(app, PAGE.replace("{{ user_text }}", '<img src="print/placeholder-logo.png">'),
                                      user_text="", rows=1))
    assert StaticOnlyFetcher.refused == before
    page = PdfReader(BytesIO(pdf)).pages[0]
    assert page.images, "the logo was not embedded"


def test_path_traversal_out_of_static_is_refused(app):
    before = StaticOnlyFetcher.refused
    printing.html_to_pdf(render(app, PAGE.replace("{{ user_text }}", '<img src="../../../../etc/passwd">'),
                                user_text="", rows=1))
    assert StaticOnlyFetcher.refused == before + 1


def test_batch_keeps_each_documents_page_numbers(app):
    htmls = [render(app, PAGE, user_text=f"文档{i}", rows=(90 if i == 1 else 1)) for i in range(5)]
    seen = []
    pdf = printing.batch_pdf(htmls, processes=2, progress=lambda done, total: seen.append((done, total)))
    reader = PdfReader(BytesIO(pdf))
    singles = [len(PdfReader(BytesIO(printing.html_to_pdf(h))).pages) for h in htmls]
    assert len(reader.pages) == sum(singles) and singles[1] >= 2
    texts = [p.extract_text() for p in reader.pages]
    assert f"第 {singles[1]} 页 / 共 {singles[1]} 页" in texts[singles[0] + singles[1] - 1]
    assert "第 1 页 / 共 1 页" in texts[singles[0] + singles[1]]      # the next document starts again
    assert seen[-1] == (5, 5)
    assert printing.batch_pdf(htmls[:2], processes=1)[:4] == b"%PDF"


def test_startup_checks_pass_here():
    assert printing.check_cjk_font()[0]
    assert printing.check_harfbuzz_subset()[0]


def test_registry_refuses_duplicates_and_unknown_names():
    reg = PrintRegistry()
    reg.register(PrintFormat(name="a.b", title="t", template="x.html"))
    with pytest.raises(ValueError, match="a.b"):
        reg.register(PrintFormat(name="a.b", title="t", template="y.html"))
    with pytest.raises(KeyError):
        reg.get("nope")
    assert len(reg) == 1


def test_qr_is_a_data_uri():
    assert printing.qr_data_uri("LN-2026-00001").startswith("data:image/svg+xml")
