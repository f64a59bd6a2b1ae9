"""The care desk's day on a 1024×768 touch tablet: a new order, the family signs on the canvas,
the worker is changed, the patient is discharged and settled. ``CARE_PNG_DIR`` keeps screenshots."""
import os
from datetime import timedelta

from erp_core.testing import PASSWORD, ensure_user
from erp_core.types import now
from modules.care.models import CareOrder


def _shot(page, tmp_path, name):
    folder = os.environ.get("CARE_PNG_DIR") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, f"desk-{name}.png"), full_page=True)


def test_care_desk_new_order_signature_change_of_worker_and_settlement(app, session, browser, live_server, care,
                                                                       travel, tmp_path):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True, locale="zh-CN")
    page = context.new_page()
    outside, errors, failed = [], [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live_server, "data:", "blob:")) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())
    try:
        page.goto(live_server + "/login/")
        page.fill("input[name=username]", ensure_user(app, "Care Desk"))
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state("networkidle")

        # 1. a new order from the list's button
        page.goto(live_server + "/care/care_order/list/")
        page.click("text=新建陪护单")
        form = page.locator("form.houqin-action-page")
        form.locator("select[name=ward]").select_option(label="心内科一病区")
        form.locator("input[name=bed]").fill("12")
        form.locator("input[name=patient_name]").fill("王建国")
        form.locator("select[name=level]").select_option(str(care["levels"]["L1"].id))
        form.locator("select[name=worker]").select_option(str(care["people"]["张红"].id))
        form.locator("input[name=planned_end]").fill((now() + timedelta(days=5)).date().isoformat())
        form.locator("input[name=family_name]").fill("王丽")
        form.locator("input[name=family_relation]").fill("女儿")
        form.locator("input[name=family_phone]").fill("13800000000")
        form.locator("input[name=deposit]").fill("600.00")
        _shot(page, tmp_path, "1-new")
        with page.expect_navigation():
            form.locator("button[type=submit]").tap()
        order = session.query(CareOrder).one()
        assert order.workflow_state == "awaiting"

        # 2. the family signs on the canvas of the order's page
        page.goto(live_server + f"/care/care_order/show/{order.id}")
        assert "待签单" in page.inner_text(".houqin-statusbar")
        sign = page.locator("form[data-action=sign]")
        pad = sign.locator("canvas.houqin-signature")
        box = pad.bounding_box()
        assert box["x"] + box["width"] <= 1024
        page.mouse.move(box["x"] + 30, box["y"] + 60)
        page.mouse.down()
        for i in range(1, 12):
            page.mouse.move(box["x"] + 30 + i * 25, box["y"] + 60 + (20 if i % 2 else -20))
        page.mouse.up()
        assert page.evaluate("document.querySelector('form[data-action=sign] input[name=signature]').value"
                             ".startsWith('data:image/png;base64,')")
        _shot(page, tmp_path, "2-signed")
        with page.expect_navigation():
            sign.locator("button[type=submit]").tap()
        session.expire_all()
        order = session.get(CareOrder, order.id)
        assert order.workflow_state == "active" and order.signature[:4] == b"\x89PNG"
        assert "陪护中" in page.inner_text(".houqin-statusbar")

        # 3. five hours later another worker takes over (the server shares the test's clock)
        travel(hours=5)
        change = page.locator("form[data-action=change_worker]")
        change.locator("select[name=worker]").select_option(str(care["people"]["李梅"].id))
        change.locator("input[name=reason]").fill("家属要求更换")
        with page.expect_navigation():
            change.locator("button[type=submit]").tap()
        session.expire_all()
        order = session.get(CareOrder, order.id)
        assert order.worker.full_name == "李梅"
        assert "家属要求更换" in page.inner_text("[data-related=segments]")
        _shot(page, tmp_path, "3-changed")

        # 4. discharged 25 hours after the signature; settled (the page asks to confirm)
        travel(hours=20)
        page.reload()
        settle = page.locator("form[data-action=settle]")
        settle.locator("select[name=payment_method]").select_option("cash")
        with page.expect_navigation():
            settle.locator("button[type=submit]").tap()
        session.expire_all()
        order = session.get(CareOrder, order.id)
        assert order.workflow_state == "settled"
        # one care day of ¥200.00 and a 1 h part day (half) = ¥300.00 against a ¥600.00 deposit
        assert (str(order.charges), str(order.refund)) == ("300.00", "300.00")
        assert "已结算" in page.inner_text(".houqin-statusbar")
        slip = page.request.get(live_server + f"/print/care.settlement/{order.name}.pdf")
        assert slip.ok and slip.body()[:4] == b"%PDF"
        _shot(page, tmp_path, "4-settled")
        assert outside == [] and errors == [], (outside, errors)
        assert failed == [], failed
    finally:
        context.close()
