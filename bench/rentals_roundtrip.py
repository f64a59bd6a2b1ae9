"""Lend + return round trips through the rentals API, 1 client vs 8 concurrent clients.

The app runs under gunicorn (4 workers on 127.0.0.1, as in production) on a fresh
database; each client is a thread sending real HTTP requests with its own assets. Items
need no disinfection here so an asset can be lent again straight away. The 1-client run
is the baseline for the 8-client run, in the same process.
Run: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/rentals_roundtrip.py
"""
import http.client
import time
from decimal import Decimal

from _setup import call, concurrently, fresh_app, login, served

ROUNDS = 25


def main():
    app, cleanup = fresh_app()
    try:
        from erp_core.extensions import db
        from erp_core.testing import PASSWORD, ensure_user
        from modules.rentals.models import Asset, ItemType
        with app.app_context():
            kind = ItemType(title="轮椅", deposit=Decimal("300"), free_minutes=30, rate=Decimal("2"),
                            daily_cap=Decimal("10"), needs_disinfection=False)
            db.session.add(kind)
            db.session.add_all([Asset(code=f"B-{i:03d}", item_type=kind) for i in range(8)])
            db.session.commit()
        user = ensure_user(app, "Front Desk")
        with served(app) as port:
            headers = login(port, user, PASSWORD)
            results = {clients: concurrently(clients, _client(port, headers)) for clients in (1, 8)}
        db_kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        for clients, (rate, p95) in results.items():
            print(f"{db_kind}, gunicorn 4 workers: {clients} client(s): {rate:.1f} lend+return round trips/s, "
                  f"p95 {p95:.0f} ms")
        print(f"8 clients vs 1: {results[8][0] / results[1][0]:.2f}x throughput")
    finally:
        if cleanup:
            cleanup()


def _client(port, headers):
    def loop(i, latencies):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(ROUNDS):
            t = time.perf_counter()
            s1, r1 = call(port, "/api/v1/rentals/lend", {"asset_code": f"B-{i:03d}", "borrower_name": "压测",
                                                          "phone": "13800000000"}, headers, conn)
            s2, r2 = call(port, "/api/v1/rentals/return", {"loan": r1.get("name")}, headers, conn)
            assert s1 == 201 and s2 == 200, (r1, r2)
            latencies.append(time.perf_counter() - t)
    return loop


if __name__ == "__main__":
    main()
