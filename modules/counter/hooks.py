from flask_babel import lazy_gettext as _l

from erp_core.hookspecs import hookimpl


@hookimpl
def houqin_roles():
    # The counter only opens the screen; each action still needs its own permission
    # (lend on Loan, sell on Sale, pick-up on Storage, ...), checked inside.
    return {"Front Desk": {"Counter": ["read"]}, "Front Desk Supervisor": {"Counter": ["read", "write"]}}


@hookimpl
def houqin_register_views(appbuilder):
    from .views import CounterApi, CounterView
    appbuilder.add_api(CounterApi)
    appbuilder.add_view(CounterView, "Counter", label=_l("Counter screen"), icon="fa-desktop",
                        category="rentals", href="/counter/")
