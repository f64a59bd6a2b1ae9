"""The borrower signs on the counter tablet: draw, save, find the image in the receipt PDF."""
from io import BytesIO

from pypdf import PdfReader

from erp_core.testing import browser_login

from .test_lending import lend


def test_draw_signature_and_print_it(app, page, session, wheelchair):
    loan = lend(session)
    browser_login(page, app, "Front Desk")
    page.set_viewport_size({"width": 1024, "height": 768})          # a counter tablet
    page.goto(f"{page.base_url}/rentals/sign/{loan.id}/handover")
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for x in range(40, 400, 20):
        page.mouse.move(box["x"] + x, box["y"] + 100 + (x % 60))
    page.mouse.up()
    page.click("#signature-save")
    page.wait_for_selector("#signature-status[data-ok=true]")
    pdf = page.request.get(f"{page.base_url}/print/rentals.receipt/{loan.name}.pdf").body()
    assert PdfReader(BytesIO(pdf)).pages[0].images
    assert page.outside == [] and page.console_errors == []
