"""Permissions: one enforcement layer (ARCHITECTURE §5).

* A document has ONE permission name (``Meta.permission``) shared by its view and API.
* Actions are FAB permissions ``can_<action>`` on that name: read, create, write, delete,
  submit, cancel, print, export, import, plus each workflow action.
* Modules declare roles as data (``houqin_roles``); ``sync`` makes the database roles
  exactly that (plus menu access derived from it). Admin gets everything.
* Record rules (``Meta.record_rules``: role -> callable(user) -> SQL clause) are applied
  by ``rule_clause``, which the one query layer (``ScopedInterface``, ``scoped_select``,
  ``get_for``) uses for list, show, API, export and print alike.
"""
from collections import defaultdict

from flask import current_app, g, has_request_context
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, or_, select

from .errors import NotFound, PermissionDenied

ACTIONS = ("read", "create", "write", "delete", "submit", "cancel", "print", "export", "import")

# FAB view/API method -> our action. Methods not listed keep their own name as action.
VIEW_METHOD_ACTIONS = {
    "list": "read", "show": "read", "history": "read", "transition": "read", "action": "read",
    "add": "create", "amend": "create", "edit": "write", "delete": "delete", "attach": "write", "attachment": "read",
    "submit": "submit", "cancel": "cancel", "export": "export", "import_": "import",
}
API_METHOD_ACTIONS = {
    "get": "read", "get_list": "read", "info": "read", "history": "read", "transition": "read", "action": "read",
    "post": "create", "amend": "create", "put": "write", "delete": "delete", "attachments": "read",
    "attachment": "read",
    "submit": "submit", "cancel": "cancel", "export": "export", "import_": "import",
}
# What every signed-in role may do with its own account.
BASE_PERMISSIONS = {("can_userinfo", "UserDBModelView"), ("can_this_form_get", "ResetMyPasswordView"),
                    ("can_this_form_post", "ResetMyPasswordView"),
                    # own notifications only (erp_core/notify.py): every role reads and marks its own
                    ("can_read", "Notification"), ("can_write", "Notification")}


def declared_roles(app=None):
    """``{role: {permission name: set(actions)}}`` merged from every module, plus the
    workflow actions granted to the roles a transition lists."""
    app = app or current_app
    ext = app.extensions["houqin"]
    roles = defaultdict(lambda: defaultdict(set))
    for _mod, result in ext.registry.call("houqin_roles"):
        for role, perms in (result or {}).items():
            for perm, actions in perms.items():
                roles[role][perm].update(actions)
    for doc in ext.documents:
        wf = doc._meta.workflow
        for t in (wf.transitions if wf else ()):
            for role in t.roles:
                roles[role][doc._meta.permission].update({t.action, "read"})
    return {r: {p: set(a) for p, a in perms.items()} for r, perms in roles.items()}


def role_pairs(perms):
    """FAB (permission, view menu) pairs for a role's declaration, without menus."""
    return {(f"can_{a}", p) for p, actions in perms.items() for a in actions} | BASE_PERMISSIONS


def menu_action(view):
    """The action a menu entry's page needs: its default view's (``list`` -> read; the
    inspector's phone page -> write). A menu shows only what the role may open."""
    default = getattr(view, "default_view", "list")
    names = getattr(view, "method_permission_name", None) or {}
    return names.get(default, "read" if default in ("list", "index", "show") else default)


def menu_pairs(appbuilder, pairs):
    """menu_access for every menu item whose page the role may open, and its category."""
    out = set()
    for category in appbuilder.menu.get_list():
        for item in category.childs or [category]:
            view = getattr(item, "baseview", None)
            if view is not None and (f"can_{menu_action(view)}", view.class_permission_name) in pairs:
                out.add(("menu_access", item.name))
                if item is not category:
                    out.add(("menu_access", category.name))
    return out


def wanted_pairs(appbuilder, declared):
    """Every (permission, view menu) pair the app needs: what each registered view and API
    exposes, each menu entry's menu_access, and what the roles declare (print, workflow
    actions). A document's view and API share one permission name, so this is the union
    per name; FAB's own per-view sync (``add_permissions``) deletes whatever one view of
    the name does not expose, which roles still hold, and floods the log refusing to."""
    pairs = set()
    for view in appbuilder.baseviews:
        pairs |= {(perm, view.class_permission_name) for perm in view.base_permissions or ()}
    for category in appbuilder.menu.get_list():
        pairs.add(("menu_access", category.name))
        pairs |= {("menu_access", item.name) for item in category.childs if item.name != "-"}
    for perms in declared.values():
        pairs |= role_pairs(perms)
    return pairs


