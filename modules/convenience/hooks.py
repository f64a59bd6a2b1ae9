from flask_babel import lazy_gettext as _l

from erp_core.dashboard import Widget
from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

ALL = ["read", "create", "write", "delete", "print", "export", "import"]


@hookimpl
def houqin_roles():
    return {
        "Front Desk": {"SaleItem": ["read"], "Sale": ["read", "create", "print"],
                       "Storage": ["read", "create", "write", "print", "pickup"],
                       "BookingType": ["read"], "Booking": ["read", "create", "write", "print"]},
        "Front Desk Supervisor": {"SaleItem": ALL + ["receive", "adjust"], "Sale": ["read", "create", "print", "export", "refund"],
                                  "Storage": ["read", "create", "write", "print", "export", "pickup"],
                                  "BookingType": ALL, "Booking": ALL},
        "Auditor": {"SaleItem": ["read", "export"], "Sale": ["read", "print", "export"],
                    "Storage": ["read", "export"], "BookingType": ["read"], "Booking": ["read", "export"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import ConvenienceView, CounterSalesApi, StockMovesApi, BelongingsApi, UnclaimedView
    for api in (CounterSalesApi, StockMovesApi, BelongingsApi):
        appbuilder.add_api(api)
    appbuilder.add_view(ConvenienceView, "LowStock", label=_l("Low stock"), icon="fa-exclamation-triangle",
                        category="convenience", href="/convenience/low-stock/")
    appbuilder.add_view(UnclaimedView, "Unclaimed", label=_l("Unclaimed belongings"), icon="fa-question-circle",
                        category="convenience", href="/convenience/unclaimed/")


def _sale_context(sale):
    from .models import PAYMENT_METHODS
    return {"payment_method": PAYMENT_METHODS.get(sale.payment_method, sale.payment_method)}


def _storage_context(storage):
    return {"status": _l("Picked up") if storage.status == "picked_up" else _l("In storage")}


@hookimpl
def houqin_print_formats():
    from .models import Booking, Sale, Storage
    return [
        PrintFormat("convenience.receipt", _l("Sales receipt"), "convenience/print/receipt.html", Sale, _sale_context,
                    papers=("a4", "receipt80")),
        PrintFormat("convenience.storage_tag", _l("Storage tag"), "convenience/print/storage_tag.html", Storage,
                    papers=("a4", "label")),
        PrintFormat("convenience.pickup_slip", _l("Pick-up slip"), "convenience/print/pickup_slip.html", Storage,
                    _storage_context, papers=("a4", "receipt80")),
        PrintFormat("convenience.booking", _l("Booking confirmation"), "convenience/print/booking.html", Booking,
                    papers=("a4", "receipt80")),
    ]


@hookimpl
def houqin_dashboard_widgets():
    def low(user):
        from .services import low_stock
        items = low_stock()
        return {"value": len(items), "hint": "、".join(i.title for i in items[:5]), "link": "/convenience/low-stock/"}
    return [Widget("convenience_low_stock", _l("Items low on stock"), "SaleItem", low, order=20)]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)
