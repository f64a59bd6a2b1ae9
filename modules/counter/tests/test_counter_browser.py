"""The counter screen in Chromium (issue 17.5), once driven by the keyboard only on a counter PC
(1366×768) and once by touch only on a tablet (1024×768, ``has_touch``): Enter confirms only a
complete step, every key has a button, fees/refund/due time are on screen before confirming,
results say what their amounts are, the basket can be corrected. Screenshots are kept in the
test's tmp dir (printed, and named in failures)."""
import re

import pytest

from erp_core.testing import browser_login, wait_until

# every visible button, field and link of the counter is a tap target of at least 44 px
TARGETS = "#counter button, #counter input:not([type=checkbox]), #counter select, #counter a.btn, #counter canvas"
SMALL_TARGETS = ("() => [...document.querySelectorAll('" + TARGETS + "')].filter(e => e.offsetParent !== null)"
                 ".filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44 })"
                 ".map(e => (e.name || e.id || e.textContent).trim())")


def _below_fold(page, selector):
    box = page.locator(selector).bounding_box()
    return box is None or box["y"] + box["height"] > page.viewport_size["height"]


def _sign(page, form):
    """The borrower signs with the pen of the counter's signature pad (a pointer, not the clerk's keys)."""
    box = page.locator(f"{form} canvas").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    for x in range(30, 300, 15):
        page.mouse.move(box["x"] + x, box["y"] + 40 + (x % 40))
    page.mouse.up()


def _shot(page, tmp_path, name, shots):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    shots.append(str(path))
    return path


def test_counter_by_keyboard_only_on_a_counter_pc(app, page, wheelchair, shelf, tmp_path):
    shots = []
    browser_login(page, app, "Front Desk")
    page.goto(page.base_url + "/counter/")
    kb = page.keyboard
    wait_until(page, "document.activeElement && document.activeElement.id === 'code'")
    kb.type("LY-001")
    kb.press("Enter")                                              # scan
    page.wait_for_selector("#lend-form:not([hidden])")
    lend = page.inner_text("#lend-form")
    assert "¥2.00" in lend and "应还时间" in lend and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", lend), lend
    kb.type("王秀英")
    kb.press("Tab")
    kb.type("心内科一病区 12床")
    assert not _below_fold(page, "#lend-form .counter-confirm"), _shot(page, tmp_path, "lend-fold", shots)
    kb.press("Enter")                                              # no signature yet: asks for it, lends nothing
    wait_until(page, "document.getElementById('message').textContent.includes('签名')")
    assert page.locator("#lend-form").is_visible() and page.evaluate("document.activeElement.tagName") == "CANVAS"
    _shot(page, tmp_path, "kb-1-asks-signature", shots)
    _sign(page, "#lend-form")
    kb.press("Enter")                                              # signed: Enter confirms, as the screen says
    page.wait_for_selector("#done-panel:not([hidden])")
    summary = page.inner_text("#done-panel h3")
    assert re.search(r"借出单 LN-\S+ · LY-001 · 押金 ¥300\.00 · 应还时间 \d{4}-\d\d-\d\d \d\d:\d\d", summary), summary
    assert page.evaluate("document.activeElement.id") == "print-link"
    assert "/print/rentals.receipt/LN-" in page.locator("#print-link").get_attribute("href")
    _shot(page, tmp_path, "kb-2-lent", shots)
    kb.press("Escape")
    kb.type("LY-001")
    kb.press("Enter")
    page.wait_for_selector("#return-form:not([hidden])")
    quote = page.inner_text("#return-quote")                       # before confirming: fees, deposit, refund, due
    for word in ("应还时间", "租金", "押金", "¥300.00", "退还押金"):
        assert word in quote, quote
    kb.type("扶手松动")                                             # the damage note has the focus
    kb.press("Tab")
    kb.type("20")                                                  # the charge; "damaged" ticks itself
    assert page.is_checked("#return-form [name=damaged]")
    wait_until(page, "document.getElementById('return-quote').innerText.includes('¥280.00')")
    assert not _below_fold(page, "#return-form .counter-confirm"), _shot(page, tmp_path, "return-fold", shots)
    _shot(page, tmp_path, "kb-3-return-quote", shots)
    kb.press("Enter")                                              # take back
    page.wait_for_selector("#done-panel:not([hidden])")
    summary = page.inner_text("#done-panel h3")
    assert re.search(r"借出单 LN-\S+ 已归还 · 费用 ¥20\.00 · 退还押金 ¥280\.00", summary), summary
    kb.press("Escape")
    for code in ("JD-01", "JD-01", "ZB-01"):                       # one tape scanned twice by mistake, quickly
        kb.type(code)
        kb.press("Enter")
    wait_until(page, "document.querySelectorAll('#cart input').length === 2 && "
                     "document.querySelector(\"#cart input[data-code='JD-01']\").value === '2'")
    page.focus("#cart input[data-code='JD-01']")                   # (Tab from the code field reaches it too)
    kb.press("Control+A")
    kb.type("1")
    kb.press("Tab")                                                # change: the line is corrected
    wait_until(page, "document.getElementById('cart').innerText.includes('¥8.50')")
    page.focus("#code")
    kb.press("Enter")                                              # empty code: checkout
    page.wait_for_selector("#checkout-form:not([hidden])")
    assert "¥8.50" in page.inner_text("#checkout-form")
    kb.press("Enter")
    page.wait_for_selector("#done-panel:not([hidden])")
    assert re.search(r"销售单 SAL-\S+ · 合计 ¥8\.50", page.inner_text("#done-panel h3"))
    kb.press("Escape")
    kb.press("F2")                                                 # store belongings
    page.wait_for_selector("#store-form:not([hidden])")
    kb.type("孙强")
    kb.press("Tab")
    kb.type("13900002222")
    kb.press("Tab")
    kb.type("衣物一袋")
    kb.press("Enter")
    page.wait_for_selector("#done-panel:not([hidden])")
    assert re.search(r"寄存牌 \S+ · 1 件", page.inner_text("#done-panel h3"))
    _shot(page, tmp_path, "kb-4-stored", shots)
    print("counter screenshots:", *shots, sep="\n  ")
    assert page.outside == [] and page.console_errors == [], (page.outside, page.console_errors)
    assert [f for f in page.failed if "/api/v1/counter/" not in f] == [], page.failed