def sync(app=None):
    """Make the database permissions and roles equal the declared ones (Admin gets every
    permission). Run by ``run.py sync``. Returns one line saying what changed, or None."""
    app = app or current_app
    appbuilder = app.appbuilder
    sm = appbuilder.sm
    session = sm.session
    declared = declared_roles(app)
    wanted = wanted_pairs(appbuilder, declared)
    existing = {(pv.permission.name, pv.view_menu.name): pv
                for pv in session.query(sm.permissionview_model).all() if pv.permission and pv.view_menu}
    added = sorted(wanted - existing.keys())
    for perm, view in added:
        existing[(perm, view)] = sm.add_permission_view_menu(perm, view)
    stale = {pv for key, pv in existing.items() if key not in wanted}

    admin_name = app.config.get("AUTH_ROLE_ADMIN", "Admin")
    targets = {admin_name: set(wanted)}
    for role_name, perms in declared.items():
        pairs = role_pairs(perms)
        targets[role_name] = pairs | menu_pairs(appbuilder, pairs)
    changed = []
    for role_name in [admin_name, app.config.get("AUTH_ROLE_PUBLIC", "Public"), *sorted(declared)]:
        role = sm.find_role(role_name) or sm.add_role(role_name)
        if role_name not in targets:
            continue            # Public: whatever an administrator gave it, minus stale pairs
        want = {existing[pair] for pair in targets[role_name]}
        if set(role.permissions) != want:
            role.permissions = sorted(want, key=lambda pv: pv.id)
            changed.append(role_name)
    for role in session.query(sm.role_model).all():     # other roles may hold stale pairs too
        if stale & set(role.permissions):
            role.permissions = [pv for pv in role.permissions if pv not in stale]
    for pv in stale:
        session.delete(pv)
    session.commit()
    if not (added or stale or changed):
        return None
    roles = ", ".join(changed) if len(changed) <= 3 else f"{len(changed)} roles"
    return f"permissions: {len(added)} added, {len(stale)} removed; updated {roles or 'no role'}"


# --- checks ---------------------------------------------------------------------------

