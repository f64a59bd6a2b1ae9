"""Login limits shared by form and token login, server-side sessions, password change,
security headers (issue 18.1)."""
import uuid

import pytest

from erp_core.testing import PASSWORD, ensure_user
from erp_core.websecurity import LoginLimiter, memory_store_warning, worker_count

API = "/api/v1/sample_request/"


@pytest.fixture
def limited(app):
    limiter = app.extensions["houqin_login_limiter"]
    limiter.storage.reset()
    app.config["HOUQIN_LOGIN_LIMIT_ENABLED"] = True
    yield limiter
    app.config["HOUQIN_LOGIN_LIMIT_ENABLED"] = False
    limiter.storage.reset()


def token_login(client, username, password, addr="10.0.0.1"):
    return client.post("/api/v1/security/login", environ_base={"REMOTE_ADDR": addr},
                       json={"username": username, "password": password, "provider": "db", "refresh": False})


def form_login(client, username, password, addr="10.0.0.1"):
    return client.post("/login/", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def test_token_login_is_limited_per_account(app, client, limited):
    name = ensure_user(app, "Sample Clerk")
    codes = [token_login(client, name, "wrong", addr=f"10.0.1.{i}").status_code for i in range(15)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    resp = token_login(client, name, PASSWORD, addr="10.0.2.1")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0 and resp.json["message"]


def test_form_and_token_login_share_one_counter(app, client, limited):
    name = ensure_user(app, "Sample Clerk")
    for _ in range(5):
        assert form_login(app.test_client(), name, "wrong").status_code == 302     # back to the form
    for _ in range(5):
        assert token_login(client, name, "wrong").status_code == 401
    assert form_login(app.test_client(), name, PASSWORD).status_code == 429
    assert token_login(client, name, PASSWORD).status_code == 429


def test_login_is_limited_per_client_address(app, client, limited):
    for i in range(50):
        token_login(client, f"nobody{i}", "x", addr="10.9.9.9")
    assert token_login(client, ensure_user(app, "Sample Clerk"), PASSWORD, addr="10.9.9.9").status_code == 429
    assert token_login(client, ensure_user(app, "Sample Clerk"), PASSWORD, addr="10.9.9.8").status_code == 200


def test_successful_login_clears_the_account_count(app, client, limited):
    name = ensure_user(app, "Sample Clerk")
    for _ in range(9):
        token_login(client, name, "wrong")
    assert token_login(client, name, PASSWORD).status_code == 200
    for _ in range(9):
        assert token_login(client, name, "wrong").status_code == 401


def test_limit_store_is_shared_between_workers_through_redis(app):
    """Two limiters on one Redis URI (as two gunicorn workers would have) count together."""
    uri = "redis://127.0.0.1:6379/15"
    try:
        import redis
        redis.Redis.from_url(uri).ping()
    except Exception:
        pytest.skip("no Redis at 127.0.0.1:6379")
    config = dict(app.config, RATELIMIT_STORAGE_URI=uri)
    worker_a, worker_b = LoginLimiter(type("A", (), {"config": config})()), LoginLimiter(type("B", (), {"config": config})())
    user = f"u-{uuid.uuid4().hex}"
    for i in range(10):
        assert (worker_a if i % 2 else worker_b).hit(user, f"a{i}") == 0
    assert worker_a.hit(user, "z") > 0 and worker_b.hit(user, "y") > 0


def test_memory_store_with_several_workers_warns():
    assert worker_count(["/venv/bin/gunicorn", "-w", "4", "x:app"], {}) == 4
    assert worker_count(["/venv/bin/gunicorn", "--workers=3"], {}) == 3
    assert worker_count(["run.py"], {"GUNICORN_CMD_ARGS": "--workers 2"}) == 2
    assert worker_count(["run.py", "serve"], {}) == 1
    assert "Redis" in memory_store_warning("memory://", 4)
    assert memory_store_warning("memory://", 1) is None
    assert memory_store_warning("redis://127.0.0.1:6379", 4) is None


def can_sign_in(app, name, password):
    c = app.test_client()
    form_login(c, name, password)
    return c.get(API).status_code == 200


def _copy_cookie(src, dst):
    cookie = src.get_cookie("session")
    dst.set_cookie("session", cookie.value)


def test_copied_cookie_stops_working_after_logout(app, client, login_as):
    login_as("Sample Clerk")
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get(API).status_code == 200
    client.get("/logout/")
    assert thief.get(API).status_code == 401
    assert client.get(API).status_code == 401


def test_changing_password_needs_the_current_one_and_ends_other_sessions(app, client, login_as):
    name = login_as("Sample Clerk", username=f"pw_{uuid.uuid4().hex[:8]}")
    thief = app.test_client()
    _copy_cookie(client, thief)
    new = "New-Password-9x!"
    resp = client.post("/resetmypassword/form", data={"current_password": "wrong", "password": new,
                                                      "conf_password": new})
    assert resp.status_code == 200        # the form again, with the error
    assert not can_sign_in(app, name, new)
    assert thief.get(API).status_code == 200
    resp = client.post("/resetmypassword/form", data={"current_password": PASSWORD, "password": new,
                                                      "conf_password": new})
    assert resp.status_code == 302
    assert thief.get(API).status_code == 401          # the copied cookie is signed out
    assert client.get(API).status_code == 200         # the one who changed it stays in
    assert can_sign_in(app, name, new) and not can_sign_in(app, name, PASSWORD)


def test_admin_password_reset_ends_the_users_sessions(app, client, login_as):
    name = login_as("Sample Clerk", username=f"rs_{uuid.uuid4().hex[:8]}")
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=name)
        app.appbuilder.sm.reset_password(user.id, "Another-Passw0rd!")
    assert client.get(API).status_code == 401


@pytest.mark.parametrize("path", ["/login/", API, "/api/v1/_openapi"])
def test_security_headers(client, path):
    h = client.get(path).headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert h["X-Frame-Options"] == "SAMEORIGIN"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"


# --- JWT: a token login is a server-side session too ----------------------------------------

def _tokens(app, name, password=PASSWORD):
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": name, "password": password, "provider": "db", "refresh": True})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return ({"Authorization": f"Bearer {resp.json['access_token']}"},
            {"Authorization": f"Bearer {resp.json['refresh_token']}"})


