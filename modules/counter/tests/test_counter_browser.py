"""A clerk lends and takes back a wheelchair on the counter screen with the keyboard only."""
from erp_core.testing import browser_login, wait_until


def test_lend_and_return_a_wheelchair_by_keyboard(app, page, wheelchair, shelf, tmp_path):
    browser_login(page, app, "Front Desk")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base_url + "/counter/")
    kb = page.keyboard
    wait_until(page, "document.activeElement && document.activeElement.id === 'code'")
    kb.type("LY-001")
    kb.press("Enter")                                              # step 1: scan
    page.wait_for_selector("#lend-form:not([hidden])")
    kb.type("王秀英")                                               # borrower has the focus
    kb.press("Tab")
    kb.type("心内科一病区 12床")
    kb.press("Enter")                                              # step 2: lend
    page.wait_for_selector("#done-panel:not([hidden])")
    link = page.locator("#print-link")
    assert page.evaluate("document.activeElement.id") == "print-link"   # step 3: Enter opens the receipt
    assert "/print/rentals.receipt/LN-" in link.get_attribute("href")
    receipt = page.request.get(page.base_url + link.get_attribute("href"))
    assert receipt.ok and receipt.body()[:4] == b"%PDF"
    page.screenshot(path=str(tmp_path / "lent.png"))
    kb.press("Escape")
    kb.type("LY-001")
    kb.press("Enter")
    page.wait_for_selector("#return-form:not([hidden])")
    assert "王秀英" in page.inner_text("#return-form")
    kb.press("Enter")                                              # take back
    page.wait_for_selector("#done-panel:not([hidden])")
    assert "/print/rentals.return_receipt/" in page.locator("#print-link").get_attribute("href")
    assert "300.00" in page.inner_text("#message")
    assert page.locator("#counter").is_visible()
    box = page.locator("#return-form, #done-panel").first.bounding_box()
    assert box is None or box["x"] + box["width"] <= 1366         # nothing spills off a counter PC screen
    assert page.outside == [] and page.console_errors == [], (page.outside, page.console_errors)
    assert page.failed == [], page.failed


def test_sell_two_items_by_keyboard_on_a_tablet(app, page, wheelchair, shelf):
    browser_login(page, app, "Front Desk")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.goto(page.base_url + "/counter/")
    kb = page.keyboard
    wait_until(page, "document.activeElement && document.activeElement.id === 'code'")
    for code in ("JD-01", "ZB-01"):
        kb.type(code)
        kb.press("Enter")
        wait_until(page, f"document.querySelector('#cart').innerText.includes('{'透明胶带' if code == 'JD-01' else '纸杯'}')")
    kb.press("Enter")                                              # empty code: checkout
    page.wait_for_selector("#checkout-form:not([hidden])")
    assert "¥8.50" in page.inner_text("#checkout-form")
    kb.press("Enter")
    page.wait_for_selector("#done-panel:not([hidden])")
    assert "/print/convenience.receipt/SAL-" in page.locator("#print-link").get_attribute("href")
    assert page.outside == [] and page.console_errors == []
