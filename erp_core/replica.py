"""Read-only pages and reports on a read replica (PostgreSQL streaming replication), when
HOUQIN_REPLICA_URL names one; without it everything reads the primary, as before.

What reads the replica: the generated list pages, list APIs and exports of every document
(declared by erp_core, so a new module's lists follow), and the report pages a module marks
with ``@replica.reads`` (figures, summaries). Everything else (forms, a document's own page,
actions, printing, logins) stays on the primary.

Within such a request the session still sends to the primary anything that writes or locks:
a flush, an INSERT/UPDATE/DELETE statement, a SELECT ... FOR UPDATE, and every read after
the session has written. A browser that has just written something reads the primary for
HOUQIN_REPLICA_STICKY_SECONDS (a cookie), so a clerk sees the loan she has just added even
while the replica is a moment behind. Token (API) clients get no such cookie: they read a
document they have just written from its own page, which is on the primary."""
from flask import current_app, g, has_request_context, request
from flask_sqlalchemy.session import Session
from sqlalchemy import event

COOKIE = "houqin_wrote"
SAFE = ("GET", "HEAD", "OPTIONS")
LIST_METHODS = {"view": ("list", "export"), "api": ("get_list", "export")}
# read on the primary even in a replica request: whether a login or token is still valid
# (a logout must hold at once; a token made a moment ago is not on the replica yet)
PRIMARY_TABLES = {"core_session"}


class RoutingSession(Session):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and has_request_context() and g.get("houqin_replica") and not self._flushing
                and not self.info.get("houqin_wrote") and not (self.new or self.dirty or self.deleted)
                and not getattr(clause, "is_dml", False) and getattr(clause, "_for_update_arg", None) is None):
            engine = self._db.engines.get("replica")
            if engine is not None and not (mapper is not None and _table(mapper) in PRIMARY_TABLES):
                return engine
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _table(mapper):
    from sqlalchemy import inspect
    try:
        return inspect(mapper).local_table.name
    except Exception:           # not a mapped class: the default rule
        return None


def _wrote(session, flush_context):
    session.info["houqin_wrote"] = True


def _clear(session, *args):
    session.info.pop("houqin_wrote", None)


event.listen(RoutingSession, "after_flush", _wrote)
event.listen(RoutingSession, "after_commit", _clear)
event.listen(RoutingSession, "after_rollback", _clear)


def reads(view):
    """Mark a report view: on a site with a replica, its queries read the replica."""
    view._houqin_replica = True
    return view


def configure(app):
    """Before ``db.init_app``: the replica is a Flask-SQLAlchemy bind no model is bound to."""
    url = app.config.get("HOUQIN_REPLICA_URL")
    if url:
        app.config["SQLALCHEMY_BINDS"] = {**(app.config.get("SQLALCHEMY_BINDS") or {}), "replica": url}


def install(app):
    """After the views exist: which endpoints read the replica, and the request hooks."""
    if not app.config.get("HOUQIN_REPLICA_URL"):
        return
    app.extensions["houqin_replica_endpoints"] = endpoints = replica_endpoints(app)
    sticky = int(app.config.get("HOUQIN_REPLICA_STICKY_SECONDS", 10))

    @app.before_request
    def _route_reads():
        if request.method in SAFE and request.endpoint in endpoints and not request.cookies.get(COOKIE):
            g.houqin_replica = True

    @app.after_request        # registered last, so it runs first: later hooks read the primary
    def _after(response):
        g.pop("houqin_replica", None)
        if request.method not in SAFE and response.status_code < 400 and not request.headers.get("Authorization"):
            response.set_cookie(COOKIE, "1", max_age=sticky, httponly=True, samesite="Lax",
                                secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        return response


def replica_endpoints(app):
    """Every document's list page, list API and exports, and the views marked ``reads``."""
    from .views import DocumentApi, DocumentView
    out = set()
    for view in app.appbuilder.baseviews:
        kind = "view" if isinstance(view, DocumentView) else "api" if isinstance(view, DocumentApi) else None
        if kind:
            out |= {f"{view.endpoint}.{m}" for m in LIST_METHODS[kind]}
    out |= {name for name, fn in app.view_functions.items() if _marked(fn)}
    return frozenset(out & set(app.view_functions))


def _marked(fn):
    while fn is not None:
        if getattr(fn, "_houqin_replica", False):
            return True
        fn = getattr(fn, "__wrapped__", None) or getattr(fn, "__func__", None)
    return False
