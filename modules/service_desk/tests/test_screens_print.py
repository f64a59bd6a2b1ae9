"""The desk's PDFs: the slip (its QR reads back the order's page), the label sheet (every
room under the building, each QR a signed form URL that opens), the monthly report (charts
as inline SVG, nothing fetched). HOUQIN_PRINTS_DIR=<dir> keeps a PNG of each."""
import os
import subprocess

from flask import current_app

from erp_core.context import acting_as
from erp_core.printing.render import render_pdf
from modules.service_desk import printing, screens, services

from .conftest import at


def _png(pdf, name, tmp_path):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / name)], check=True)
    png = next(tmp_path.glob(f"{name}*.png"))
    keep = os.environ.get("HOUQIN_PRINTS_DIR")
    if keep:
        (os.path.join(keep, f"service_desk-{name}.png") and open(os.path.join(keep, f"service_desk-{name}.png"), "wb")
         .write(png.read_bytes()))
    return path


def _text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout


def _qrs(png_path):
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png_path)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def test_the_three_prints(app, client, session, desk, tmp_path):
    fmts = {f.name: f for f in printing.formats()}
    with acting_as("t_dispatcher"):
        _r, wo = services.intake(category=desk["water"], location=desk["r301"], description="洗手池下水管漏水",
                                 caller_phone="8301", by="t_dispatcher", at=at(1, 9))
        services.dispatch(wo, desk["own"], desk["t_technician"], by="t_dispatcher", at=at(1, 9, 5))
        session.commit()
    with app.test_request_context(base_url="http://houqin.local"):
        slip = _png(render_pdf(fmts["service_desk.slip"], wo), "slip", tmp_path)
        labels = _png(render_pdf(fmts["service_desk.qr_labels"], desk["r301"].parent.parent.parent), "labels",
                      tmp_path)
        report = _png(render_pdf(fmts["service_desk.monthly"], "2026-12"), "monthly", tmp_path)
        urls = {r.code: screens.qr_url(r) for r in (desk["r301"], desk["r302"], desk["r401"])}
    assert wo.name in _text(slip) and "心内科" in _text(slip)
    text = _text(labels)
    assert "301" in text and "302" in text and "401" in text and "扫码报修" in text
    assert "月度服务报告" in _text(report) and "2026-12" in _text(report)
    # the label sheet's QR codes are the signed form URLs (zbar reads them at 150 dpi)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(labels), str(tmp_path / "hi")],
                   check=True)
    assert set(urls.values()) <= set(_qrs(next(tmp_path.glob("hi*.png"))))
    token = urls["B1-302"].rsplit("/", 1)[1]
    assert client.get("/service_desk/qr/" + token).status_code == 200