def request_user():
    """The user of this request (session cookie, JWT or API key); None if anonymous."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    if "_houqin_jwt_user" in g:
        return g._houqin_jwt_user
    try:
        from flask_jwt_extended import current_user as jwt_user, verify_jwt_in_request
        verify_jwt_in_request(optional=True)
        user = jwt_user._get_current_object() if jwt_user else None
    except Exception:  # a missing or bad token: anonymous
        user = None
    g._houqin_jwt_user = user
    return user


def _user(user):
    if user is None or isinstance(user, str):
        return None if user is None else current_app.appbuilder.sm.find_user(username=user)
    return user


def is_admin(user):
    user = _user(user)
    admin = current_app.config.get("AUTH_ROLE_ADMIN", "Admin")
    return bool(user) and any(r.name == admin for r in getattr(user, "roles", []))


def user_permissions(user):
    """The (permission, view) pairs of ``user``; cached for the request."""
    user = _user(user)
    if user is None or not getattr(user, "is_authenticated", True):
        return set()
    key = ("houqin_perms", user.id)
    if has_request_context() and key in g.__dict__.get("_houqin_cache", {}):
        return g._houqin_cache[key]
    from .security import role_pairs
    pairs = set()
    for role_set in role_pairs(current_app.appbuilder.sm, [r.id for r in user.roles]).values():
        pairs |= role_set
    if has_request_context():
        g.__dict__.setdefault("_houqin_cache", {})[key] = pairs
    return pairs


def user_can(user, action, perm):
    if is_admin(user):
        return True
    return (f"can_{action}", perm) in user_permissions(user)


def public(func):
    """Mark a view method as open without a login (a hospital's published price page): it
    carries no permission, and the permission-matrix test skips it but checks it answers."""
    func._houqin_public = True
    return func


def require(user, action, perm):
    if not user_can(user, action, perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def rule_clause(cls, user):
    """SQL filter the user's record rules put on ``cls``; None when unrestricted."""
    rules = cls._meta.record_rules if hasattr(cls, "_meta") else {}
    if not rules:
        return None
    user = _user(user)
    if user is None:
        return false()
    if is_admin(user):
        return None
    perm = cls._meta.permission
    clauses = []
    from .security import role_pairs
    by_role = role_pairs(current_app.appbuilder.sm, [r.id for r in user.roles])
    for role in user.roles:
        reads = ("can_read", perm) in by_role[role.id]
        if not reads:
            continue
        if role.name not in rules:
            return None            # some role of the user reads everything
        clauses.append(rules[role.name](user))
    return or_(*clauses) if clauses else false()


def scoped_select(cls, user=None):
    """``select(cls)`` with the user's record rules applied: use it for every read."""
    stmt = select(cls)
    clause = rule_clause(cls, user if user is not None else request_user())
    return stmt if clause is None else stmt.where(clause)


def get_for(cls, user, *, id=None, name=None, action="read"):
    """Load one document the user may ``action``: permission, then record rule. A record
    outside the rule is 'not found', so its existence does not leak."""
    require(user, action, cls._meta.permission)
    stmt = scoped_select(cls, user)
    stmt = stmt.where(cls.id == id) if id is not None else stmt.where(cls.name == name)
    doc = current_app.appbuilder.session.scalars(stmt).first()
    if doc is None:
        raise NotFound(_("Not found."))
    return doc


def eager_option(cls, path):
    """Loader option for ``"asset"`` or ``"asset.item_type"``: a join for one row, a second
    SELECT ... IN for a collection; never one query per row."""
    from sqlalchemy.orm import joinedload, selectinload
    option, model = None, cls
    for key in path.split("."):
        rel = model.__mapper__.relationships[key]
        attr = getattr(model, key)
        if option is None:
            option = (selectinload if rel.uselist else joinedload)(attr)
        else:
            option = option.selectinload(attr) if rel.uselist else option.joinedload(attr)
        model = rel.mapper.class_
    return option


COUNT_CAP = 10_000       # lists count matches up to here; beyond, "more than 10,000"


class ScopedInterface(SQLAInterface):
    """FAB's data interface with record rules applied to every query it builds (list,
    count, show, edit, delete, API get/list) — the single place views and APIs read through."""

    eager = ()      # relationships the list shows: loaded with the rows, not one query per row

    def apply_all(self, query, *args, **kwargs):
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*[eager_option(self.obj, path) for path in self.eager])
        return query

    def _apply_inner_all(self, query, filters=None, *args, **kwargs):
        clause = rule_clause(self.obj, request_user()) if has_request_context() else None
        if clause is not None:
            query = query.filter(clause)
        return super()._apply_inner_all(query, filters, *args, **kwargs)

    # -- lists at volume (issue 23) ----------------------------------------------------
    count_cap = COUNT_CAP

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """FAB's query with a capped count and deep pages read from the nearer end.

        Counting every match costs a scan of all of them: beyond ``count_cap`` the count is
        a ``CappedCount`` (shown "more than 10,000"). A page past the middle is read in the
        reverse order from the end (a short index walk instead of skipping 99,975 rows),
        which needs the exact count: it is taken then, and only then."""
        base = self.session.query(self.obj)
        cursor = g.get("houqin_cursor") if has_request_context() else None
        if cursor is not None and page_size:
            return self._keyset_page(base, cursor, filters, order_column, order_direction, page_size, select_columns,
                                     outer_default_load)
        if not page_size:      # unpaged (a filter's choices, an export): every row comes back, so
            query = self.apply_all(base, filters, order_column, order_direction, None, None,   # no count query
                                   select_columns, outer_default_load)
            rows = self._unwrap(query.all())
            return len(rows), rows
        inner, count = self._capped_count(base, filters, select_columns)
        offset = (page or 0) * (page_size or 0)
        capped = self.count_cap and count > self.count_cap
        if capped and offset + (page_size or 0) > self.count_cap:
            count, capped = inner.count(), False
        reverse = bool(page_size and order_column and not capped and offset > count / 2
                       and order_direction in ("asc", "desc"))
        if reverse:        # rows [offset, offset + size) are, from the end, [count - offset - size, count - offset)
            end = count - offset
            size = max(0, min(page_size, end))
            start = max(0, end - page_size)
            query = self.apply_all(base, filters, order_column, "asc" if order_direction == "desc" else "desc",
                                   None, None, select_columns, outer_default_load)
            rows = query.offset(start).limit(size).all()[::-1] if size else []
        else:
            query = self.apply_all(base, filters, order_column, order_direction, page, page_size,
                                   select_columns, outer_default_load)
            rows = query.all()
        return (CappedCount(count) if capped else count), self._unwrap(rows)

    def _capped_count(self, base, filters, select_columns):
        """(the query of the matching keys, how many there are up to ``count_cap`` + 1). Counted
        on the key alone: an index can answer, the list's columns are not read."""
        inner = self._apply_inner_all(base, filters, select_columns=select_columns, aliases_mapping={}) \
            .with_entities(self.obj.id)
        return inner, (inner.limit(self.count_cap + 1).count() if self.count_cap else inner.count())

    def _keyset_page(self, base, cursor, filters, order_column, order_direction, page_size, select_columns,
                     outer_default_load):
        """The page after ``cursor`` ("" for the first): WHERE (sort, id) is past the last row
        seen, then LIMIT, so page 4,000 costs what page 1 does. The count is the capped one."""
        from sqlalchemy import Integer, literal, tuple_
        column = self.obj.__table__.c.get(order_column or "id")
        if column is None or (column.nullable and not column.primary_key) or order_direction not in ("asc", "desc"):
            from .errors import ValidationError
            raise ValidationError(_("A cursor needs the list ordered by a column that always has a value; "
                                    "%(col)s does not.", col=order_column or "-"))
        _inner, count = self._capped_count(base, filters, select_columns)
        if cursor:
            value, pk = decode_cursor(cursor, column)
            # typed binds: the column's own type stores times as the column does
            key, past = tuple_(column, self.obj.id), tuple_(literal(value, column.type), literal(pk, Integer()))
            base = base.filter(key < past if order_direction == "desc" else key > past)
        query = self.apply_all(base, filters, order_column or "id", order_direction, None, page_size, select_columns,
                               outer_default_load)
        rows = self._unwrap(query.all())
        last = rows[-1] if len(rows) == page_size else None
        g.houqin_next_cursor = encode_cursor(getattr(last, column.key), last.id) if last is not None else None
        capped = self.count_cap and count > self.count_cap
        return (CappedCount(count) if capped else count), rows

    def _unwrap(self, rows):
        """FAB's ordered queries come back as rows holding the model (under its class name)."""
        name = self.obj.__name__
        return [getattr(r, name) for r in rows] if all(hasattr(r, name) for r in rows) else rows



