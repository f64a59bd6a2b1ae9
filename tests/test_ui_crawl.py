"""Issue 17: pages as people read them. Logged in as every demo role (with the demo data
loaded), walk every menu entry of that role and the first show page of every list it
reaches; every link answers 200, and no page shows raw values: Python reprs, True/False/
None, choice codes, seconds fractions or ISO ``T`` times."""
import html
import re
from html.parser import HTMLParser

import pytest

from erp_core.display import choices_of
from erp_core.permissions import declared_roles

REPR = re.compile(r"<[A-Z][A-Za-z]+ [^>]*>|\[<|InstrumentedList|object at 0x")
BOOL = re.compile(r"(?<![\w.])(True|False|None)(?![\w.])")
ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
FRACTION = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")
OFFSET = re.compile(r"\d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2}")


class _Cells(HTMLParser):
    """Visible text, with table cells and definition values collected separately."""

    def __init__(self):
        super().__init__()
        self.text, self.cells, self.links = [], [], []
        self._skip = 0
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        if tag in ("td", "dd"):
            self._cell = []
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea") and self._skip:
            self._skip -= 1
        if tag in ("td", "dd") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(body):
    p = _Cells()
    p.feed(body)
    return p


def raw_values(body, codes):
    """The raw values a page shows (empty list when it reads well)."""
    p = parse(body)
    text = html.unescape(" ".join(p.text))
    found = []
    for name, rx in (("repr", REPR), ("bool/None", BOOL), ("ISO T time", ISO_T), ("seconds fraction", FRACTION),
                     ("UTC offset", OFFSET)):
        m = rx.search(text)
        if m:
            found.append(f"{name}: …{text[max(0, m.start() - 40):m.end() + 20]!r}")
    for cell in p.cells:
        if cell in codes:
            found.append(f"code in a cell: {cell!r}")
    return found


def choice_codes(app):
    """Every choice code (and workflow state name) the pages must show as a label; a code
    that is also a record's own ``code`` (the diet "tcm") is data, not a choice."""
    from sqlalchemy import select
    from erp_core.extensions import db
    codes, data_codes = set(), set()
    with app.app_context():
        for doc in app.extensions["houqin"].documents:
            if "code" in doc.__table__.c:
                data_codes |= set(db.session.scalars(select(doc.__table__.c.code)))
    for doc in app.extensions["houqin"].documents:
        for field in list((getattr(doc.__dict__.get("Meta"), "choices", None) or {})) + ["workflow_state"]:
            for code in (choices_of(doc, field) or {}):
                if isinstance(code, str) and re.fullmatch(r"[a-z][a-z_]+", code):
                    codes.add(code)
    return codes - data_codes


def menu_links(app, body):
    """Links of the navigation menu in a page (the app's own, not language/logout)."""
    nav = body.split('<ul class="nav navbar-nav">', 1)[-1].split("navbar-right", 1)[0]
    out = []
    for href in parse(nav).links:
        if href.startswith("/") and not href.startswith(("/lang/", "/logout", "/users/userinfo", "/resetmypassword",
                                                          "/login")) and "#" not in href and href != "/":
            out.append(href)
    return list(dict.fromkeys(out))


@pytest.fixture
def demo(app):
    from erp_core.demo import load_demo
    from erp_core.demo import role_username
    with app.app_context():
        password = load_demo(app).password     # every demo user shares it
    return password


def demo_users(app):
    from erp_core.demo import role_username
    roles = sorted(r for r in declared_roles(app) if not r.startswith("Sample"))
    return [(r, role_username(r)) for r in roles] + [("Admin", "admin")]


def login(client, username, password):
    client.get("/logout/")
    resp = client.post("/login/", data={"username": username, "password": password})
    assert resp.status_code == 302 and "/login" not in resp.location, username


