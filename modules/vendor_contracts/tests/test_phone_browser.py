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
    assert page.outside == [] and page.console_errors == []
