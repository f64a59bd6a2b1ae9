"""Lend + return round trips through the rentals API, 1 client vs 8 concurrent clients.

The app runs under gunicorn (4 workers on 127.0.0.1, as in production) on a fresh
database; each client is a thread sending real HTTP requests with its own assets. Items
need no disinfection here so an asset can be lent again straight away. The 1-client run
is the baseline for the 8-client run, in the same process.
Run: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/rentals_roundtrip.py
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal

from _setup import fresh_app, percentile

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
        port = _free_port()
        env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   HOUQIN_SECRET_KEY="bench-secret-key-bench-secret-key-32", PYTHONPATH=ROOT)
        server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "4", "-b",
                                   f"127.0.0.1:{port}", "--log-level", "warning", "erp_core.app:create_app()"],
                                  env=env, cwd=ROOT)
        try:
            _wait(port)
            token = _call(port, "/api/v1/security/login", {"username": user, "password": PASSWORD,
                                                           "provider": "db"}, {})[1]["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            results = _run(port, headers)
        finally:
            server.terminate()
            server.wait(timeout=20)
        db_kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        for clients, (rate, p95) in results.items():
            print(f"{db_kind}, gunicorn 4 workers: {clients} client(s): {rate:.1f} lend+return round trips/s, "
                  f"p95 {p95:.0f} ms")
        print(f"8 clients vs 1: {results[8][0] / results[1][0]:.2f}x throughput")
    finally:
        if cleanup:
            cleanup()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _call(port, path, body, headers, conn=None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def _run(port, headers):
    def client_loop(i, latencies):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(ROUNDS):
            t = time.perf_counter()
            s1, r1 = _call(port, "/api/v1/rentals/lend", {"asset_code": f"B-{i:03d}", "borrower_name": "压测",
                                                           "phone": "13800000000"}, headers, conn)
            s2, r2 = _call(port, "/api/v1/rentals/return", {"loan": r1.get("name")}, headers, conn)
            assert s1 == 201 and s2 == 200, (r1, r2)
            latencies.append(time.perf_counter() - t)

    results = {}
    for clients in (1, 8):
        latencies = []
        threads = [threading.Thread(target=client_loop, args=(i, latencies)) for i in range(clients)]
        t = time.perf_counter()
        [th.start() for th in threads]
        [th.join() for th in threads]
        wall = time.perf_counter() - t
        results[clients] = (len(latencies) / wall, percentile(latencies, 95) * 1000)
    return results



if __name__ == "__main__":
    main()
