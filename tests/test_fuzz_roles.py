"""Every endpoint walked as every demo role on the demo data (issue 18.3): nothing answers
5xx, and a role without the permission is refused (API: 403/404; pages: 403/404 or FAB's
redirect to the login page), whatever the body. Endpoints and roles come from the running
app (tests/test_permission_matrix.py), so a later module is walked without listing it.

Writes carry a hostile body (rotating through the fuzz values over the endpoint's fields), the
ids in URLs are real demo records (1) — so a permitted role reaches the business code with
bad input. Admin walks last (its deletes would empty the records for the others).

Bounded: each role walks every endpoint it is permitted, and one in ``HOUQIN_FUZZ_REFUSED_EVERY``
(default 16) of those it is not, rotating by role so each refusal path is still walked by several
roles (every refusal of every role, with an empty body, is walked by test_permission_matrix).
"""
import os
import itertools
import time

import pytest
from sqlalchemy import inspect as sa_inspect

from erp_core.permissions import declared_roles, role_pairs
from erp_core.testing import PASSWORD, ensure_user
from tests.test_fuzz_inputs import ACTION_KEYS, demo  # noqa: F401 - the demo fixture
from tests.test_permission_matrix import protected_endpoints, roles_under_test

VALUES = [1e309, "1e309", "NaN", 10 ** 30, "1.999", True, [1], {"a": 1}, "x" * 10001, "a\x00b", "9999-12-31",
          "abc", "", None, "(((", -1, "2026-02-30", "<script>", 2 ** 63, "0001-01-01"]
FIGURES = {}
REFUSED_EVERY = int(os.environ.get("HOUQIN_FUZZ_REFUSED_EVERY", "16"))


def _fields_by_api(app):
    out = {}
    for cls, api in app.extensions["houqin"].apis.items():
        cols = list(dict.fromkeys(list(api.add_columns) + list(api.edit_columns))) or ["name"]
        out[f"/api/v1/{api.resource_name}/"] = cols
    return out


def _body(url, counter, fields_by_api):
    fields = next((f for base, f in fields_by_api.items() if url.startswith(base)), ACTION_KEYS)
    n = next(counter)
    keys = [fields[(n + j) % len(fields)] for j in range(min(3, len(fields)))]
    body = {k: VALUES[(n * 3 + j) % len(VALUES)] for j, k in enumerate(keys)}
    body["version"] = ["abc", 1, "1.5", None][n % 4]
    return body


def _real_url(url):
    return url.replace("999999", "1")


def test_every_endpoint_as_every_demo_role(app, demo):  # noqa: F811
    with app.app_context():
        declared = declared_roles(app)
    with app.test_request_context():
        endpoints = protected_endpoints(app)
    fields_by_api, counter = _fields_by_api(app), itertools.count()
    roles = [r for r in roles_under_test(app) if r != "Admin"] + ["Admin"]
    if os.environ.get("HOUQIN_FUZZ_ROLES"):            # e.g. "Admin,Ward Nurse" to walk a few by hand
        roles = [r for r in roles if r in os.environ["HOUQIN_FUZZ_ROLES"].split(",")]
    problems, walked, started = [], 0, time.monotonic()
    for role in roles:
        username = ensure_user(app, role)
        page = app.test_client()
        assert page.post("/login/", data={"username": username, "password": PASSWORD}).status_code == 302
        api = app.test_client()
        token = api.post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                         "provider": "db"}).json["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        granted = None if role == "Admin" else role_pairs(declared[role])
        for i, (url, http, pair) in enumerate(endpoints):
            url = _real_url(url)
            is_api = url.startswith("/api/")
            permitted = pair is not None and (granted is None or pair in granted)
            if not permitted and (i + roles.index(role)) % REFUSED_EVERY:
                continue
            if is_api:
                kwargs = {"json": _body(url, counter, fields_by_api)} if http != "GET" else {}
                resp = api.open(url, method=http, headers=bearer, **kwargs)
            else:
                kwargs = {"data": {k: str(v)[:200] for k, v in _body(url, counter, fields_by_api).items()
                                   if v is not None}} if http != "GET" else {}
                resp = page.open(url, method=http, **kwargs)
            walked += 1
            code = resp.status_code
            if code >= 500:
                problems.append(f"{role} {http} {url} -> {code}: {resp.get_data(as_text=True)[:200]}")
            elif not permitted:
                to_login = code == 302 and "/login" in resp.headers.get("Location", "")
                if not (code in (403, 404) or (not is_api and to_login)):
                    problems.append(f"{role} {http} {url} without permission -> {code}")
    FIGURES.update(endpoints=len(endpoints), roles=len(roles), requests=walked, problems=len(problems),
                   seconds=round(time.monotonic() - started))
    print(f"\nrole walk: {len(endpoints)} endpoints x {len(roles)} roles: {walked} requests "
          f"in {FIGURES['seconds']} s; problems: {len(problems)}")
    assert not problems, "\n".join(problems[:60])
