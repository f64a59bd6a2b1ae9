from erp_core.dashboard import Widget
from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

EVENTS = []   # (doctype, event) seen by the doc-event hook, for tests


@hookimpl
def houqin_roles():
    return {
        "Sample Clerk": {"SampleRequest": ["read", "create", "write", "delete", "print", "export", "import"],
                         "SampleInvoice": ["read", "create", "write", "submit", "cancel"]},
        "Sample Manager": {"SampleRequest": ["read", "print"]},
        "Sample Own": {"SampleRequest": ["read", "create", "write", "print", "export"]},
        "Auditor": {"SampleRequest": ["read"], "SampleInvoice": ["read"]},
    }


@hookimpl
def houqin_print_formats():
    from .models import SampleRequest
    return [PrintFormat(name="sample.request", title="Sample request", template="sample/print/request.html",
                        model=SampleRequest),
            PrintFormat(name="sample.blank", title="Blank sample form", template="sample/print/request.html",
                        permission="SampleRequest", keys=lambda date=None, period=None: ["blank"])]


@hookimpl
def houqin_demo_data(session):
    from decimal import Decimal
    from .models import SampleRequest
    session.add(SampleRequest(title="演示样品", ward="A", amount=Decimal("12.50")))


@hookimpl
def houqin_dashboard_widgets():
    from erp_core.extensions import db
    from erp_core.permissions import scoped_select
    from sqlalchemy import func, select
    from .models import SampleRequest

    def count(user):
        stmt = scoped_select(SampleRequest, user).with_only_columns(func.count()).select_from(SampleRequest)
        return {"value": db.session.scalar(stmt)}

    return [Widget("sample_count", "Sample requests", "SampleRequest", count),
            Widget("sample_bars", "Sample amounts", "SampleInvoice",
                   lambda user: {"points": [("一月", 3), ("二月", 5)]}, kind="bars")]


@hookimpl
def houqin_doc_event(doc, event):
    EVENTS.append((type(doc).__name__, event))


# Background jobs are declared at import of hooks.py (erp_core/jobs.py); the Celery tests
# run them in a real worker process, which imports this module as the web app does.
from datetime import timedelta  # noqa: E402

from erp_core.jobs import job  # noqa: E402


@job("sample.count_requests")
def count_requests(label):
    from sqlalchemy import func, select
    from erp_core.context import actor
    from erp_core.extensions import db
    from .models import SampleRequest
    return f"{label}: {db.session.scalar(select(func.count()).select_from(SampleRequest))} requests by {actor()}"


@job("sample.fail", retries=1, retry_delay=timedelta(0))
def fail():
    raise RuntimeError("sample failure")


@job("sample.tick", every=timedelta(seconds=2))
def tick():
    return "tick"
