"""Login limits, server-side sessions and security headers (issue 18.1).

* **Login limit**: the form login (``/login/``) and the token login
  (``POST /api/v1/security/login``) share one counter per account and one per client
  address, kept in ``RATELIMIT_STORAGE_URI`` (Redis in production, so all gunicorn workers
  count together; a warning is logged at start-up when several workers would each keep
  their own in-memory count). Every attempt counts; a successful login clears its
  account's count (not the address's). Over the limit: 429 with ``Retry-After``.
* **Sessions**: each cookie login gets a random session id recorded in ``core_session``;
  a cookie whose id is not there (logged out, password changed, or never issued) is an
  anonymous request. So a copied cookie stops working on logout and on password change.
  A token login (``POST /api/v1/security/login``) is a session too: its access and refresh
  tokens carry the session id (claim ``sid``) and every token request checks that the row is
  still there, so ``POST /api/v1/security/logout`` and a password change revoke them (401).
* **Headers**: CSP with no external source, ``frame-ancestors``/``X-Frame-Options``,
  ``nosniff`` and ``Referrer-Policy`` on every response.
"""
import os
import secrets
import shlex
import sys
from datetime import datetime

from flask import current_app, g, has_request_context, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_logged_in, user_logged_out
from flask_appbuilder import Model
from sqlalchemy import Integer, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .types import UTCDateTime, now

SESSION_KEY = "_hq_sid"
LOGIN_ENDPOINTS = ("/login/", "/api/v1/security/login")

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


class UserSession(Model):
    """One row per signed-in browser session; deleting it signs that cookie out everywhere."""
    __tablename__ = "core_session"
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


# --- login limit ---------------------------------------------------------------------

