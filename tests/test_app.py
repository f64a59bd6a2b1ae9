"""The shell: dashboard widgets, settings, CSRF, no external resources, 4xx pages, CLI check."""
import re
import subprocess

from click.testing import CliRunner

from erp_core.cli import cli
from erp_core.models import Settings


def test_dashboard_shows_widgets_the_role_may_read(client, login_as):
    login_as("Sample Own")
    page = client.get("/").get_data(as_text=True)
    assert 'data-widget="sample_count"' in page and 'data-widget="sample_bars"' not in page
    login_as("Sample Clerk")
    page = client.get("/").get_data(as_text=True)
    assert 'data-widget="sample_bars"' in page and "<svg" in page


def test_anonymous_home_goes_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_pages_load_nothing_from_outside(client, login_as):
    login_as("Admin")
    for url in ("/", "/sample/sample_request/list/", "/sample/sample_request/add", "/settings/"):
        html = client.get(url).get_data(as_text=True)
        external = re.findall(r'(?:src|href)=["\'](?:https?:)?//[^"\']+', html)
        assert not external, (url, external)


def test_settings_page_saves_and_validates(client, login_as, session):
    login_as("Sample Clerk")
    assert client.get("/settings/").status_code == 403
    login_as("Admin")
    assert client.post("/settings/", data={"hospital_name": ""}).status_code == 422
    resp = client.post("/settings/", data={"hospital_name": "测试医院", "department_name": "后勤处",
                                           "address": "", "phone": ""})
    assert resp.status_code == 302
    assert session.get(Settings, 1).hospital_name == "测试医院"
    # each counter's paper: an 80 mm roll for sales receipts, labels for storage tags; nonsense ignored
    assert 'name="paper__convenience.receipt"' in client.get("/settings/").get_data(as_text=True)
    client.post("/settings/", data={"hospital_name": "测试医院", "paper__convenience.receipt": "receipt80",
                                    "paper__convenience.storage_tag": "label", "paper__rentals.receipt": "label"})
    session.expire_all()
    assert session.get(Settings, 1).papers == {"convenience.receipt": "receipt80", "convenience.storage_tag": "label"}