def _touch_draw(page, selector):
    """A finger drawing on the pad: CDP touch events (Playwright's touchscreen only taps).
    (Measured: Chromium does not turn the first Playwright tap after a CDP stroke into a click;
    the next one is, so the walk taps a field before the confirm button.)"""
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    points = [(box["x"] + x, box["y"] + 40 + (x % 30)) for x in range(30, 260, 20)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN", has_touch=True,
                                  is_mobile=True)
    p = context.new_page()
    p.console_errors, p.outside = [], []
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.on("request", lambda r: p.outside.append(r.url) if not r.url.startswith((live_server, "data:", "blob:")) else None)
    p.base_url = live_server
    yield p
    context.close()


def test_counter_by_touch_only_on_a_tablet(app, tablet, wheelchair, shelf, tmp_path):
    page, shots = tablet, []
    browser_login(page, app, "Front Desk")                         # (signing in is not the counter)
    page.goto(page.base_url + "/counter/")
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], (small, _shot(page, tmp_path, "touch-small", shots))
    page.tap("#store-button")                                      # F2 has a button
    page.wait_for_selector("#store-form:not([hidden])")
    page.tap("#cancel-button")                                     # so has Esc
    wait_until(page, "document.getElementById('store-form').hidden")
    for code in ("ZB-01", "ZB-01", "JD-01"):                       # scanned one box too many
        page.fill("#code", code)
        page.tap("#scan-form button")
        wait_until(page, "document.getElementById('message').textContent.includes('已加入购物篮')")
        page.wait_for_timeout(100)
    wait_until(page, "document.querySelectorAll('#cart input').length === 2")
    page.tap("#cart button[aria-label*='纸杯']")                   # remove the paper-cup line
    wait_until(page, "document.querySelectorAll('#cart input').length === 1")
    page.tap("#checkout-button")
    page.wait_for_selector("#checkout-form:not([hidden])")
    assert "¥3.50" in page.inner_text("#checkout-form")
    page.tap("#checkout-form .counter-confirm")
    page.wait_for_selector("#done-panel:not([hidden])")
    assert re.search(r"销售单 SAL-\S+ · 合计 ¥3\.50", page.inner_text("#done-panel h3"))
    page.tap("#done-panel .counter-cancel")
    page.fill("#code", "LY-002")
    page.tap("#scan-form button")
    page.wait_for_selector("#lend-form:not([hidden])")
    page.fill("#lend-form [name=borrower_name]", "李建国")
    page.tap("#lend-form .counter-confirm")                        # no signature: asks for it
    wait_until(page, "document.getElementById('message').textContent.includes('签名')")
    assert page.locator("#lend-form").is_visible()
    _touch_draw(page, "#lend-form canvas")
    page.tap("#lend-form [name=phone]")
    page.fill("#lend-form [name=phone]", "13800001111")
    assert page.evaluate("document.querySelector('#lend-form canvas').dataset.drawn") == "1"
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], (small, _shot(page, tmp_path, "touch-small-lend", shots))
    assert not _below_fold(page, "#lend-form .counter-confirm"), _shot(page, tmp_path, "touch-fold", shots)
    _shot(page, tmp_path, "touch-1-lend-signed", shots)
    page.tap("#lend-form .counter-confirm")
    page.wait_for_selector("#done-panel:not([hidden])")
    assert re.search(r"借出单 LN-\S+ · LY-002 · 押金 ¥300\.00", page.inner_text("#done-panel h3"))
    _shot(page, tmp_path, "touch-2-lent", shots)
    print("counter screenshots:", *shots, sep="\n  ")
    assert page.outside == [] and page.console_errors == [], (page.outside, page.console_errors)