class LoginLimiter:
    def __init__(self, app):
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter
        self.uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.storage = storage_from_string(self.uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.account = parse(app.config.get("HOUQIN_LOGIN_LIMIT_ACCOUNT", "10 per 15 minutes"))
        self.address = parse(app.config.get("HOUQIN_LOGIN_LIMIT_ADDRESS", "50 per 15 minutes"))

    def keys(self, username, address):
        return [(self.account, "houqin-login-account", (username or "").strip().lower()),
                (self.address, "houqin-login-address", address or "-")]

    def hit(self, username, address):
        """Count one attempt; returns seconds to wait if over a limit, else 0."""
        wait = 0
        for item, ns, ident in self.keys(username, address):
            if not self.limiter.hit(item, ns, ident):
                stats = self.limiter.get_window_stats(item, ns, ident)
                wait = max(wait, int(stats.reset_time - datetime.now().timestamp()) + 1, 1)
        return wait

    def succeeded(self, username):
        item, ns, ident = self.keys(username, None)[0]
        self.limiter.clear(item, ns, ident)


def worker_count(argv=None, environ=None):
    """How many gunicorn workers this process belongs to (1 if not under gunicorn)."""
    argv, environ = argv if argv is not None else sys.argv, environ if environ is not None else os.environ
    args = list(argv[1:]) if argv and "gunicorn" in os.path.basename(argv[0]) else []
    args += shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    workers = int(environ.get("WEB_CONCURRENCY", "1") or 1)
    for i, a in enumerate(args):
        if a in ("-w", "--workers") and i + 1 < len(args):
            workers = int(args[i + 1])
        elif a.startswith("--workers="):
            workers = int(a.split("=", 1)[1])
        elif a.startswith("-w") and a[2:].isdigit():
            workers = int(a[2:])
    return workers


def memory_store_warning(uri, workers):
    if uri.startswith("memory") and workers > 1:
        return (f"RATELIMIT_STORAGE_URI is {uri} with {workers} workers: each worker counts login attempts "
                "on its own. Point it at Redis (redis://host:6379) so the login limit holds.")
    return None


def _login_username():
    if request.path == "/api/v1/security/login":
        body = request.get_json(silent=True)
        value = body.get("username") if isinstance(body, dict) else None
    else:
        value = request.form.get("username")
    return value if isinstance(value, str) else ""


def _client_address():
    # Behind a load balancer HOUQIN_PROXIES (see install) makes this the client's address.
    return request.remote_addr or "-"


# --- sessions ------------------------------------------------------------------------

def start_session(user_id):
    sid = secrets.token_urlsafe(32)
    db.session.execute(insert(UserSession.__table__).values(sid=sid, user_id=int(user_id), created_at=now()))
    db.session.commit()
    session[SESSION_KEY] = sid
    return sid


def end_sessions(user_id=None, sid=None):
    t = UserSession.__table__
    if sid is not None:
        db.session.execute(delete(t).where(t.c.sid == sid))
    if user_id is not None:
        db.session.execute(delete(t).where(t.c.user_id == int(user_id)))
    db.session.commit()


def _token_claims(identity):
    """Claims of a new JWT: the session it belongs to. A token login starts a session (one for
    its access and refresh token); a refresh keeps the refresh token's session."""
    from flask_jwt_extended import get_jwt
    try:
        sid = (get_jwt() or {}).get("sid")     # /refresh: the verified refresh token's session
    except RuntimeError:
        sid = None
    sid = sid or g.get("houqin_token_sid")     # the login's refresh token: its access token's
    if not sid:
        sid = secrets.token_urlsafe(32)
        db.session.execute(insert(UserSession.__table__).values(sid=sid, user_id=int(identity), created_at=now()))
        db.session.commit()
        g.houqin_token_sid = sid
    return {"sid": sid}


def _token_revoked(jwt_header, jwt_payload):
    """A token whose session was ended (API logout, password change) or that names none."""
    sid = jwt_payload.get("sid")
    if not isinstance(sid, str):
        return True
    seen = g.setdefault("houqin_token_sessions", {})    # FAB and erp_core each verify the token once
    if sid not in seen:
        row = db.session.execute(select(UserSession.user_id).where(UserSession.sid == sid)).first()
        seen[sid] = None if row is None else str(row.user_id)
    return seen[sid] is None or seen[sid] != str(jwt_payload.get("sub"))


def _session_api():
    from flask_appbuilder.api import BaseApi, expose
    from flask_jwt_extended import get_jwt, jwt_required

    class TokenSessionApi(BaseApi):
        """``POST /api/v1/security/logout`` with the access or refresh token: ends the token
        login's session, so both of its tokens are refused from then on (any signed-in user)."""
        resource_name = "security"

        @expose("/logout", methods=["POST"])
        @jwt_required(verify_type=False)
        def logout(self):
            end_sessions(sid=get_jwt()["sid"])
            return self.response(200, message=_("Signed out."))
    return TokenSessionApi


def password_changed(user_id):
    """Sign out every session of the user; the user who changed it stays signed in here."""
    end_sessions(user_id=user_id)
    if has_request_context() and session.get("_user_id") is not None and str(session.get("_user_id")) == str(user_id):
        start_session(user_id)


def _session_valid():
    user_id, sid = session.get("_user_id"), session.get(SESSION_KEY)
    if not sid:
        return False
    row = db.session.execute(select(UserSession.user_id).where(UserSession.sid == sid)).first()
    return row is not None and str(row.user_id) == str(user_id)


# --- wiring --------------------------------------------------------------------------

def install(app):
    proxies = int(app.config.get("HOUQIN_PROXIES") or 0)
    if proxies:
        # that many proxies in front (load balancer, nginx) set X-Forwarded-For/-Proto/-Host;
        # trusted only from them, so a client cannot choose the address the login limit counts
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    limiter = LoginLimiter(app)
    app.extensions["houqin_login_limiter"] = limiter
    warning = memory_store_warning(limiter.uri, worker_count())
    if warning:
        app.logger.warning(warning)

    jwt_manager = app.extensions["flask-jwt-extended"]
    jwt_manager.additional_claims_loader(_token_claims)
    jwt_manager.token_in_blocklist_loader(_token_revoked)
    with app.app_context():
        app.appbuilder.add_api(_session_api())

    @app.before_request
    def _check_session():
        # a cookie whose session was ended (logout, password change) signs nobody in
        if session.get("_user_id") is not None and not _session_valid():
            session.pop(SESSION_KEY, None)
            logout_user()
            session.clear()
            g.user = current_user

    @app.before_request
    def _login_limit():
        if request.method != "POST" or request.path not in LOGIN_ENDPOINTS:
            return None
        if not app.config.get("HOUQIN_LOGIN_LIMIT_ENABLED", True):
            return None
        g.houqin_login_username = _login_username()
        wait = limiter.hit(g.houqin_login_username, _client_address())
        if wait:
            message = _("Too many sign-in attempts. Try again in %(seconds)s seconds.", seconds=wait)
            if request.path.startswith("/api/"):
                resp = jsonify(message=message)
            else:
                from flask import render_template
                resp = current_app.response_class(render_template(
                    "houqin/refused.html", message=message, back="/login/",
                    base_template=app.appbuilder.base_template, appbuilder=app.appbuilder))
            resp.status_code = 429
            resp.headers["Retry-After"] = str(wait)
            return resp
        return None

    @app.after_request
    def _login_result(response):
        name = g.pop("houqin_login_username", None)
        if name is not None:
            ok = g.get("houqin_logged_in") or (request.path.startswith("/api/") and response.status_code == 200)
            if ok:
                limiter.succeeded(name)
        return response

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", app.config.get("HOUQIN_CSP") or CSP)
        h.setdefault("X-Frame-Options", "SAMEORIGIN")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        return response

    @user_logged_in.connect_via(app)
    def _logged_in(sender, user, **extra):
        g.houqin_logged_in = True
        start_session(user.id)

    @user_logged_out.connect_via(app)
    def _logged_out(sender, user, **extra):
        sid = session.pop(SESSION_KEY, None)
        if sid:
            end_sessions(sid=sid)
