"""Issue 17 "done means": each demo role starts its main task from its home page, in Chinese, in
Debian's Chromium, at the size it works at (1366×768 counter/office PC, 1024×768 touch tablet,
390×844 touch phone). One browser context per role; screenshots are kept as test artefacts in
build/test-artifacts/ (or $HOUQIN_TEST_ARTIFACTS; the directory is printed). The counter's keyboard-only and touch-only walks are in
modules/counter/tests/test_counter_browser.py, the inspector's undo in
modules/vendor_contracts/tests/test_phone_browser.py."""
from datetime import timedelta

import pytest

from erp_core.demo import load_demo, role_username
from erp_core.permissions import declared_roles
from erp_core.types import LOCAL_TZ, now

HOME = ":is(.houqin-screen, .houqin-list-link, .houqin-waiting-item)"     # the home page's own links
PC, TABLET, PHONE = dict(width=1366, height=768), dict(width=1024, height=768), dict(width=390, height=844)


def _book(page, shot):
    """Front desk: a booking through the generated form (date-time typed as people write it)."""
    page.click(f"{HOME}[href*='/convenience/booking/list']")
    page.goto(page.url.split("/convenience/")[0] + "/convenience/booking/add")
    page.select_option("select[name=booking_type]", label="住院患者理发")
    page.fill("input[name=requester]", "吴大爷")
    page.fill("input[name=phone]", "13700000000")
    page.fill("input[name=location]", "心内科 5床")
    slot = (now() + timedelta(days=3)).astimezone(LOCAL_TZ).replace(hour=9, minute=30)
    page.fill("input[name=slot_start]", slot.strftime("%Y-%m-%d %H:%M"))
    page.fill("textarea[name=note]", "轮椅出行")
    shot("form")
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/booking/add" not in page.url, page.inner_text("body")[:500]      # saved (FAB goes back where it came from)
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + "/convenience/booking/list/")
    assert "吴大爷" in page.inner_text("body") and slot.strftime("%Y-%m-%d %H:%M") in page.inner_text("body")


def _order(page, shot):
    """Nurse / clerk: order a meal for a patient from the day's menu (a refusal comes in words)."""
    page.click(f"{HOME}[href*='/catering/order_meal/']")
    page.wait_for_load_state("networkidle")
    if page.locator("select[name=ward] option").count() == 0 or page.locator("input[name^=qty_]").count() == 0:
        shot("nothing-to-order")
        return
    page.fill("input[name=bed]", "12")
    page.fill("input[name=patient_name]", "王秀英")
    page.fill("input[name^=qty_] >> nth=0", "1")
    shot("form")
    page.click("button[name=place]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert").count() >= 1, "no word on the order"


def _inspect(page, shot):
    """Inspector on the phone: the month being inspected, one tap records, one tap undoes."""
    page.tap(f"{HOME}[href*='/vendor_contracts/inspect/']")
    page.wait_for_load_state("networkidle")
    page.tap(".list-group-item >> nth=0")
    page.wait_for_selector("#inspect")
    page.tap(".inspect-item:not([disabled]) >> nth=0")
    for _ in range(100):
        if page.inner_text("#inspect-message").startswith("已记录"):
            break
        page.wait_for_timeout(50)
    assert page.inner_text("#inspect-message").startswith("已记录"), page.inner_text("#inspect-message")
    shot("recorded")
    page.tap("#inspect-findings .inspect-undo >> nth=0")
    for _ in range(100):
        if page.inner_text("#inspect-message").startswith("已撤销"):
            break
        page.wait_for_timeout(50)
    assert page.inner_text("#inspect-message").startswith("已撤销")


def _open(href, then_first=None):
    def walk(page, shot):
        page.click(f"{HOME}[href*='{href}']")
        page.wait_for_load_state("networkidle")
        if then_first and page.locator(then_first).count():
            shot("list")
            page.click(f"{then_first} >> nth=0")
            page.wait_for_load_state("networkidle")
    return walk


def _pick_down(page, holder):
    """A cascade of selects (category, location): take the first choice at each level."""
    for depth in range(6):
        selects = page.locator(f"{holder} select")
        if selects.count() <= depth:
            return
        selects.nth(depth).select_option(index=1)


def _take_call(page, shot):
    """Dispatcher: a caller's request taken on the intake screen and sent to a team."""
    page.click(f"{HOME}[href*='/service_desk/intake/']")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#sd-phone", "8301")
    page.fill("#sd-name", "李护士长")
    _pick_down(page, "#sd-cats")
    _pick_down(page, "#sd-locs")
    page.fill("#sd-description", "病房卫生间水龙头漏水")
    page.wait_for_timeout(300)                     # the duplicate check answers
    if page.locator("#sd-force").count():
        page.click("#sd-force")
    shot("form")
    page.click("#sd-take")
    page.wait_for_selector("#sd-dispatch:not([hidden])")
    page.click("#sd-send")
    page.wait_for_selector("body[data-dispatched]")
    shot("dispatched")
    page.click("#sd-next")                           # and the next caller
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#sd-phone") == ""


