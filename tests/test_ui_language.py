"""The UI speaks one language: an admin's crawl of every menu page (and the add, show and
edit pages they link to) finds no English UI string in zh_CN and no Chinese one in English.

What people read is checked: visible text (not scripts), button values, titles,
placeholders. Data values are not UI strings: the crawl runs without demo data and strips
the values the database holds (user and role names everywhere; permission and view names
on the security pages that list them). Checked to fail: an untranslated FAB string in
zh_CN ("List Groups"), a Chinese string in the English catalogue.
"""
import re
from html.parser import HTMLParser

ENGLISH = re.compile(r"[A-Za-z]{2,}")
CHINESE = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")
# Not UI strings: file formats, units, keys, acronyms; booleans and None as FAB prints a
# value; HH:MM and formula functions/names, which people type as shown.
ALLOWED_ENGLISH = {"CSV", "PDF", "Excel", "ID", "API", "Houqin", "URL", "PIN", "QR", "SHA", "JSON",
                   "True", "False", "None", "HH", "MM", "min", "max", "if", "round", "abs", "score",
                   "mg", "KB", "Esc", "F2", "PNG", "JPEG", "LDAP", "OID"}
MACHINE_VALUE = re.compile(r"[A-Za-z_]+（|__None")     # a value to type, glossed in Chinese: "tcm（药膳）"


class VisibleText(HTMLParser):
    SKIP = {"script", "style", "noscript", "template"}

    def __init__(self):
        super().__init__()
        self.texts, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self._skip += 1
        for name in ("title", "placeholder", "aria-label", "alt", "data-original-title"):
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.texts.append(attrs["value"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


# Pages that list permissions and views as data: their names are values there (only there:
# FAB's own menu labels, e.g. "List Groups", are view names too and must be translated).
SECURITY_DATA_PAGES = ("/roles/", "/permissions/", "/viewmenus/", "/permissionviews/")


def _data_values(app):
    """(strings the database holds, those shown as data on the security pages), longest first."""
    from erp_core.extensions import db
    from modules.counter.views import DISINFECTION_METHODS     # presets recorded as typed
    sm = app.appbuilder.sm
    with app.app_context():
        values = set(app.config["APP_NAME"].split()) | {v["name"] for v in app.config["LANGUAGES"].values()}
        values |= set(DISINFECTION_METHODS)
        for u in db.session.query(sm.user_model):
            values |= {u.username, u.first_name, u.last_name, u.email, f"{u.first_name} {u.last_name}"}
        values |= {r.name for r in db.session.query(sm.role_model)}
        security = {p.name for p in db.session.query(sm.permission_model)}
        security |= {v.name for v in db.session.query(sm.viewmenu_model)}
        security |= {str(pv) for pv in db.session.query(sm.permissionview_model)}    # "can read on Loan"

    def longest_first(strings):
        return sorted((v for v in strings if v), key=len, reverse=True)
    return longest_first(values), longest_first(values | security)


def _menu_urls(app):
    with app.test_request_context():
        urls = []
        for category in app.appbuilder.menu.get_list():
            for item in category.childs or [category]:
                if item.name != "-" and item.get_url():
                    urls.append(item.get_url())
    return urls


def crawl(app, client):
    """{url: [UI text]} for every menu page, plus the first add/show/edit page each links to."""
    pages, todo = {}, _menu_urls(app)
    while todo:
        url = todo.pop(0)
        if url in pages or not url.startswith("/"):
            continue
        resp = client.get(url)
        if resp.status_code != 200 or "text/html" not in resp.content_type:
            continue
        parser = VisibleText()
        parser.feed(resp.get_data(as_text=True))
        pages[url] = parser.texts
        if url in _menu_urls(app):      # one level deep: the widgets a list page leads to
            for kind in ("/add", "/show/", "/edit/"):
                link = next((h for h in parser.links if kind in h and "/api/" not in h), None)
                if link:
                    todo.append(link.split("?")[0])
    return pages


def _offending(app, pages, bad_words):
    """{text: url} of the UI texts in which ``bad_words(text)`` finds something."""
    values, security_values = _data_values(app)
    found = {}
    for url, texts in pages.items():
        for text in texts:
            rest = MACHINE_VALUE.sub(" ", text)
            for value in (security_values if url.startswith(SECURITY_DATA_PAGES) else values):
                rest = rest.replace(value, " ")
            if bad_words(rest):
                found.setdefault(text, url)
    return found


def english_words(text):
    return [w for w in ENGLISH.findall(text) if w not in ALLOWED_ENGLISH]


def chinese_without_english(text):
    # An English help text may cite Chinese data as examples ("e.g. 花生, 海鲜"); a string
    # left in Chinese has no English word at all.
    return CHINESE.findall(text) if not ENGLISH.search(text) else []


def test_every_admin_page_in_chinese_has_no_english_ui_string(app, client, login_as):
    login_as("Admin")
    pages = crawl(app, client)
    assert len(pages) > 15, sorted(pages)
    found = _offending(app, pages, english_words)
    assert not found, "English on zh_CN pages:\n" + "\n".join(f"{u}: {t!r}" for t, u in sorted(found.items()))


def test_every_admin_page_in_english_has_no_chinese_ui_string(app, client, login_as):
    login_as("Admin")
    client.get("/lang/en")
    pages = crawl(app, client)
    assert len(pages) > 15, sorted(pages)
    found = _offending(app, pages, chinese_without_english)
    assert not found, "Chinese on English pages:\n" + "\n".join(f"{u}: {t!r}" for t, u in sorted(found.items()))
