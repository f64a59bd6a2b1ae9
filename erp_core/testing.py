"""pytest plugin (entry point ``houqin``): app, session, client, login_as(role), api_token(role).

The database comes from ``DATABASE_URL`` (default: a SQLite file in the test's tmp dir).
On PostgreSQL a fresh database is created for the run and dropped afterwards. The schema
is built by the real migrations; each test that uses the app starts from empty business
tables (roles and test users survive), so tests are isolated and may commit, use threads
and several connections (the concurrency tests need real commits).
"""
import os
import re
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PASSWORD = "test-Password-1"


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (skipped on SQLite)")


def _database(tmp_path_factory):
    from .config import database_url
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}", None
    url = make_url(database_url())
    if url.get_backend_name() != "postgresql":
        return str(url), None
    name = f"houqin_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _isolated_client_class():
    from flask.testing import FlaskClient

    class IsolatedClient(FlaskClient):
        """Each request in a fresh app context, as in production. Otherwise a test holding
        an app context (the ``session`` fixture) makes every request share one ``g``, and
        Flask-Login's cached user of one request leaks into the next."""

        def open(self, *args, **kwargs):
            with self.application.app_context():
                return super().open(*args, **kwargs)
    return IsolatedClient


@pytest.fixture(scope="session")
def houqin_config():
    """Override in a conftest to pass config to the test app."""
    return {}


@pytest.fixture(scope="session")
def app(houqin_config, tmp_path_factory):
    from . import permissions
    from .app import create_app
    from .config import TestConfig
    from .extensions import db
    url, pg = _database(tmp_path_factory)
    anchors = tmp_path_factory.mktemp("audit") / "audit_anchors.jsonl"
    files = tmp_path_factory.mktemp("attachments")
    application = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url,
                             **{"HOUQIN_AUDIT_ANCHOR_FILE": str(anchors), "HOUQIN_ATTACHMENTS": str(files),
                                **houqin_config})
    application.test_client_class = _isolated_client_class()
    with application.app_context():
        prepare_database(application)
        roles = list(permissions.declared_roles(application)) + ["Admin"]
    for role in roles:          # up front: creating users mid-test would contend with its open transaction
        ensure_user(application, role)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg:
        engine, name = pg
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def prepare_database(app):
    """Migrate, add the tables of test-only modules (they ship no migrations), sync roles."""
    from flask_appbuilder import Model
    from . import migrate, permissions
    from .extensions import db
    migrate.upgrade(app)
    owners = migrate.table_owner(app)
    existing = set(db.inspect(db.engine).get_table_names())
    extra = [t for n, t in Model.metadata.tables.items() if n in owners and n not in existing]
    Model.metadata.create_all(db.engine, tables=extra)
    permissions.sync(app)


def _business_tables(app):
    from flask_appbuilder import Model
    from .migrate import table_owner
    owners = table_owner(app)
    return [t for t in reversed(Model.metadata.sorted_tables) if t.name in owners and not t.name.startswith("ab_")]


@pytest.fixture(autouse=True)
def _houqin_clean(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from .extensions import db
    with app.app_context():
        db.session.rollback()
        tables = _business_tables(app)
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(t.delete())
        db.session.remove()
    # the audit anchors describe the rows just deleted
    anchors = app.config.get("HOUQIN_AUDIT_ANCHOR_FILE")
    if anchors and os.path.exists(anchors):
        os.remove(anchors)


@pytest.fixture
def session(app):
    """The app's SQLAlchemy session inside an app context."""
    from .extensions import db
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


def username_for(role):
    return "t_" + re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_")


def ensure_user(app, role, username=None):
    """A user holding ``role`` (created once per test run)."""
    from .extensions import db
    username = username or username_for(role)
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=username)
        if user is None:
            role_obj = sm.find_role(role) or sm.add_role(role)
            user = sm.add_user(username, role, "Test", f"{username}@test.local", role_obj, password=PASSWORD)
            if not user:
                raise RuntimeError(f"could not create test user for {role}")
        db.session.expunge_all()
    return username


@pytest.fixture
def login_as(app, client):
    """``login_as("Front Desk")`` signs the test client in as a user with that role."""
    def _login(role, c=None, username=None):
        c = c or client
        name = ensure_user(app, role, username)
        c.get("/logout/")
        resp = c.post("/login/", data={"username": name, "password": PASSWORD})
        assert resp.status_code == 302, f"login as {role} failed"
        return name
    return _login


@pytest.fixture
def api_token(app, client):
    """``api_token("Inspector")`` -> headers with a JWT for a user with that role."""
    def _token(role, username=None):
        name = ensure_user(app, role, username)
        # a separate client: FAB's login API also sets a session cookie, which would win over the JWT
        resp = app.test_client().post("/api/v1/security/login",
                           json={"username": name, "password": PASSWORD, "provider": "db", "refresh": False})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return {"Authorization": f"Bearer {resp.json['access_token']}"}
    return _token


@pytest.fixture
def travel():
    """``travel(days=3)`` moves ``erp_core.types.now()`` forward (cumulative); reset after the test."""
    from datetime import timedelta
    from . import types

    def _travel(**delta):
        types.CLOCK_OFFSET += timedelta(**delta)
    yield _travel
    types.CLOCK_OFFSET = timedelta(0)


def get_user(app, role):
    from .extensions import db
    name = ensure_user(app, role)
    return app.appbuilder.sm.find_user(username=name)


def is_postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 (a free port) in a thread, for browser tests. Yields its base URL."""
    import threading
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def artifacts(request):
    """A directory kept after the run for what a test wants people to look at (screenshots):
    ``$HOUQIN_TEST_ARTIFACTS`` (default ``build/test-artifacts``) / database / the test's name,
    emptied first."""
    import os
    import shutil
    from pathlib import Path
    root = Path(os.environ.get("HOUQIN_TEST_ARTIFACTS") or Path(__file__).resolve().parent.parent / "build" / "test-artifacts")
    kind = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
    path = root / kind / request.node.name          # the two CI runs side by side keep their own
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download is impossible here)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=os.environ.get("HOUQIN_CHROMIUM", "/usr/bin/chromium"),
                               args=["--disable-background-networking", "--disable-component-update",
                                     "--no-first-run", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page recording requests that leave the app's origin, console errors and
    failed responses: ``page.outside``, ``page.console_errors``, ``page.failed`` (lists)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    p = context.new_page()
    p.outside, p.console_errors, p.failed = [], [], []
    p.on("response", lambda r: p.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    p.on("request", lambda r: p.outside.append(r.url)
         if not r.url.startswith((live_server, "data:", "blob:")) else None)
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.base_url = live_server
    yield p
    context.close()


def browser_login(page, app, role):
    """Sign the browser page in as a user holding ``role``."""
    name = ensure_user(app, role)
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")
    return name


def parallel(n, fn, timeout=120):
    """Run ``fn(i)`` for i in range(n) in n threads released together; returns the results
    (an exception raised by ``fn`` is returned in its place)."""
    import threading
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn(i)
        except Exception as exc:     # reported to the test, not lost in the thread
            results[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


def wait_until(page, expression, timeout=10):
    """Poll a JavaScript expression until it is true. Playwright's ``wait_for_function``
    evaluates its string with eval inside the page, which the app's CSP (no 'unsafe-eval')
    refuses; ``page.evaluate`` goes through the DevTools protocol and is not affected."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)