def test_csrf_is_required_for_cookie_writes_but_not_for_jwt(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        from erp_core.testing import ensure_user, PASSWORD
        user = ensure_user(app, "Sample Clerk")
        page = client.get("/login/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/login/", data={"username": user, "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
        refused = client.post("/api/v1/sample_request/", json={"title": "x", "amount": "1"})
        assert refused.status_code == 400
        jwt = app.test_client().post("/api/v1/security/login", json={
            "username": user, "password": PASSWORD, "provider": "db"})
        assert jwt.status_code == 200
        ok = client.post("/api/v1/sample_request/", json={"title": "x", "amount": "1"},
                         headers={"Authorization": f"Bearer {jwt.json['access_token']}"})
        assert ok.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_check_command_reports_fonts_and_schema(app):
    result = CliRunner().invoke(cli, ["check"], obj=app)
    assert result.exit_code == 0, result.output
    assert "CJK font" in result.output and "HarfBuzz" in result.output and "database" in result.output


def test_print_command_batches_into_one_pdf(app, session, tmp_path):
    from decimal import Decimal
    from pypdf import PdfReader
    from tests.sample_module.models import SampleRequest
    session.add_all([SampleRequest(title=f"批量{i}", amount=Decimal("1")) for i in range(3)])
    session.commit()
    out = tmp_path / "batch.pdf"
    result = CliRunner().invoke(cli, ["print", "sample.request", "--all", "-o", str(out), "-j", "2"], obj=app)
    assert result.exit_code == 0, result.output
    assert len(PdfReader(str(out)).pages) == 3
    bad = CliRunner().invoke(cli, ["print", "sample.request", "NOPE-1", "-o", str(out)], obj=app)
    assert bad.exit_code != 0 and "not found" in bad.output


def test_demo_data_loads_once_and_every_demo_user_keeps_one_password(app, session, tmp_path, monkeypatch):
    from werkzeug.security import check_password_hash
    from erp_core.demo import load_demo, role_username
    from erp_core.permissions import declared_roles
    monkeypatch.delenv("HOUQIN_DEMO_PASSWORD", raising=False)
    monkeypatch.setitem(app.config, "HOUQIN_DEMO_PASSWORD_FILE", str(tmp_path / "demo_password"))
    demo = load_demo(app)
    assert demo.data_loaded and session.get(Settings, 1).hospital_name
    assert demo.users == ["admin"] + [role_username(r) for r in declared_roles(app)]
    again = load_demo(app)
    assert not again.data_loaded and again.password == demo.password   # kept in the instance folder
    monkeypatch.setenv("HOUQIN_DEMO_PASSWORD", "chosen-Password-1")
    assert load_demo(app).password == "chosen-Password-1"
    session.expire_all()
    for name in demo.users:     # every demo user follows the changed password, not only admin
        assert check_password_hash(app.appbuilder.sm.find_user(username=name).password, "chosen-Password-1"), name


def test_a_form_login_logs_no_invalid_redirect(app, client, caplog):
    from erp_core.testing import PASSWORD, ensure_user
    name = ensure_user(app, "Sample Clerk")
    caplog.set_level("WARNING")
    login_page = client.get("/").headers["Location"]          # where an anonymous visitor is sent
    assert client.get(login_page).status_code == 200
    resp = client.post(login_page, data={"username": name, "password": PASSWORD})   # the form posts to its page
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    client.get("/logout/")
    resp = client.post("/login/", data={"username": name, "password": PASSWORD})   # opened without ?next
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert not [r for r in caplog.records if "Invalid redirect" in r.getMessage()]
    client.get("/logout/")
    resp = client.post("/login/?next=http://elsewhere.invalid/", data={"username": name, "password": PASSWORD})
    assert resp.headers["Location"] == "/"                    # a foreign target is still refused


def test_permission_sync_is_quiet_with_nothing_to_do_and_says_in_one_line_what_it_changed(app, caplog):
    from erp_core import permissions
    caplog.set_level("WARNING")
    with app.app_context():
        sm = app.appbuilder.sm
        assert permissions.sync(app) is None
        role = sm.find_role("Sample Clerk")
        role.permissions = role.permissions[1:] + [sm.add_permission_view_menu("can_fly", "SampleRequest")]
        sm.session.commit()
        assert permissions.sync(app) == "permissions: 0 added, 1 removed; updated Sample Clerk"
        assert sm.find_permission_view_menu("can_fly", "SampleRequest") is None
        assert permissions.sync(app) is None
    assert not [r for r in caplog.records if r.levelno >= 30], [r.getMessage() for r in caplog.records]


def test_print_command_prints_keyed_formats_and_says_how(app, session, tmp_path):
    from pypdf import PdfReader
    out = tmp_path / "keyed.pdf"
    ok = CliRunner().invoke(cli, ["print", "sample.blank", "--all", "-o", str(out)], obj=app)
    assert ok.exit_code == 0, ok.output
    assert len(PdfReader(str(out)).pages) == 1
    assert CliRunner().invoke(cli, ["print", "sample.blank", "blank", "-o", str(out)], obj=app).exit_code == 0
    day = CliRunner().invoke(cli, ["print", "rentals.cash_summary", "-o", str(out)], obj=app)
    assert day.exit_code != 0 and "--date YYYY-MM-DD" in day.output
    month = CliRunner().invoke(cli, ["print", "vendor_contracts.settlement", "-o", str(out)], obj=app)
    assert month.exit_code != 0 and "--period YYYY-MM" in month.output
    bad = CliRunner().invoke(cli, ["print", "rentals.cash_summary", "--date", "2026-13-01", "-o", str(out)], obj=app)
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    docs = CliRunner().invoke(cli, ["print", "sample.request", "-o", str(out)], obj=app)
    assert docs.exit_code != 0 and "document numbers" in docs.output


def test_print_app_starts_without_appbuilder(app, session):
    from decimal import Decimal
    from erp_core import printing
    from erp_core.app import create_print_app
    from tests.sample_module.models import SampleRequest
    session.add(SampleRequest(title="轻量打印", amount=Decimal("2")))
    session.commit()
    light = create_print_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                              "HOUQIN_EXTRA_MODULES": app.config["HOUQIN_EXTRA_MODULES"]})
    assert "appbuilder" not in light.extensions and len(light.view_functions) < 20
    assert {f.name for f in light.extensions["houqin_print"]} == {f.name for f in app.extensions["houqin_print"]}
    with light.app_context(), light.test_request_context():
        from erp_core.extensions import db
        fmt = light.extensions["houqin_print"].get("sample.request")
        doc = db.session.query(SampleRequest).filter_by(title="轻量打印").one()
        pdf = printing.render_pdf(fmt, doc)
    assert "轻量打印" in subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
