from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from erp_core.dashboard import Widget
from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

ALL = ["read", "create", "write", "delete", "print", "export", "import"]


@hookimpl
def houqin_roles():
    return {
        "Front Desk": {"ItemType": ["read"], "Asset": ["read"],
                       "Loan": ["read", "create", "write", "print", "export", "disinfect"]},
        "Front Desk Supervisor": {"ItemType": ALL, "Asset": ALL,
                                  "Loan": ["read", "create", "write", "print", "export", "disinfect", "lost",
                                           "backdate"]},
        "Auditor": {"ItemType": ["read"], "Asset": ["read"], "Loan": ["read", "print", "export"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import RentalsApi, RentalsView
    appbuilder.add_api(RentalsApi)
    appbuilder.add_view(RentalsView, "RentalsBoard", label=_l("Availability board"), icon="fa-th",
                        category="rentals", href="/rentals/board/")
    appbuilder.add_link("RentalsOverdue", label=_l("Overdue loans"), href="/rentals/overdue/", icon="fa-clock-o",
                        category="rentals", baseview=RentalsView)


def _receipt_context(loan):
    from .models import PAYMENT_METHODS
    return {"payment_method": PAYMENT_METHODS.get(loan.payment_method, loan.payment_method),
            "unit": _l("hour") if loan.item_type.rate_unit == "hour" else _l("day")}


def _returned(loan):
    """A return receipt exists only once the item is back (or written off)."""
    from erp_core.errors import Conflict
    from flask_babel import gettext as _
    from .models import OPEN
    if loan.status == OPEN:
        raise Conflict(_("%(doc)s is still out: there is no return receipt yet.", doc=loan.name))
    return {}


def _cash_context(key):
    """Key "2026-11-24" or "2026-11-24_username"."""
    from erp_core.errors import NotFound
    from .services import cash_summary
    day_text, _sep, clerk = str(key).partition("_")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise NotFound(_l("Print the summary of a day: /print/rentals.cash_summary/YYYY-MM-DD.pdf"))
    rows = cash_summary(day, clerk or None)
    keys = ["deposits_taken", "deposits_refunded", "deposits_applied", "deposit_change", "balances_paid",
            "fee_income", "cash"]
    totals = {k: sum((r[k] for r in rows), Decimal("0.00")) for k in keys}
    return {"day": day.isoformat(), "rows": rows, "totals": totals}


def _cash_keys(date=None, period=None):
    """Days with deposit movements (run.py print rentals.cash_summary --date/--period/--all)."""
    from erp_core.extensions import db
    from erp_core.types import LOCAL_TZ
    from sqlalchemy import select
    from .models import DepositMovement
    days = sorted({at.astimezone(LOCAL_TZ).date().isoformat() for at in db.session.scalars(select(DepositMovement.at))})
    return [d for d in days if d.startswith(date or period or "")]


@hookimpl
def houqin_print_formats():
    from .models import Loan
    return [
        PrintFormat("rentals.receipt", _l("Rental receipt"), "rentals/print/receipt.html", Loan, _receipt_context,
                    papers=("a4", "receipt80")),
        PrintFormat("rentals.return_receipt", _l("Return receipt"), "rentals/print/return_receipt.html", Loan,
                    _returned, papers=("a4", "receipt80")),
        PrintFormat("rentals.cash_summary", _l("Daily cash summary"), "rentals/print/cash_summary.html",
                    None, _cash_context, permission="Loan", key="date", keys=_cash_keys),
    ]


@hookimpl
def houqin_dashboard_widgets():
    from erp_core.extensions import db
    from erp_core.types import now
    from sqlalchemy import func, select
    from .models import OPEN, Asset, Loan

    def counts(user):
        out = db.session.scalar(select(func.count()).select_from(Loan).where(Loan.status == OPEN))
        late = db.session.scalar(select(func.count()).select_from(Loan).where(Loan.status == OPEN,
                                                                             Loan.due_at < now()))
        waiting = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.status == "disinfection"))
        return {"value": out, "hint": _l("%(late)s overdue, %(waiting)s awaiting disinfection", late=late,
                                         waiting=waiting), "link": "/rentals/board/"}
    return [Widget("rentals_out", _l("Items lent out"), "Loan", counts, order=10)]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)
