"""The QR form on a 390×844 phone and the wall at 1920×1080 in headless Chromium. Every
request is routed: one to a host other than the local server fails the test."""
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from erp_core.testing import PASSWORD, ensure_user
from modules.service_desk import screens
from modules.service_desk.models import Request

PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
TV = dict(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def context(browser, **kw):
    ctx = browser.new_context(**kw)
    ctx.outside = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            return route.continue_()
        ctx.outside.append(route.request.url)
        return route.abort()
    ctx.route("**/*", guard)
    return ctx


def login(page, base, app, role):
    name = ensure_user(app, role)
    page.goto(base + "/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")


def test_qr_form_on_a_phone(app, browser, live_server, session, desk, tmp_path):
    app.extensions["houqin_login_limiter"].storage.reset()
    with app.test_request_context():
        url = live_server + screens.qr_url(desk["r302"], external=False)
    ctx = context(browser, **PHONE)
    page = ctx.new_page()
    page.goto(url)
    assert "302" in page.inner_text("#qr-location")
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert page.locator("#qr-submit").bounding_box()["height"] >= 44
    page.select_option("#qr-category", "water")
    page.fill("#qr-description", "暖气片漏水，地面有积水")
    page.set_input_files("#qr-photo", files=[{"name": "IMG_0001.png", "mimeType": "image/png", "buffer": PNG}])
    page.fill("#qr-phone", "13900000000")
    page.screenshot(path=str(tmp_path / "qr-form-phone.png"), full_page=True)
    page.click("#qr-submit")
    page.wait_for_selector("#qr-done")
    page.screenshot(path=str(tmp_path / "qr-done-phone.png"), full_page=True)
    session.expire_all()
    req = session.scalars(select(Request)).one()
    assert req.name in page.inner_text("#qr-done") and req.source == "qr"
    ctx.close()
    assert ctx.outside == []


def test_the_wall_at_1920(app, browser, live_server, session, desk, tmp_path):
    from modules.service_desk import services
    from erp_core.context import acting_as
    with acting_as("t_dispatcher"):
        services.intake(category=desk["water"], location=desk["r301"], description="漏水", by="t_dispatcher")
        session.commit()
    app.config["SERVICE_DESK_WALL_REFRESH"] = 1
    try:
        ctx = context(browser, **TV)
        page = ctx.new_page()
        login(page, live_server, app, "Dispatcher")
        page.goto(live_server + "/service_desk/wall/")
        page.wait_for_selector("body[data-loaded='2']", state="attached")     # polled again, no reload
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert "1" in page.inner_text("#wall-open")
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        page.screenshot(path=str(tmp_path / "wall-1920.png"))
        ctx.close()
        assert ctx.outside == []
    finally:
        app.config.pop("SERVICE_DESK_WALL_REFRESH")


def _dispatcher_with_a_caller(app, browser, live_server, session, desk):
    """(context, page, open request): 心内科 has an open water request for room 301; the
    dispatcher's intake page on a phone has looked its caller's number up."""
    from modules.service_desk import services
    from erp_core.context import acting_as
    with acting_as("t_dispatcher"):
        first, _wo = services.intake(category=desk["water"], location=desk["r301"], description="漏水",
                                     caller_phone="8301", by="t_dispatcher")
        session.commit()
    ctx = context(browser, **PHONE)
    page = ctx.new_page()
    login(page, live_server, app, "Dispatcher")
    page.goto(live_server + "/service_desk/intake/")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#sd-phone", "8301")
    page.dispatch_event("#sd-phone", "change")
    page.wait_for_selector("#sd-caller .sd-box")
    return ctx, page, first


def test_dispatcher_intake_on_a_phone(app, browser, live_server, session, desk, tmp_path):
    """The caller's number finds 心内科; category and room picked; the duplicate guard offers
    the open request; a new one is taken and dispatched to a technician in the same flow."""
    from modules.service_desk.models import WorkOrder
    ctx, page, first = _dispatcher_with_a_caller(app, browser, live_server, session, desk)
    assert "心内科" in page.inner_text("#sd-caller") and first.name in page.inner_text("#sd-caller")
    page.select_option("#sd-cats select >> nth=0", "repair")
    page.select_option("#sd-cats select >> nth=1", "water")
    page.select_option("#sd-locs select >> nth=3", "B1-301")        # department preset by the number
    page.wait_for_selector("#sd-link")
    assert first.name in page.inner_text("#sd-dup")
    page.click("#sd-force")
    page.fill("#sd-description", "另一处水管爆裂")
    page.screenshot(path=str(tmp_path / "intake-phone.png"), full_page=True)
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    page.click("#sd-take")
    page.wait_for_selector("#sd-dispatch:not([hidden])")
    page.select_option("#sd-team", "WATER")
    page.select_option("#sd-tech", "t_technician")
    page.click("#sd-send")
    page.wait_for_selector("body[data-dispatched]")
    page.screenshot(path=str(tmp_path / "intake-dispatched-phone.png"), full_page=True)
    session.expire_all()
    wo = session.scalars(select(WorkOrder).where(WorkOrder.name == page.evaluate("document.body.dataset.dispatched"))
                         ).one()
    assert (wo.status, wo.team.code, wo.technician.username) == ("dispatched", "WATER", "t_technician")
    ctx.close()
    assert ctx.outside == []


def test_intake_keeps_the_latest_duplicate_answer_when_answers_arrive_out_of_order(app, browser, live_server,
                                                                                    session, desk):
    """The dispatcher picks category then room; each pick asks the server about duplicates.
    An answer to an earlier pick that arrives last must not wipe the offer to link."""
    ctx, page, first = _dispatcher_with_a_caller(app, browser, live_server, session, desk)
    held = []                               # the first duplicate question waits; later ones go through
    page.route("**/api/v1/service_desk/lookup?category=*",
               lambda route: held.append(route) if not held else route.continue_())
    page.select_option("#sd-cats select >> nth=0", "repair")
    page.select_option("#sd-cats select >> nth=1", "water")
    page.select_option("#sd-locs select >> nth=3", "B1-301")
    page.wait_for_selector("#sd-link")
    assert len(held) == 1 and "B1-301" not in held[0].request.url
    with page.expect_response(lambda r: r.url == held[0].request.url):
        held[0].continue_()                 # the earlier question's answer comes last
    page.wait_for_timeout(300)
    assert page.is_visible("#sd-link") and first.name in page.inner_text("#sd-dup")
    ctx.close()
    assert ctx.outside == []
