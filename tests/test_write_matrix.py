"""The write matrix, generated from the registry (so a module added later is covered without
anyone remembering): for every registered document and every field people may not write, a
PUT, an edit-form POST and an import row are each refused and leave the row unchanged; for
every declared action, each role without its permission gets 403 and each disallowed state 409.

Rows come from the modules' demo data; the figures are printed for the closing note."""
import io
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, Numeric, inspect as sa_inspect, select

from erp_core import actions, fieldpolicy
from erp_core.document import SYSTEM_FIELDS, snapshot
from erp_core.permissions import declared_roles, role_pairs
from erp_core.testing import ensure_user, username_for


def _value_for(cls, field, session):
    """A JSON value that would change ``field`` if it were accepted."""
    mapper = sa_inspect(cls)
    if field in mapper.relationships:
        target = mapper.relationships[field].mapper.class_
        other = session.scalars(select(target).order_by(target.id.desc())).first()
        ident = getattr(other, "id", 1) if other is not None else 1
        return [ident] if mapper.relationships[field].uselist else ident
    col = mapper.column_attrs[field].columns[0]
    t = col.type
    if isinstance(t, Boolean):
        return True
    if isinstance(t, Integer):
        return 7
    if isinstance(t, Numeric):
        return "3.00"
    if isinstance(t, DateTime):
        return "2031-01-02T03:04:00+08:00"
    if isinstance(t, Date):
        return "2031-01-02"
    return "zz"


def _fields(cls):
    mapper = sa_inspect(cls)
    cols = [a.key for a in mapper.column_attrs
            if a.key not in ("id",) and not isinstance(a.columns[0].type, LargeBinary)]
    rels = [r.key for r in mapper.relationships if r.direction.name in ("MANYTOONE", "MANYTOMANY") and not r.viewonly]
    return cols + rels


def _state(session, doc):
    session.expire_all()
    fresh = session.get(type(doc), doc.id)
    return snapshot(fresh), {r.key: sorted(map(str, [getattr(o, "id", o) for o in (getattr(fresh, r.key) or [])]))
                             if r.uselist else getattr(getattr(fresh, r.key), "id", None)
                             for r in sa_inspect(type(doc)).relationships
                             if r.direction.name in ("MANYTOONE", "MANYTOMANY")}


def _rows(session, cls):
    return session.scalars(select(cls).order_by(cls.id)).all()


