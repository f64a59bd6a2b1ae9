"""The desk's periodic tasks. Each takes the time it runs at (so tests and the demo replay
days) and returns what it did; notifications carry a key so a rerun sends nothing twice."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from erp_core.extensions import db
from erp_core.jobs import job
from erp_core.notify import notify
from erp_core.types import now

from .models import COMPLETED, MANAGER, OPEN_STATES, Notice, WorkOrder

def send(recipients, subject, body, link=None, key=None):
    """erp_core.notify: one message per person and key, however often a job reruns."""
    notify([r for r in recipients if r is not None], subject, body, link=link, key=key)


def _link(wo):
    return f"/service_desk/work_order/show/{wo.id}"


@job("service_desk.warn_due", every=timedelta(minutes=5))
def warn_due(at=None):
    """Orders whose response or resolution falls due within 30 minutes: tell the technician
    (or the team leader when nobody has taken it yet), once."""
    at = at or now()
    soon = at + timedelta(minutes=30)
    rows = db.session.scalars(select(WorkOrder).where(
        WorkOrder.status.in_(OPEN_STATES), WorkOrder.warned_at.is_(None), WorkOrder.breached_at.is_(None),
        or_(WorkOrder.response_due.between(at, soon), WorkOrder.resolution_due.between(at, soon)))).all()
    for wo in rows:
        due = wo.response_due if wo.response_due and wo.response_due <= soon else wo.resolution_due
        who = [wo.technician] if wo.technician else [wo.team.leader if wo.team else None]
        send(who, _("%(doc)s is due at %(t)s", doc=wo.name, t=due.strftime("%H:%M")), wo.description[:200],
             link=_link(wo), key=f"warn:{wo.id}")
        wo.warned_at = at
    db.session.flush()
    return len(rows)


@job("service_desk.escalate_breaches", every=timedelta(minutes=5))
def escalate_breaches(at=None):
    """Orders past their due time: mark the breach and tell the team leader and the managers."""
    at = at or now()
    rows = db.session.scalars(select(WorkOrder).where(
        WorkOrder.status.in_(OPEN_STATES), WorkOrder.breached_at.is_(None),
        or_(WorkOrder.response_due < at, WorkOrder.resolution_due < at))).all()
    for wo in rows:
        wo.breached_at = min(d for d in (wo.response_due, wo.resolution_due) if d is not None)
        leader = wo.team.leader if wo.team else None
        send([leader, MANAGER], _("%(doc)s missed its SLA", doc=wo.name),
             _("%(cat)s at %(loc)s, team %(team)s", cat=wo.category.title, loc=wo.location.path_text if wo.location else "",
               team=wo.team.title if wo.team else "-"), link=_link(wo), key=f"breach:{wo.id}")
    db.session.flush()
    return len(rows)


@job("service_desk.remind_ratings", every=timedelta(hours=1))
def remind_ratings(at=None):
    """One reminder per unrated completed order, a day after completion."""
    at = at or now()
    rows = db.session.scalars(select(WorkOrder).where(
        WorkOrder.status == COMPLETED, WorkOrder.rating.is_(None), WorkOrder.rating_reminded_at.is_(None),
        WorkOrder.requester_id.is_not(None), WorkOrder.completed_at <= at - timedelta(days=1))).all()
    for wo in rows:
        send([wo.requester], _("Please rate %(doc)s", doc=wo.name),
             _("%(cat)s was completed; tell us how it went.", cat=wo.category.title), link=_link(wo),
             key=f"rate:{wo.id}")
        wo.rating_reminded_at = at
    db.session.flush()
    return len(rows)


@job("service_desk.close_rating_window", every=timedelta(hours=1))
def close_rating_window(at=None):
    """Completed orders whose rating window has passed are closed unrated."""
    from .services import _close, rating_days
    at = at or now()
    rows = db.session.scalars(select(WorkOrder).where(
        WorkOrder.status == COMPLETED, WorkOrder.completed_at < at - timedelta(days=rating_days()))).all()
    for wo in rows:
        _close(wo, at)
    db.session.flush()
    return len(rows)


@job("service_desk.publish_notices", every=timedelta(minutes=5))
def publish_notices(at=None):
    """Scheduled notices go out when their validity begins; published ones expire."""
    from .services import _notify_notice
    at = at or now()
    due = db.session.scalars(select(Notice).where(Notice.status == "scheduled", Notice.valid_from <= at)).all()
    for n in due:
        n.status, n.published_at = ("published", at) if n.valid_until > at else ("expired", n.published_at)
        if n.status == "published":
            _notify_notice(n)
    old = db.session.scalars(select(Notice).where(Notice.status == "published", Notice.valid_until <= at)).all()
    for n in old:
        n.status = "expired"
    db.session.flush()
    return len(due) + len(old)
