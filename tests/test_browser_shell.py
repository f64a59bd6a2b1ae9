"""The shell in a real browser: login, dashboard, language switch, a list page — all local."""
from erp_core.testing import browser_login


def test_shell_in_chromium_loads_only_local_assets(app, page, tmp_path):
    browser_login(page, app, "Sample Clerk")
    page.goto(page.base_url + "/")
    assert page.locator("[data-widget=sample_bars] svg").count() == 1
    page.goto(page.base_url + "/sample/sample_request/list/")
    assert "导出 CSV" in page.content()
    page.goto(page.base_url + "/lang/en")
    page.goto(page.base_url + "/sample/sample_request/list/")
    shot = tmp_path / "list.png"
    page.screenshot(path=str(shot))
    assert "Export CSV" in page.content(), shot
    assert page.outside == [], page.outside
    assert page.failed == [], page.failed
    assert page.console_errors == [], page.console_errors
