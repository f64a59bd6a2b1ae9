"""Service desk: intake-to-dispatch through the API (requests/s, in-process test client, one
caller), and the figures query at 100,000 work orders against the hand-written SQL of the same
figures (baseline, same database, same run).
Run: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/service_desk.py [orders]
"""
import statistics
import sys
import time

from _setup import fresh_app

RAW = """
SELECT c.title AS key, count(w.id) AS received,
       sum(CASE WHEN w.status IN ('completed', 'closed') THEN 1 ELSE 0 END) AS completed,
       sum(CASE WHEN w.dispatched_at IS NOT NULL THEN 1 ELSE 0 END) AS dispatched,
       sum(CASE WHEN w.status IN ('completed', 'closed') AND w.resolution_met THEN 1 ELSE 0 END) AS on_time,
       sum(CASE WHEN w.status IN ('completed', 'closed') AND w.resolution_met IS NOT NULL THEN 1 ELSE 0 END) AS timed,
       avg(w.response_mins) AS response,
       avg(CASE WHEN w.status IN ('completed', 'closed') THEN w.resolution_mins END) AS resolution,
       count(w.rating) AS rated, avg(w.rating) AS satisfaction,
       sum(CASE WHEN w.breached_at IS NOT NULL THEN 1 ELSE 0 END) AS breaches
FROM service_desk_work_order w JOIN service_desk_category c ON c.id = w.category_id
WHERE w.status != 'cancelled' AND w.month = :month
GROUP BY c.title ORDER BY c.title
"""


def timed(fn, runs=7):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main(orders=100_000):
    app, cleanup = fresh_app()
    try:
        from sqlalchemy import func, select, text
        from erp_core.extensions import db
        from erp_core.testing import ensure_user, PASSWORD
        from modules.service_desk import demo, figures
        from modules.service_desk.models import WorkOrder
        with app.app_context():
            t = time.perf_counter()
            demo.load(db.session, days=90, per_day=max(10, orders // 91))
            db.session.commit()
            n = db.session.scalar(select(func.count()).select_from(WorkOrder))
            print(f"demo generator: {n} work orders in {time.perf_counter() - t:.1f} s")
            month = db.session.scalar(select(func.max(WorkOrder.month)).where(WorkOrder.month < figures.latest_month()))
            db.session.execute(text("ANALYZE") if db.engine.dialect.name == "postgresql" else text("ANALYZE"))
            ours = timed(lambda: figures.table("category", month))
            raw = timed(lambda: db.session.execute(text(RAW), {"month": month}).all())
            assert [(r["key"], r["received"]) for r in figures.table("category", month)] == \
                [(r.key, r.received) for r in db.session.execute(text(RAW), {"month": month})]
            whole = timed(lambda: figures.table("team"))
            print(f"figures per category, {month}: service {ours:.1f} ms vs raw SQL {raw:.1f} ms "
                  f"(median of 7); per team, all months: {whole:.1f} ms")
        _intake(app, ensure_user(app, "Dispatcher"), PASSWORD)
    finally:
        if cleanup:
            cleanup()


def _intake(app, user, password, count=150):
    from sqlalchemy import select
    from erp_core.extensions import db
    from modules.service_desk.models import Location
    client = app.test_client()
    assert client.post("/login/", data={"username": user, "password": password}).status_code == 302
    with app.app_context():
        rooms = db.session.scalars(select(Location.code).where(Location.level == "room")).all()
    t = time.perf_counter()
    for i in range(count):
        r = client.post("/api/v1/service_desk/intake", json={"category": "water", "location": rooms[i % len(rooms)],
                                                             "description": "bench", "force": True})
        assert r.status_code == 201, r.get_data(as_text=True)
        d = client.post("/api/v1/service_desk_order/dispatch",
                        json={"order": r.json["work_order"]["name"], "team": "SD"})
        assert d.status_code == 200, d.get_data(as_text=True)
    elapsed = time.perf_counter() - t
    print(f"intake + dispatch through the API: {count / elapsed:.1f} requests/s (each an intake and a dispatch, "
          f"one client, in-process)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
