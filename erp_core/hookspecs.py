"""The module contract, as pluggy hook specifications.

A module implements any of these in its ``hooks.py`` with ``@hookimpl``. Each hook is
called from exactly one place in erp_core (named below), in module load order. A module
may publish its own hooks for other modules in a ``hookspecs.py`` of its own (see catering's
satisfaction hook); the registry adds those before it registers implementations, and
``check_pending`` turns a misspelt hook name into a startup error.
"""
import pluggy

PROJECT = "houqin"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def houqin_register_views(appbuilder):
    """Add custom FAB views/APIs beyond those generated from documents' ``Meta``.

    Called by ``erp_core.views.register_all``. Every view needs a permission name that the
    module's roles declare, or the permission-matrix test fails.
    """


@hookspec
def houqin_roles():
    """Return ``{role name: {permission name: [actions]}}``.

    Actions: read, create, write, delete, submit, cancel, print, export, import, or a
    workflow action. Several modules may contribute to the same role (e.g. "Auditor");
    the declarations are merged. Called by ``erp_core.permissions.declared_roles``.
    """


@hookspec
def houqin_print_formats():
    """Return a list of ``erp_core.printing.PrintFormat``. Called by ``erp_core.app``."""


@hookspec
def houqin_dashboard_widgets():
    """Return a list of ``erp_core.dashboard.Widget`` for the home page."""


@hookspec
def houqin_demo_data(session):
    """Create the module's demo records (called in load order by ``run.py load-demo``)."""


@hookspec
def houqin_doc_event(doc, event):
    """React to a document event: validate, before_submit, on_submit, on_cancel,
    after_insert, on_transition. Raise ``erp_core.errors.UserError`` to refuse.

    Called by ``erp_core.document.fire`` for *every* document, so a plugin can add rules
    to another module's documents: filter on ``type(doc).__name__`` or ``isinstance``.
    """


@hookspec
def houqin_cli(cli):
    """Add click commands or groups to the ``run.py`` command group."""
