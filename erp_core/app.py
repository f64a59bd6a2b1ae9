"""create_app: the one place an app is assembled (ARCHITECTURE §3).

AppBuilder is created INSIDE the factory: FAB keeps registered views on the instance, so
a module-level AppBuilder shared by two apps leaves the second one with no routes.
"""
import os
from dataclasses import dataclass, field

from flask import Blueprint, Flask, g, jsonify, render_template, request
from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import display, jobs, notify, printing, types  # noqa: F401 - jobs/notify map their tables
from .config import ROOT, DefaultConfig, database_url
from .core_views import (AuditLogView, DashboardView, JobRunView, NotificationView, PrintJobView, PrintView,
                         SettingsView)
from .document import DOCUMENTS
from .errors import UserError
from .extensions import db
from .i18n import catalogue_dirs
from .registry import Registry
from .security import SecurityManager

HERE = os.path.dirname(__file__)


@dataclass
class Houqin:
    """What erp_core keeps per app, at ``app.extensions["houqin"]``."""
    registry: Registry
    documents: list = field(default_factory=list)
    widgets: list = field(default_factory=list)
    apis: dict = field(default_factory=dict)        # document class -> its ModelRestApi instance


def create_app(config=None, **overrides):
    app = Flask("erp_core", root_path=HERE, instance_path=str(ROOT / "instance"))
    app.config.from_object(DefaultConfig)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        from .config import _secret_key
        app.config["SECRET_KEY"] = _secret_key()
    types.set_local_timezone(app.config["HOUQIN_TIMEZONE"])

    registry = Registry.load(disabled=app.config["HOUQIN_DISABLED_MODULES"],
                             extra=app.config.get("HOUQIN_EXTRA_MODULES", ()))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in catalogue_dirs(registry))
    # Flask-WTF checks CSRF only where we ask it to (see _csrf below).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    enabled = {m.package for m in registry.modules}
    documents = [d for d in DOCUMENTS if registry.module_of(d) and registry.module_of(d).package in enabled]
    ext = Houqin(registry=registry, documents=documents)
    app.extensions["houqin"] = ext

    from . import replica
    replica.configure(app)
    with app.app_context():
        db.init_app(app)
        appbuilder = AppBuilder(indexview=DashboardView, base_template="houqin/base.html",
                                security_manager_class=SecurityManager)
        appbuilder.init_app(app, db.session)
        printing.init_app(app)
        display.init_app(app)          # issue 17: typed display filters for pages and PDFs
        _exact_locales(app)
        from .views import register_documents
        register_documents(appbuilder, registry, documents)
        registry.call("houqin_register_views", appbuilder=appbuilder)
        appbuilder.add_view(SettingsView, "Settings", label=_l("Hospital settings"), icon="fa-hospital-o",
                            category="Security")
        appbuilder.add_view(AuditLogView, "AuditLog", label=_l("Audit log"), icon="fa-history",
                            category="Security")
        appbuilder.add_view(JobRunView, "JobRun", label=_l("Background jobs"), icon="fa-tasks",
                            category="Security")
        appbuilder.add_view_no_menu(NotificationView)
        appbuilder.add_view_no_menu(PrintView)
        appbuilder.add_view_no_menu(PrintJobView)
        from .action_views import ActionPageView
        appbuilder.add_view_no_menu(ActionPageView)
        display.finish(appbuilder)      # issue 17: typed display on the views erp_core does not generate
        from .home import order_menu
        order_menu(appbuilder)          # issue 17: working pages before set-up entries in each menu
        _register_print_formats(app, registry)
        ext.widgets = registry.collect("houqin_dashboard_widgets")

    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["unread_notifications"] = notify.unread_for_current_user
    from .home import cached_menu
    app.jinja_env.globals["houqin_menu"] = cached_menu
    from .dashboard import bar_svg, line_svg
    app.jinja_env.globals.update(bar_svg=bar_svg, line_svg=line_svg)
    from . import websecurity
    websecurity.install(app)
    from . import validation
    validation.install(app)
    _install_request_hooks(app, csrf)
    jobs.install(app)
    replica.install(app)            # last: its after_request hook runs first
    return app


