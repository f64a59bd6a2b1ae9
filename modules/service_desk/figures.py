"""The figures people ask for, each one SQL aggregate over the work orders (no loop over rows):

* received: work orders taken (one per request not linked as a duplicate), cancelled ones excluded;
* completion rate: completed (completed or closed) / received;
* dispatched share: dispatched through the desk / received;
* on-time rate: completed within the resolution target / completed;
* mean response: minutes from receipt to acceptance (orders accepted);
* mean resolution: minutes from receipt to completion (orders completed);
* satisfaction: mean rating of the rated orders; breaches: orders that missed a target.

Per category, team, vendor (own teams together) or month; month over month; the oversight
list of unfinished and cross-department orders."""
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, select

from erp_core.extensions import db
from erp_core.money import half_up
from erp_core.types import LOCAL_TZ, now

from .models import CANCELLED, DONE_STATES, OPEN_STATES, WO_STATES, Category, Team, WorkOrder

GROUPS = {"category": _l("Category"), "team": _l("Team"), "vendor": _l("Vendor"), "month": _l("Month")}
OWN = _l("Hospital's own teams")


def _aggregates():
    W = WorkOrder
    done = W.status.in_(DONE_STATES)
    one = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    return [func.count(W.id).label("received"), one(done).label("completed"),
            one(W.dispatched_at.is_not(None)).label("dispatched"),
            one(and_(done, W.resolution_met.is_(True))).label("on_time"),
            one(and_(done, W.resolution_met.is_not(None))).label("timed"),
            func.avg(W.response_mins).label("response"),
            func.avg(case((done, W.resolution_mins))).label("resolution"),
            func.count(W.rating).label("rated"), func.avg(W.rating).label("satisfaction"),
            one(W.breached_at.is_not(None)).label("breaches")]


def query(by=None, month=None, since=None):
    """The SELECT behind a table of figures (the bench times exactly this)."""
    W = WorkOrder
    key = {"category": Category.title, "team": Team.title, "vendor": func.coalesce(func.nullif(Team.vendor_name, ""),
                                                                                      literal(str(OWN))),
           "month": W.month, None: literal("")}[by]
    stmt = select(key.label("key"), *_aggregates()).select_from(W).where(W.status != CANCELLED)
    if by == "category":
        stmt = stmt.join(Category, Category.id == W.category_id)
    elif by in ("team", "vendor"):
        stmt = stmt.join(Team, Team.id == W.team_id)
    if month:
        stmt = stmt.where(W.month == month)
    if since is not None:
        stmt = stmt.where(W.received_at >= since)
    return stmt.group_by(key).order_by(key) if by else stmt


def _pct(part, whole):
    return half_up(Decimal(part or 0) * 100 / whole, 1) if whole else None


def _num(value, places=1):
    return half_up(Decimal(str(value)), places) if value is not None else None


def _row(r):
    received, completed = r.received or 0, r.completed or 0
    return {"key": r.key, "received": received, "completed": completed, "dispatched": r.dispatched or 0,
            "completion_rate": _pct(completed, received), "dispatched_share": _pct(r.dispatched, received),
            "on_time_rate": _pct(r.on_time, r.timed), "mean_response": _num(r.response),
            "mean_resolution": _num(r.resolution), "rated": r.rated or 0, "satisfaction": _num(r.satisfaction, 2),
            "breaches": r.breaches or 0}


def table(by=None, month=None, since=None):
    rows = [_row(r) for r in db.session.execute(query(by, month, since))]
    return rows if by else (rows[0] if rows else _row(_Empty()))


class _Empty:
    key, received, completed, dispatched, on_time, timed = "", 0, 0, 0, 0, 0
    response = resolution = satisfaction = None
    rated = breaches = 0


def previous_month(month):
    y, m = (int(x) for x in month.split("-"))
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def month_over_month(month):
    """This month, the month before, and the change of each figure."""
    this, before = table(None, month), table(None, previous_month(month))
    change = {}
    for k, v in this.items():
        if k == "key":
            continue
        b = before.get(k)
        change[k] = (v - b) if v is not None and b is not None else None
    return {"month": month, "previous": previous_month(month), "this": this, "before": before, "change": change}


def latest_month():
    return db.session.scalar(select(func.max(WorkOrder.month))) or now().strftime("%Y-%m")


def oversight(user=None, limit=200):
    """Unfinished orders (oldest first) and the cross-department ones among them, as far as the
    user's record rules let them see (a team leader: their teams' orders)."""
    from erp_core.permissions import scoped_select
    W = WorkOrder
    base = scoped_select(W, user) if user is not None else select(W)
    unfinished = db.session.scalars(base.where(W.status.in_(OPEN_STATES)).order_by(W.received_at)
                                    .limit(limit)).all()
    cross = db.session.scalars(base.where(W.status.in_(OPEN_STATES), W.cross_department.is_(True))
                               .order_by(W.received_at).limit(limit)).all()
    return {"unfinished": unfinished, "cross_department": cross}


def wall(at=None):
    """What the centre's TV shows."""
    from .services import current_notices
    at = at or now()
    W = WorkOrder
    by_status = dict(db.session.execute(select(W.status, func.count()).where(W.status.in_(OPEN_STATES))
                                        .group_by(W.status)).all())
    overdue = db.session.scalars(select(W).where(W.status.in_(OPEN_STATES), (W.resolution_due < at) |
                                                 (W.response_due < at) | W.breached_at.is_not(None))
                                 .order_by(W.received_at).limit(30)).all()
    midnight = datetime.combine(at.astimezone(LOCAL_TZ).date(), time(0), tzinfo=LOCAL_TZ)
    today = table(None, since=midnight)
    return {"at": at.isoformat(),
            "open": [{"status": s, "label": str(WO_STATES[s]), "count": by_status.get(s, 0)} for s in OPEN_STATES],
            "overdue": [{"name": w.name, "category": w.category.title,
                         "location": w.location.path_text if w.location else "",
                         "team": w.team.title if w.team else "", "status": str(w.status_label),
                         "due": (w.resolution_due or w.response_due).isoformat()
                         if (w.resolution_due or w.response_due) else None} for w in overdue],
            "today": jsonable(today),
            "notices": [{"title": n.title, "kind": n.kind, "body": n.body, "until": n.valid_until.isoformat()}
                        for n in current_notices(at)]}


def jsonable(row):
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


# --- as people read them ---------------------------------------------------------------------

def fmt(kind, value):
    if value is None:
        return "–"
    if kind == "percent":
        return f"{value} %"
    if kind == "minutes":
        total = int(half_up(value))
        h, m = divmod(total, 60)
        return _("%(h)s h %(m)s min", h=h, m=m) if h else _("%(m)s min", m=m)
    if kind == "rating":
        return f"{value:.2f}"
    return f"{value:,}"
