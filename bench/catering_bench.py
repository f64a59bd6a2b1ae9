"""Catering: meal orders placed through the API, 1 client vs 8 concurrent clients (gunicorn,
4 workers, a fresh database), and the kitchen production sheet for 500 orders (render time,
with the HTML alone as the in-process baseline).
Run: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/catering_bench.py
"""
import http.client
import time
from datetime import timedelta
from decimal import Decimal

from _setup import call, concurrently, fresh_app, login, served

ORDERS_PER_CLIENT = 40


def main():
    app, cleanup = fresh_app()
    try:
        from erp_core.testing import PASSWORD, ensure_user
        day, dishes = _setup_menu(app)
        user = ensure_user(app, "Catering Clerk")
        with served(app) as port:
            headers = login(port, user, PASSWORD)
            results = {clients: concurrently(clients, _client(port, headers, day, dishes)) for clients in (1, 8)}
        db_kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        for clients, (rate, p95) in results.items():
            print(f"{db_kind}, gunicorn 4 workers: {clients} client(s): {rate:.1f} orders/s placed, p95 {p95:.0f} ms")
        print(f"8 clients vs 1: {results[8][0] / results[1][0]:.2f}x throughput")
        _production_sheet(app, day)
    finally:
        if cleanup:
            cleanup()


def _setup_menu(app):
    from erp_core.context import acting_as
    from erp_core.extensions import db
    from erp_core.types import now
    from modules.catering.models import DailyMenu, Diet, Dish, MealSlot, Ward
    with app.app_context(), acting_as("bench"):
        wards = [Ward(code=f"W{i}", title=f"{i}病区") for i in range(1, 13)]
        diets = [Diet(code="regular", title="普通饮食", kind="basic"),
                 Diet(code="diabetic", title="糖尿病饮食", kind="therapeutic", contraindications="蔗糖"),
                 Diet(code="low_salt", title="低盐饮食", kind="therapeutic", contraindications="高盐")]
        dishes = [Dish(title=f"菜品{i:02d}", price=Decimal("6.50") + i, diets="diabetic, low_salt") for i in range(20)]
        slot = MealSlot(code="night", title="夜宵", start_time="20:30", end_time="21:30", cutoff_minutes=60)
        day = now().date() + timedelta(days=1)
        db.session.add_all([*wards, *diets, *dishes, slot, DailyMenu(day=day, slot=slot, dishes=dishes)])
        db.session.commit()
        return day, [d.name for d in dishes]


def _client(port, headers, day, dishes):
    diets = ["regular", "diabetic", "low_salt"]

    def loop(i, latencies):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(ORDERS_PER_CLIENT):
            body = {"ward": f"W{1 + (i + n) % 12}", "bed": f"{n:02d}", "patient_name": "压测患者",
                    "diet": diets[n % 3], "slot": "night", "day": day.isoformat(),
                    "lines": [{"dish": dishes[(i + n) % 20], "qty": 1 + n % 3}, {"dish": dishes[(n * 7) % 20], "qty": 1}]}
            t = time.perf_counter()
            status, result = call(port, "/api/v1/catering/orders", body, headers, conn)
            assert status == 201, result
            latencies.append(time.perf_counter() - t)
    return loop


def _production_sheet(app, day):
    """Top up to 500 orders, then time the production sheet: the sums, the HTML, the PDF."""
    from erp_core import printing
    from erp_core.extensions import db
    from erp_core.testing import get_user
    from modules.catering import services
    from modules.catering.hooks import houqin_print_formats
    from modules.catering.models import MealSlot, Order
    from sqlalchemy import func, select
    fmt = next(f for f in houqin_print_formats() if f.name == "catering.production")
    key = f"{day.isoformat()}~night"
    with app.test_request_context():
        clerk = get_user(app, "Catering Clerk")
        have = db.session.scalar(select(func.count(Order.id)))
        from modules.catering.models import Dish
        names = db.session.scalars(select(Dish.name)).all()
        for n in range(have, 500):
            services.place_order({"ward": f"W{1 + n % 12}", "bed": f"{n:03d}", "patient_name": "压测患者",
                                  "diet": "regular", "slot": "night", "day": day.isoformat(),
                                  "lines": [{"dish": names[n % 20], "qty": 1}]}, by=clerk)
        db.session.commit()
        assert db.session.scalar(select(func.count(Order.id))) == 500
        printing.render_pdf(fmt, key)                     # warm the renderer (fonts, CSS)
        t = time.perf_counter()
        rows, count = services.production(day, db.session.scalars(select(MealSlot)).one())
        t_sums = time.perf_counter() - t
        t = time.perf_counter()
        html = printing.render_html(fmt, key)
        t_html = time.perf_counter() - t
        t = time.perf_counter()
        pdf = printing.render_pdf(fmt, key)
        t_pdf = time.perf_counter() - t
    print(f"production sheet, {count} orders, {len(rows)} dishes: sums {t_sums * 1000:.0f} ms, "
          f"HTML {t_html * 1000:.0f} ms, PDF {t_pdf * 1000:.0f} ms ({len(pdf) // 1024} KB); "
          f"PDF vs HTML alone: {t_pdf / t_html:.1f}x")


if __name__ == "__main__":
    main()