def test_no_generic_path_writes_a_field_people_may_not_write(app, session, client, api_token, login_as):
    from erp_core.demo import load_demo
    load_demo(app)
    ext = app.extensions["houqin"]
    admin_api = api_token("Admin")
    login_as("Admin")
    tried, uncovered, failures = 0, [], []
    for cls in ext.documents:
        if cls not in ext.apis:
            continue
        rows = _rows(session, cls)
        if not rows:
            uncovered.append(cls)
            continue
        meta, api = cls._meta, ext.apis[cls]
        view = getattr(cls, "_view", None)
        for doc in rows[:1] + [r for r in rows[1:] if r.docstatus != rows[0].docstatus][:1]:
            for field in _fields(cls):
                if field == "version" or fieldpolicy.reason(cls, doc, field, _admin(app), False) is None:
                    # version is the optimistic-lock token sent with every edit, not a field
                    continue          # writable now: not this test's business
                value = _value_for(cls, field, session)
                before = _state(session, doc)
                # 1. the REST API
                r = client.put(f"/api/v1/{meta.resource_name}/{doc.id}", json={field: value, "version": doc.version},
                               headers=admin_api)
                ok = r.status_code in (405, 404) or (r.status_code == 422 and field in (r.json or {}).get("fields", {}))
                # 2. the HTML edit form
                if view is not None:
                    url = f"/{ext.registry.module_of(cls).name}/{meta.resource_name}/edit/{doc.id}"
                    f = client.post(url, data={field: str(value[0] if isinstance(value, list) else value),
                                               "seen_version": doc.version})
                    ok = ok and f.status_code in (404, 405, 422)
                after = _state(session, doc)
                tried += 2
                if not ok or after != before:
                    failures.append(f"{cls.__name__}.{field} ({doc.name}): PUT {r.status_code}, "
                                    f"changed={after != before}")
        # 3. the import: a column naming a field people may not set on creation
        for field in _fields(cls):
            if field in SYSTEM_FIELDS or fieldpolicy.reason(cls, None, field, _admin(app), True) is None:
                continue
            n = len(_rows(session, cls))
            value = _value_for(cls, field, session)
            data = {"file": (io.BytesIO(f"{field}\n{value[0] if isinstance(value, list) else value}\n".encode()),
                             "rows.csv")}
            r = client.post(f"/api/v1/{meta.resource_name}/import/", data=data, headers=admin_api,
                            content_type="multipart/form-data")
            tried += 1
            session.expire_all()
            if r.status_code not in (404, 405, 422) or len(_rows(session, cls)) != n:
                failures.append(f"{cls.__name__}.{field}: import {r.status_code}")
    print(f"\nwrite matrix: {len(ext.documents)} documents, {tried} refused writes checked "
          f"(PUT + edit form per field and row, import per field); no demo row: {[c.__name__ for c in uncovered]}")
    assert not failures, "\n".join(failures)
    # a module's document people can write must come with demo rows, or this matrix cannot see it
    blind = [c.__name__ for c in uncovered if c._meta.fields and not ext.registry.module_of(c).package.startswith("tests.")]
    assert not blind, f"no demo data to check the write policy of: {blind}"


def _admin(app):
    return app.appbuilder.sm.find_user(username=username_for("Admin"))


def test_every_action_refuses_roles_without_its_permission_and_disallowed_states(app, session, client, api_token):
    from erp_core.demo import load_demo
    load_demo(app)
    ext = app.extensions["houqin"]
    roles = declared_roles(app)
    refused, states_checked, failures, no_row = 0, 0, [], []
    tokens = {}
    for spec in actions.REGISTRY:
        if spec.doc is not None and spec.doc not in ext.apis:
            continue
        doc_rows = _rows(session, spec.doc) if spec.doc is not None else []
        for role, perms in roles.items():
            if (f"can_{spec.permission}", spec.perm_name) in role_pairs(perms):
                continue
            headers = tokens.setdefault(role, api_token(role))
            if spec.doc is not None and doc_rows:
                url = f"/api/v1/{spec.doc._meta.resource_name}/{doc_rows[0].id}/action/{spec.name}"
            elif "<" not in (spec.route or ""):
                url = f"/api/v1/{spec.api.resource_name}{spec.route or '/' + spec.name}"
            else:
                continue
            r = client.post(url, json={}, headers=headers)
            refused += 1
            if r.status_code != 403:
                failures.append(f"{spec.perm_name}.{spec.name} as {role}: {r.status_code}")
        if spec.doc is not None and (spec.states is not None or spec.docstatus is not None):
            wrong = [d for d in doc_rows if not spec.allowed_state(d)]
            if not wrong:
                no_row.append(f"{spec.perm_name}.{spec.name}")
                continue
            before = _state(session, wrong[0])
            r = client.post(f"/api/v1/{spec.doc._meta.resource_name}/{wrong[0].id}/action/{spec.name}", json={},
                            headers=tokens.setdefault("Admin", api_token("Admin")))
            states_checked += 1
            if r.status_code != 409 or _state(session, wrong[0]) != before:
                failures.append(f"{spec.perm_name}.{spec.name} in state {wrong[0].state_label}: {r.status_code}")
    print(f"\naction matrix: {len(actions.REGISTRY)} actions, {refused} role refusals, {states_checked} "
          f"disallowed states checked; no demo row in a disallowed state: {no_row}")
    assert not failures, "\n".join(failures)