def test_token_logout_revokes_its_access_and_refresh_tokens(app):
    name = ensure_user(app, "Sample Clerk", f"jw_{uuid.uuid4().hex[:8]}")
    access, refresh = _tokens(app, name)
    other, _ = _tokens(app, name)               # a second login (another device) is its own session
    c = app.test_client()
    assert c.get(API, headers=access).status_code == 200
    assert c.post("/api/v1/security/refresh", headers=refresh).status_code == 200
    assert c.post("/api/v1/security/logout", headers=access).status_code == 200
    assert c.get(API, headers=access).status_code == 401
    assert c.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    assert c.get(API, headers=other).status_code == 200
    assert c.post("/api/v1/security/logout").status_code == 401       # no token: nothing to end


def test_refreshed_token_belongs_to_the_same_session(app):
    name = ensure_user(app, "Sample Clerk", f"jr_{uuid.uuid4().hex[:8]}")
    access, refresh = _tokens(app, name)
    c = app.test_client()
    new = {"Authorization": f"Bearer {c.post('/api/v1/security/refresh', headers=refresh).json['access_token']}"}
    assert c.get(API, headers=new).status_code == 200
    c.post("/api/v1/security/logout", headers=refresh)
    assert c.get(API, headers=new).status_code == 401 and c.get(API, headers=access).status_code == 401


def test_password_change_revokes_the_users_tokens(app, client, login_as):
    name = login_as("Sample Clerk", username=f"jp_{uuid.uuid4().hex[:8]}")
    access, refresh = _tokens(app, name)
    c = app.test_client()
    assert c.get(API, headers=access).status_code == 200
    new = "New-Password-9x!"
    resp = client.post("/resetmypassword/form", data={"current_password": PASSWORD, "password": new,
                                                      "conf_password": new})
    assert resp.status_code == 302
    assert c.get(API, headers=access).status_code == 401
    assert c.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    fresh, _ = _tokens(app, name, new)
    assert c.get(API, headers=fresh).status_code == 200


def test_admin_password_reset_revokes_the_users_tokens(app):
    name = ensure_user(app, "Sample Clerk", f"ja_{uuid.uuid4().hex[:8]}")
    access, _ = _tokens(app, name)
    with app.app_context():
        app.appbuilder.sm.reset_password(app.appbuilder.sm.find_user(username=name).id, "Another-Passw0rd!")
    assert app.test_client().get(API, headers=access).status_code == 401


def test_token_without_a_session_is_refused(app):
    """A token signed with the app's key but naming no session (e.g. issued before sessions) is revoked."""
    from flask_jwt_extended import create_access_token
    name = ensure_user(app, "Sample Clerk", f"jn_{uuid.uuid4().hex[:8]}")
    with app.test_request_context():
        user = app.appbuilder.sm.find_user(username=name)
        forged = create_access_token(identity=str(user.id), additional_claims={"sid": "no-such-session"})
    assert app.test_client().get(API, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_permission_given_to_the_public_role_opens_the_api_without_login_and_only_that(app, client, session):
    """The public role's permissions are read from the request's cache (FAB asks on every call):
    granting one opens exactly that endpoint to anonymous callers; taking it back closes it."""
    sm = app.appbuilder.sm
    cls, api = next(iter(app.extensions["houqin"].apis.items()))
    other = list(app.extensions["houqin"].apis.values())[1]
    url, other_url = f"/api/v1/{api.resource_name}/", f"/api/v1/{other.resource_name}/"
    assert client.get(url).status_code == 401
    public = sm.get_public_role() or sm.add_role(app.config.get("AUTH_ROLE_PUBLIC", "Public"))
    pv = sm.find_permission_view_menu("can_read", api.class_permission_name)
    sm.add_permission_role(public, pv)
    try:
        assert client.get(url).status_code == 200
        assert client.get(other_url).status_code == 401
    finally:
        sm.del_permission_role(public, pv)
    assert client.get(url).status_code == 401
