"""Issue 17.4 / 17.2 in Chromium: every demo role's home at 1366×768 (counter PC) and
390×844 (phone), and the first document page it links to. On the phone nothing is wider
than the screen and every home link is at least 44 px high; the home shows what waits or
the screens of the role. Screenshots are kept in the test's tmp dir (named in failures)."""
import pytest

from erp_core.demo import load_demo, role_username
from erp_core.permissions import declared_roles

VIEWPORTS = {"pc": dict(width=1366, height=768), "phone": dict(width=390, height=844)}


@pytest.fixture
def demo_password(app):
    with app.app_context():
        password = load_demo(app).password     # every demo user shares it
    return password


def test_every_role_home_and_a_document_page_on_pc_and_phone(app, browser, live_server, demo_password, tmp_path):
    roles = sorted(r for r in declared_roles(app) if not r.startswith("Sample"))
    problems = []
    for name, viewport in VIEWPORTS.items():
        phone = name == "phone"
        context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone)
        page = context.new_page()
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live_server, "data:")) else None)
        for role in roles:
            page.goto(live_server + "/logout/")
            page.goto(live_server + "/login/")
            page.fill("input[name=username]", role_username(role))
            page.fill("input[name=password]", demo_password)
            page.press("input[name=password]", "Enter")
            page.wait_for_load_state("networkidle")
            page.goto(live_server + "/")
            shot = tmp_path / f"home-{role_username(role)}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            links = page.locator(".houqin-waiting-item, .houqin-screen, .houqin-list-link")
            if links.count() == 0:
                problems.append(f"{role} {name}: empty home ({shot})")
            if phone:
                wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
                if wide:
                    problems.append(f"{role} phone: home wider than the screen ({shot})")
                small = page.evaluate("""() => [...document.querySelectorAll('.houqin-waiting-item, .houqin-screen')]
                    .filter(a => a.getBoundingClientRect().height < 44).map(a => a.textContent.trim())""")
                if small:
                    problems.append(f"{role} phone: tap targets under 44 px: {small} ({shot})")
            lists = page.locator(".houqin-list-link")
            if lists.count():
                lists.first.click()
                page.wait_for_load_state("networkidle")
                show = page.locator("a[href*='/show/']")
                if show.count():
                    show.first.click()
                    page.wait_for_load_state("networkidle")
                    shot = tmp_path / f"show-{role_username(role)}-{name}.png"
                    page.screenshot(path=str(shot))
                    if page.locator(".houqin-show").count() != 1:
                        problems.append(f"{role} {name}: {page.url} is not a document page ({shot})")
                    # the key fields come before the full field table, inside the first screen
                    top = page.evaluate("""() => { const k = document.querySelector('.houqin-key-fields');
                        return k ? k.getBoundingClientRect().top : 0 }""")
                    if top > viewport["height"] * (1.6 if phone else 1):
                        problems.append(f"{role} {name}: key fields start at {top}px ({shot})")
        context.close()
        assert outside == [], outside
    assert not problems, "\n".join(problems)
