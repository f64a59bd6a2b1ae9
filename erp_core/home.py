"""Home page per role (issue 17.4), derived from what is declared already:

* **Waiting for you**: for every workflow, the states from which one of the user's roles
  may act (a transition lists the role); each count (record rules applied) links to the
  document's list filtered by that state.
* **Worth a look**: counts a document declares in ``Meta.watch`` (expiring certificates,
  overdue replacements), shown with the waiting ones.
* **Your screens**: the working pages of the user's menu (views that are not a generated
  document list: the counter, the kitchen, the inspector's phone page, the scoring desk…).
* **Your lists**: the document lists the user may open, so no role sees an empty home.

Also: ``order_menu`` puts each menu category's working pages before its set-up entries
(on a phone the menu is one long column).
"""
from flask import current_app
from sqlalchemy import func, select

from .extensions import db
from .permissions import is_admin, menu_action, rule_clause, user_can

FILTER_EQUAL = 3     # FAB's index of FilterEqual among a string column's filters (_flt_3_<col>=value)


def _document_views():
    from .views import DocumentView
    return DocumentView


def waiting(user):
    """``[dict(title, state, count, link)]``: documents in a state this user acts on."""
    out = []
    admin = is_admin(user)
    roles = {r.name for r in getattr(user, "roles", [])}
    for cls in current_app.extensions["houqin"].documents:
        wf = cls._meta.workflow
        view = getattr(cls, "_view", None)
        if wf is None or view is None or not user_can(user, "read", cls._meta.permission):
            continue
        states = []
        for t in wf.transitions:
            if t.needs_reason:          # failing / cancelling paths are not "waiting"
                continue
            if (admin and not t.roles) or roles & set(t.roles):
                states += [s for s in t.source if s not in states]
        if not states:
            continue
        clause = rule_clause(cls, user)
        stmt = select(cls.workflow_state, func.count()).where(cls.workflow_state.in_(states)) \
            .group_by(cls.workflow_state)
        if clause is not None:
            stmt = stmt.where(clause)
        counts = dict(db.session.execute(stmt).all())
        for state in states:      # zero too: "nothing waits" is news, and the link still leads there
            n = counts.get(state, 0)
            out.append(dict(title=str(cls._meta.title_plural), state=str(wf.state(state).label), count=n,
                            link=f"{view.route_base}/list/?_flt_{FILTER_EQUAL}_workflow_state={state}"))
    out += watched(user)
    out.sort(key=lambda w: w["count"] == 0)     # what waits first
    return out


def watched(user):
    """Counts a document declares in ``Meta.watch`` (e.g. certificates expiring within 30 days),
    for users who may read it, record rules applied; each links to the list or page it counts."""
    out = []
    for cls in current_app.extensions["houqin"].documents:
        if not cls._meta.watch or not user_can(user, "read", cls._meta.permission):
            continue
        clause = rule_clause(cls, user)
        for label, stmt_of, link in cls._meta.watch:
            stmt = stmt_of()
            if clause is not None:
                stmt = stmt.where(clause)
            n = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
            out.append(dict(title=str(cls._meta.title_plural), state=str(label), count=n, link=link))
    return out


def _menu_entries(user):
    """``[(category label, item, is_document_list)]`` the user may open, in menu order."""
    DocumentView = _document_views()
    out = []
    for category in current_app.appbuilder.menu.get_list():
        for item in category.childs or [category]:
            view = getattr(item, "baseview", None)
            if view is None or not item.name:
                continue
            if not (is_admin(user) or user_can(user, menu_action(view), view.class_permission_name)):
                continue
            out.append((category.label or category.name, item, isinstance(view, DocumentView)))
    return out


def screens(user):
    """Working pages (not generated lists) of the user's menu; security pages left out."""
    out = []
    for category, item, is_list in _menu_entries(user):
        if is_list or category in ("Security",) or item.name in ("Settings", "AuditLog"):
            continue
        try:
            href = item.get_url()
        except Exception:
            continue
        out.append(dict(label=str(item.label or item.name), href=href, icon=item.icon, category=str(category)))
    return out


def lists(user):
    out = []
    for category, item, is_list in _menu_entries(user):
        if is_list:
            out.append(dict(label=str(item.label or item.name), href=item.get_url(), icon=item.icon,
                            category=str(category)))
    return out


def for_user(user):
    return dict(waiting=waiting(user), screens=screens(user), lists=lists(user))


def order_menu(appbuilder):
    """Within each menu category: working pages first, then documents with a workflow,
    then the set-up lists (master data). Stable otherwise."""
    DocumentView = _document_views()

    def rank(item):
        view = getattr(item, "baseview", None)
        if view is None or not isinstance(view, DocumentView):
            return 0
        meta = view.datamodel.obj._meta
        return 1 if (meta.workflow or meta.submittable) else 2
    for category in appbuilder.menu.get_list():
        if category.childs and category.name not in ("Security",):
            category.childs.sort(key=rank)


# -- the navigation menu, rendered once per set of permissions (issue 23) ----------------
_MENUS = {}


def cached_menu():
    """The navbar's menu as HTML. FAB renders it on every page with one access check per
    entry (56 with six modules); it depends only on what the user may open and the locale,
    so it is rendered once per (permission set, locale) and reused. A change of roles or
    permissions gives another set, hence a fresh rendering: nothing to invalidate."""
    from flask import render_template
    from flask_babel import get_locale
    from flask_login import current_user
    from markupsafe import Markup
    from .permissions import request_user, user_permissions
    user = request_user()
    if user is None or not current_user.is_authenticated:       # anonymous: public role, not cached
        return Markup(render_template("houqin/_navbar_menu.html", menu=current_app.appbuilder.menu))
    key = (str(get_locale()), "admin" if is_admin(user) else frozenset(
        p for p in user_permissions(user) if p[0] == "menu_access"))
    html = _MENUS.get(key)
    if html is None:
        if len(_MENUS) > 256:
            _MENUS.clear()
        html = _MENUS[key] = Markup(render_template("houqin/_navbar_menu.html", menu=current_app.appbuilder.menu))
    return html