def _my_orders(href):
    """Technician / requester on the phone: their own orders, as cards with the clock."""
    def walk(page, shot):
        page.tap(f"{HOME}[href*='{href}']")
        page.wait_for_load_state("networkidle")
        assert page.locator("h2").first.inner_text() in ("我的工单", "我的报修"), page.inner_text("body")[:300]
    return walk


def _reassign(page, shot):
    """Team leader on a tablet: an order of his team handed to another technician, with a reason,
    picked by name from the order's page."""
    page.click(f"{HOME}[href*='/service_desk/work_order/list']")
    page.wait_for_load_state("networkidle")
    base = page.url.split("/service_desk/")[0]
    links = [a.get_attribute("href") for a in page.locator("a[href*='/work_order/show/']").all()][:20]
    form = "form.houqin-action-form[data-action=reassign]:has(button:not([disabled]))"
    for href in links:
        page.goto(base + href if href.startswith("/") else href)
        if page.locator(form).count():
            break
    else:
        raise AssertionError("no order of the team can be reassigned on the first list page")
    shot("order")
    team = page.locator(f"{form} select[name=team] option:checked").inner_text()     # the order's own team
    others = [o.get_attribute("value") for o in page.locator(f"{form} select[name=technician] option").all()
              if f"（{team}）" in o.inner_text()]
    assert others, f"no technician of {team} offered"
    page.select_option(f"{form} select[name=technician]", others[-1])
    page.fill(f"{form} input[name=reason]", "原维修员请假")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert-success").count() >= 1, page.inner_text("body")[:500]


# role -> (viewport, walk from the home page)
TASKS = {
    "Front Desk": (PC, _book),
    "Front Desk Supervisor": (TABLET, _open("/convenience/low-stock/")),
    "Ward Nurse": (TABLET, _order),
    "Catering Clerk": (PC, _order),
    "Kitchen": (TABLET, _open("/catering/kitchen/")),
    "Dietitian": (PC, _open("/catering/kitchen/")),
    "Procurement Officer": (PC, _open("/procurement/tender/list", "a[href*='/tender/show/']")),
    "Procurement Manager": (PC, _open("/procurement/tender/list", "a[href*='/tender/show/']")),
    "Evaluation Expert": (PC, _open("/procurement/scoring/", "a[href*='/procurement/scoring/']:not([href$='/scoring/'])")),
    "Vendor Coordinator": (PC, _open("/vendor_contracts/attention/")),
    "Inspector": (PHONE, _inspect),
    "Logistics Manager": (PC, _open("/vendor_contracts/attention/settlement/")),
    "Auditor": (PC, _open("/list/", "a[href*='/show/']")),
    "Dispatcher": (PC, _take_call),
    "Technician": (PHONE, _my_orders("/service_desk/jobs/")),
    "Requester": (PHONE, _my_orders("/service_desk/mine/")),
    "Team Leader": (TABLET, _reassign),
    "Workforce Officer": (PC, _open("/workforce/certificates/expiring/", "a[href*='/person/show/']")),
    "Care Desk": (PC, _open("/care/care_order/list", "a[href*='/care_order/show/']")),
}


@pytest.fixture
def demo_password(app):
    with app.app_context():
        return load_demo(app).password


def test_each_role_starts_its_main_task_from_home(app, browser, live_server, demo_password, artifacts):
    missing = {r for r in declared_roles(app) if not r.startswith("Sample")} - set(TASKS)
    assert not missing, f"roles without a walk: {missing}"
    problems, done = [], []
    print("role screenshots in", artifacts)
    for role, (viewport, walk) in TASKS.items():
        touch = viewport is not PC
        context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=touch, is_mobile=viewport is PHONE)
        page = context.new_page()
        page.set_default_timeout(8000)
        bad = []
        page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("request", lambda r: bad.append(r.url) if not r.url.startswith((live_server, "data:", "blob:")) else None)
        page.goto(live_server + "/login/")
        page.fill("input[name=username]", role_username(role))
        page.fill("input[name=password]", demo_password)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state("networkidle")
        page.goto(live_server + "/")
        n = [0]

        def shot(step, role=role, page=page):
            n[0] += 1
            path = artifacts / f"{role_username(role)}-{n[0]}-{step}.png"
            page.screenshot(path=str(path))
            return path
        shot("home")
        try:
            walk(page, shot)
            done.append(role)
        except Exception as exc:      # every role is walked; all failures are reported together
            problems.append(f"{role}: {type(exc).__name__}: {str(exc)[:300]} ({shot('failed')})")
            print(problems[-1])
        else:
            path = shot("task")
            text = page.inner_text("body")
            for raw in ("None", "True", "False", "Traceback"):
                if f" {raw} " in f" {text} ".replace("\n", " "):
                    problems.append(f"{role}: raw value {raw} on {page.url} ({path})")
        if bad:
            problems.append(f"{role}: {bad}")
        context.close()
    assert not problems, "\n".join(problems)
    assert len(done) == len(TASKS)