def _exact_locales(app):
    """Babel parses "zh_CN" to zh_Hans_CN, and gettext then never looks in the zh_CN
    catalogue folders (only in FAB's "zh"). Look in zh_Hans_CN, zh_CN, then zh."""
    from babel import support
    from flask_babel import Domain, get_locale

    class HouqinDomain(Domain):
        def get_translations(self):
            locale = get_locale()
            if locale is None:
                return support.NullTranslations()
            key = (str(locale), self.domain[0])
            if key not in self.cache:
                names = [str(locale)] + ([f"{locale.language}_{locale.territory}"] if locale.territory else [])
                translations = support.Translations()
                for dirname in self.translation_directories:
                    catalog = support.Translations.load(dirname, names, self.domain[0])
                    translations.merge(catalog)     # later catalogues (modules, in load order) win
                    if hasattr(catalog, "plural"):
                        translations.plural = catalog.plural
                self.cache[key] = translations
            return self.cache[key]

    babel = app.extensions["babel"].instance
    babel.__dict__["domain_instance"] = HouqinDomain(domain=babel.domain)


def wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _install_request_hooks(app, csrf):
    @app.before_request
    def _csrf():
        # Cookie-authenticated writes must carry the CSRF token (form field or X-CSRFToken).
        # A request with an Authorization header (JWT) carries no ambient credential, and
        # anonymous forms (login) validate their own token.
        if (app.config.get("WTF_CSRF_ENABLED") and request.method not in ("GET", "HEAD", "OPTIONS")
                and not request.headers.get("Authorization") and current_user.is_authenticated):
            csrf.protect()

    @app.before_request
    def _acting_clerk():
        # A shared counter login acts for the clerk who switched in with a PIN (see
        # modules/counter): audit rows and "lent by" name that clerk.
        from flask import session
        if current_user.is_authenticated and session.get("houqin_clerk"):
            g.houqin_actor = session["houqin_clerk"]

    @app.after_request
    def _status(response):
        # Views that re-render a refused form set g.houqin_status; FAB would answer 200.
        status = getattr(g, "houqin_status", None)
        if status and response.status_code == 200:
            response.status_code = status
        return response

    @app.after_request
    def _audit_anchor(response):
        from . import audit
        audit.maybe_anchor(app)
        return response

    @app.errorhandler(UserError)
    def _user_error(exc):
        db.session.rollback()
        if wants_json():
            return jsonify(message=str(exc)), exc.status
        return render_template("houqin/refused.html", message=str(exc), back=request.referrer,
                               base_template=app.appbuilder.base_template, appbuilder=app.appbuilder), exc.status

    @app.errorhandler(FileNotFoundError)
    def _missing_upload(exc):
        # FAB's download view sends the file without checking it exists: a 404, not a 500
        if (request.endpoint or "").endswith(".download"):
            return (jsonify(message="not found"), 404) if wants_json() else ("not found", 404)
        raise exc

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        if wants_json():
            return jsonify(message=str(exc.description)), 400
        return render_template("houqin/refused.html", message=exc.description, back=request.referrer,
                               base_template=app.appbuilder.base_template, appbuilder=app.appbuilder), 400


def create_print_app(config=None, **overrides):
    """Just what printing needs (config, database, translations, templates, the print
    registry): no AppBuilder, views, APIs or permission sync. ``run.py print`` uses it, so
    a document from the command line does not pay for a full app start."""
    from flask_babel import Babel
    app = Flask("erp_core", root_path=HERE, instance_path=str(ROOT / "instance"))
    app.config.from_object(DefaultConfig)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    app.config.update(config or {}, **overrides)
    app.config.setdefault("SECRET_KEY", "print-only")
    types.set_local_timezone(app.config["HOUQIN_TIMEZONE"])
    registry = Registry.load(disabled=app.config["HOUQIN_DISABLED_MODULES"],
                             extra=app.config.get("HOUQIN_EXTRA_MODULES", ()))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in catalogue_dirs(registry))
    app.extensions["houqin"] = Houqin(registry=registry)
    with app.app_context():
        db.init_app(app)
        Babel(app, locale_selector=lambda: app.config.get("HOUQIN_PRINT_LOCALE") or app.config["BABEL_DEFAULT_LOCALE"])
        _exact_locales(app)
        printing.init_app(app)
        _register_print_formats(app, registry)
    return app


def _register_print_formats(app, registry):
    for m in registry.modules:   # module templates/ and static/ (at /static/<module>/)
        app.register_blueprint(Blueprint(
            f"houqin_{m.name}", m.package, template_folder="templates", static_folder="static",
            static_url_path=f"/static/{m.name}"))
        static_dir = os.path.join(m.path, "static")
        if os.path.isdir(static_dir):
            printing.allow_static_root(static_dir)
    for fmt in registry.collect("houqin_print_formats"):
        if fmt.permission is None and fmt.model is not None:
            object.__setattr__(fmt, "permission", fmt.model._meta.permission)
        app.extensions["houqin_print"].register(fmt)