def test_every_menu_page_and_first_show_page_reads_as_people_read(app, demo):
    client = app.test_client()
    codes = choice_codes(app)
    assert {"open", "comprehensive", "picked_up", "cash"} <= codes   # the test knows the codes it hunts
    problems, visited = [], 0
    for role, username in demo_users(app):
        login(client, username, demo)
        home = client.get("/")
        assert home.status_code == 200, role
        body = home.get_data(as_text=True)
        problems += [f"{role} /: {p}" for p in raw_values(body, codes)]
        for href in menu_links(app, body):
            resp = client.get(href)
            visited += 1
            if resp.status_code != 200:
                problems.append(f"{role} {href}: {resp.status_code}")
                continue
            page = resp.get_data(as_text=True)
            problems += [f"{role} {href}: {p}" for p in raw_values(page, codes)]
            shows = [h for h in parse(page).links if "/show/" in h]
            if shows:
                show = client.get(shows[0])
                visited += 1
                if show.status_code != 200:
                    problems.append(f"{role} {shows[0]}: {show.status_code}")
                else:
                    problems += [f"{role} {shows[0]}: {p}" for p in raw_values(show.get_data(as_text=True), codes)]
    assert visited > 50
    assert not problems, "\n".join(problems[:80]) + f"\n({len(problems)} problems)"


def test_the_crawl_detects_raw_values():
    """The detector itself: each kind of raw value is caught, a readable page is not."""
    codes = {"open", "picked_up"}
    assert raw_values("<td>&lt;Dish DISH-0001&gt;</td>", codes)
    assert raw_values("<td>True</td>", codes)
    assert raw_values("<td>None</td>", codes)
    assert raw_values("<td>2026-11-26T15:09</td>", codes)
    assert raw_values("<td>2026-11-26 15:09:45.730945+08:00</td>", codes)
    assert raw_values("<td>open</td>", codes)
    assert raw_values("<dd>picked_up</dd>", codes)
    assert not raw_values("<td>¥420,000.00</td><td>是</td><td>2026-11-26 15:09</td><td>公开招标</td>"
                          "<script>var x = true, y = None;</script>", codes)


HOME_LINK = re.compile(r'class="(?:houqin-waiting-item[^"]*|btn btn-default btn-lg houqin-screen|houqin-list-link)" href="([^"]+)"')


def test_no_demo_role_sees_an_empty_home_and_every_home_link_opens(app, demo):
    """Every demo role's home names what waits for it (counts that open the filtered list
    with that many rows) or the screens it works in; each link answers 200."""
    client = app.test_client()
    problems, homes = [], {}
    for role, username in demo_users(app):
        login(client, username, demo)
        resp = client.get("/")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200, (role, resp.status_code, body[:500])
        homes[role] = body
        links = HOME_LINK.findall(body)
        if not links and "houqin-widget " not in body:
            problems.append(f"{role}: empty home " + body[body.find("houqin-title"):][:300])
        for href in links:
            resp = client.get(html.unescape(href))
            if resp.status_code != 200:
                problems.append(f"{role} {href}: {resp.status_code}")
        for href, count in re.findall(r'class="houqin-waiting-item[^"]*" href="([^"]+)"><span class="houqin-count">(\d+)<', body):
            page = client.get(html.unescape(href)).get_data(as_text=True)
            shown = re.search(r"</strong>\s*(\d+)", page)
            if not shown or shown.group(1) != count:
                problems.append(f"{role} {href}: home says {count}, the list shows {shown and shown.group(1)}")
    assert not problems, "\n".join(problems)
    # the screens the issue names are reached from the home of the roles that work in them
    assert 'href="/vendor_contracts/inspect/"' in homes["Inspector"]
    assert 'href="/counter/"' in homes["Front Desk"]
    assert "/procurement/scoring" in homes["Evaluation Expert"]


def test_working_pages_come_before_set_up_entries_in_every_menu(app):
    """On a phone the menu is one column: in every category, no working page (a screen, or
    a document with a workflow) comes after a set-up list (master data)."""
    from erp_core.views import DocumentView

    def rank(item):
        view = item.baseview
        if not isinstance(view, DocumentView):
            return 0
        meta = view.datamodel.obj._meta
        return 1 if meta.workflow or meta.submittable else 2
    for category in app.appbuilder.menu.get_list():
        if category.name == "Security" or not category.childs:
            continue
        ranks = [rank(i) for i in category.childs if i.baseview is not None]
        assert ranks == sorted(ranks), (category.name, [i.name for i in category.childs])
