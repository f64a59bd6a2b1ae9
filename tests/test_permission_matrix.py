"""Walk every registered endpoint for every role (and anonymous): what a role can reach must
equal what the modules declared — no more, no less — and nothing may answer 500.

Generic on purpose: endpoints, roles and print formats are read from the running app, so a
module added later is covered without editing this file.
"""
import pytest
from werkzeug.routing import IntegerConverter, PathConverter

from erp_core.permissions import declared_roles, role_pairs
from erp_core.testing import ensure_user, PASSWORD

PUBLIC = {"AuthDBView.login", "AuthDBView.logout", "LocaleView.index", "UtilView.back",
          "SecurityApi.login", "SecurityApi.refresh", "DashboardView.index", "static",
          "appbuilder.static", "OpenApi.get",
          "TokenSessionApi.logout"}   # any token holder ends its own session (erp_core.websecurity)


def _views(app):
    return {type(v).__name__: v for v in app.appbuilder.baseviews}


def _url(rule):
    args = {}
    for name, conv in rule._converters.items():
        args[name] = 999999 if isinstance(conv, IntegerConverter) else "zz_sep_zz"  # FAB download names hold _sep_
    return rule.build(args, append_unknown=False)[1]


def protected_endpoints(app):
    """[(url, http method, (permission, view menu))] for every FAB-protected endpoint."""
    views, out, unknown = _views(app), [], []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in PUBLIC or endpoint.endswith(".static"):
            continue
        cls_name, _, method = endpoint.partition(".")
        view = views.get(cls_name)
        func = getattr(view, method, None) if view else None
        if func is None:
            unknown.append(endpoint)
            continue
        if getattr(func, "_houqin_dynamic", False):
            continue                               # checked in test_print_permissions
        if getattr(func, "_houqin_public", False):
            continue                               # open on purpose (erp_core.permissions.public)
        if not hasattr(func, "_permission_name"):
            if method in ("action", "action_post") and func.__func__.__module__.startswith("flask_appbuilder."):
                continue                           # FAB's own bulk actions check each action inside
                                                   # (also on erp_core's subclasses of its security views)
            unknown.append(endpoint)
            continue
        perm = "can_" + ((view.method_permission_name or {}).get(method) or func._permission_name)
        http = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        # a method the view does not offer (e.g. FAB's read-only permission lists) is closed to all
        pair = (perm, view.class_permission_name) if perm in view.base_permissions else None
        out.append((_url(rule), http, pair))
    assert not unknown, f"endpoints without a permission: {unknown}"
    return out


def _request(client, url, http, headers=None):
    kwargs = {"json": {}} if url.startswith("/api/") and http != "GET" else {}
    return client.open(url, method=http, headers=headers or {}, **kwargs)


def _allowed(resp):
    assert resp.status_code != 500, resp.get_data(as_text=True)[:500]
    if resp.status_code in (401, 403):
        return False
    if resp.status_code == 302 and "/login" in resp.headers.get("Location", ""):
        return False
    return True


def roles_under_test(app):
    with app.app_context():
        return sorted(declared_roles(app)) + ["Admin"]


def test_every_endpoint_is_protected_or_public(app):
    with app.test_request_context():
        assert protected_endpoints(app)


def test_public_pages_answer_without_a_login(app):
    """Pages marked ``public`` (e.g. a published price list) open without a login and never fail."""
    client = app.test_client()
    views = _views(app)
    for rule in app.url_map.iter_rules():
        cls_name, _, method = rule.endpoint.partition(".")
        func = getattr(views.get(cls_name), method, None)
        if getattr(func, "_houqin_public", False) and "GET" in rule.methods and not rule.arguments:
            assert client.get(rule.rule).status_code == 200, rule.rule


def test_anonymous_reaches_no_protected_endpoint(app):
    client = app.test_client()
    with app.test_request_context():
        endpoints = protected_endpoints(app)
    leaks = [(u, m) for u, m, _p in endpoints if _allowed(_request(client, u, m))]
    assert not leaks


def test_each_role_reaches_exactly_what_it_declares(app):
    with app.app_context():
        declared = declared_roles(app)
    with app.test_request_context():
        endpoints = protected_endpoints(app)
    mismatches = []
    for role in roles_under_test(app):
        username = ensure_user(app, role)
        client = app.test_client()
        assert client.post("/login/", data={"username": username, "password": PASSWORD}).status_code == 302
        expected_pairs = None if role == "Admin" else role_pairs(declared[role])
        for url, http, pair in endpoints:
            expected = pair is not None and (expected_pairs is None or pair in expected_pairs)
            got = _allowed(_request(client, url, http))
            if got != expected:
                mismatches.append((role, http, url, pair, "allowed" if got else "refused"))
    assert not mismatches, "\n".join(map(str, mismatches[:40]))


def test_jwt_api_calls_follow_the_same_matrix(app):
    """The API with a bearer token instead of the session cookie."""
    with app.app_context():
        declared = declared_roles(app)
    with app.test_request_context():
        endpoints = [e for e in protected_endpoints(app) if e[0].startswith("/api/")]
    client = app.test_client()
    mismatches = []
    for role in roles_under_test(app):
        username = ensure_user(app, role)
        token = app.test_client().post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                            "provider": "db"}).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        expected_pairs = None if role == "Admin" else role_pairs(declared[role])
        for url, http, pair in endpoints:
            expected = pair is not None and (expected_pairs is None or pair in expected_pairs)
            if _allowed(_request(client, url, http, headers)) != expected:
                mismatches.append((role, http, url, pair))
    assert not mismatches, mismatches[:40]


def test_print_permissions(app):
    formats = list(app.extensions["houqin_print"])
    assert formats
    with app.app_context():
        declared = declared_roles(app)
    anonymous = app.test_client()
    for role in roles_under_test(app):
        client = app.test_client()
        client.post("/login/", data={"username": ensure_user(app, role), "password": PASSWORD})
        for fmt in formats:
            may = role == "Admin" or "print" in declared[role].get(fmt.permission, set())
            name = "blank-key" if fmt.model is None else "NO-SUCH-DOC"
            resp = client.get(f"/print/{fmt.name}/{name}.pdf")
            assert resp.status_code != 500
            assert (resp.status_code != 403) == may, (role, fmt.name, resp.status_code)
            if may:
                assert resp.status_code in (200, 404), (role, fmt.name, resp.status_code)
            assert not _allowed(anonymous.get(f"/print/{fmt.name}/{name}.pdf"))