def encode_cursor(value, pk):
    """An opaque position in a list: the last row's sort value and id."""
    import base64
    import json
    from datetime import date
    from decimal import Decimal
    if isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


def decode_cursor(text, column):
    """(sort value typed as ``column``, id); a cursor not made by encode_cursor is refused."""
    import base64
    import binascii
    import json
    from datetime import date, datetime
    from decimal import Decimal, InvalidOperation
    from .errors import ValidationError
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        kind = getattr(column.type, "impl_instance", column.type).python_type     # a TypeDecorator's own says object
        if value is not None and kind is datetime:
            value = datetime.fromisoformat(value)
        elif value is not None and kind is date:
            value = date.fromisoformat(value)
        elif value is not None and kind is Decimal:
            value = Decimal(value)
        if not isinstance(pk, int) or (value is not None and not isinstance(value, kind)):
            raise ValueError
        return value, pk
    except (ValueError, TypeError, InvalidOperation, binascii.Error, UnicodeDecodeError, NotImplementedError):
        raise ValidationError(_("The cursor is not one this list gave out: start again without it."))


class CappedCount(int):
    """A count that stopped at the cap: arithmetic sees cap + 1 (pagination goes on),
    people read "more than 10,000"."""
    capped = True

    def __str__(self):
        return _("more than %(n)s", n=f"{int(self) - 1:,}")

    __html__ = __str__
