"""Service desk at volume (issue 21): the figures query beside the hand-written SQL of the same
figures, and intake-to-dispatch through the API beside the same client's light lookup call
(both baselines measured in the same run, same database)."""
import time

from .common import median_ms, ratio

RAW = """
SELECT c.title AS key, count(w.id) AS received,
       sum(CASE WHEN w.status IN ('completed', 'closed') THEN 1 ELSE 0 END) AS completed,
       sum(CASE WHEN w.dispatched_at IS NOT NULL THEN 1 ELSE 0 END) AS dispatched,
       sum(CASE WHEN w.status IN ('completed', 'closed') AND w.resolution_met THEN 1 ELSE 0 END) AS on_time,
       avg(w.response_mins) AS response, count(w.rating) AS rated, avg(w.rating) AS satisfaction,
       sum(CASE WHEN w.breached_at IS NOT NULL THEN 1 ELSE 0 END) AS breaches
FROM service_desk_work_order w JOIN service_desk_category c ON c.id = w.category_id
WHERE w.status != 'cancelled' AND w.month = :month
GROUP BY c.title ORDER BY c.title
"""


def run(app, n=7, calls=100, log=print):
    """Markdown lines; the app's database already holds the generated orders."""
    from sqlalchemy import func, select, text
    from erp_core.extensions import db
    from erp_core.testing import PASSWORD, ensure_user
    from modules.service_desk import figures
    from modules.service_desk.models import Location, WorkOrder
    out = []
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(WorkOrder))
        month = db.session.scalar(select(func.max(WorkOrder.month)).where(WorkOrder.month < figures.latest_month()))
        in_month = db.session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.month == month))
        ours = figures.table("category", month)
        raw_rows = db.session.execute(text(RAW), {"month": month}).all()
        assert [(r["key"], r["received"], r["completed"], r["breaches"]) for r in ours] == \
            [(r.key, r.received, r.completed, r.breaches) for r in raw_rows], "the figures disagree with the raw SQL"
        t_ours = median_ms(lambda: figures.table("category", month), n)
        t_raw = median_ms(lambda: db.session.execute(text(RAW), {"month": month}).all(), n)
        t_all = median_ms(lambda: figures.table("team"), n)
        rooms = db.session.scalars(select(Location.code).where(Location.level == "room")).all()
        team = db.session.scalar(text("SELECT code FROM service_desk_team WHERE active ORDER BY code LIMIT 1"))
    out.append(f"- Figures per category for {month} ({in_month:,} of {total:,} work orders): service "
               f"{t_ours:.1f} ms vs raw SQL {t_raw:.1f} ms ({ratio(t_ours, t_raw)}); per team over all months "
               f"{t_all:.1f} ms.")
    user = ensure_user(app, "Dispatcher", "bench_dispatcher")
    client = app.test_client()
    assert client.post("/login/", data={"username": user, "password": PASSWORD}).status_code == 302
    t = time.perf_counter()
    for i in range(calls):
        assert client.get(f"/api/v1/service_desk/lookup?phone=8{i % 50:03d}").status_code == 200
    light = calls / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(calls):
        r = client.post("/api/v1/service_desk/intake", json={
            "category": "water", "location": rooms[i % len(rooms)], "description": "压测报修", "force": True})
        assert r.status_code == 201, r.get_data(as_text=True)
        d = client.post("/api/v1/service_desk_order/dispatch", json={"order": r.json["work_order"]["name"], "team": team})
        assert d.status_code == 200, d.get_data(as_text=True)
    rate = calls / (time.perf_counter() - t)
    out.append(f"- Intake then dispatch through the API, one client in-process: {rate:.1f} requests taken and "
               f"dispatched per second ({calls} of them; 2 calls each) vs {light:.1f} per second of the light lookup "
               f"call by the same client.")
    for line in out:
        log("  " + line[2:])
    return out
