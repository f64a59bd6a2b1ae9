"""The inspector's phone page in headless Chromium: two taps record a finding with a photo."""
import base64
from decimal import Decimal

from erp_core.testing import browser_login, get_user, wait_until
from modules.vendor_contracts import services
from modules.vendor_contracts.models import Assessment

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_record_a_finding_with_a_photo_on_a_phone(app, page, session, contract, tmp_path):
    a = services.create_assessment(contract, 2026, 8, by=get_user(app, "Inspector"))
    session.commit()
    browser_login(page, app, "Inspector")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/vendor_contracts/inspect/")
    page.click(f"a[href$='/inspect/{a.id}']")                       # tap 1: the vendor being inspected
    page.select_option("#area", "手术室")
    photo = tmp_path / "floor.png"
    photo.write_bytes(PNG)
    page.set_input_files("#photo", str(photo))                     # the camera
    page.click("button[data-code=C1]")                               # tap 2: the item
    wait_until(page, "document.getElementById('score').textContent.trim() === '99.0'")
    assert page.inner_text("[data-count=C1]") == "1"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390   # no sideways scrolling on a phone
    session.expire_all()
    a = session.get(Assessment, a.id)
    f = a.findings[0]
    assert (f.item_code, f.area, f.count, f.photo, f.photo_type, a.final_score) == \
        ("C1", "手术室", 1, PNG, "image/png", Decimal("99.00"))       # 3 points in the operating room, mean of 3
    # issue 17.5: why a tap moves the score as it does, what was recorded, the finding with its photo
    assert "3 个区域取平均" in page.inner_text(".inspect-explain")
    assert page.inner_text("[data-effect=C1]") == "本区域 −3 分 → 本月得分 −1"   # 3 points, mean of 3 areas
    message = page.inner_text("#inspect-message")
    assert message.startswith("已记录：手术室 · ") and "99.0" in message, message
    assert page.locator("#inspect-findings img.inspect-thumb").count() == 1
    shot = tmp_path / "inspect-recorded.png"
    page.screenshot(path=str(shot), full_page=True)
    print("phone screenshot:", shot)
    page.select_option("#area", areas := [o for o in page.eval_on_selector_all("#area option", "os => os.map(o => o.value)")
                                          if o != "手术室"][0])
    wait_until(page, "document.querySelector('[data-count=C1]').textContent === ''")   # another area, its own counts
    page.select_option("#area", "手术室")
    wait_until(page, "document.querySelector('[data-count=C1]').textContent === '1'")
    page.click("#inspect-findings .inspect-undo")                   # a wrong tap, taken back
    wait_until(page, "document.getElementById('score').textContent.trim() === '100.0'")
    assert page.inner_text("#inspect-message").startswith("已撤销：") and page.inner_text("[data-count=C1]") == ""
    session.expire_all()
    assert session.get(Assessment, a.id).findings == []
    assert areas and page.outside == [] and page.console_errors == []
