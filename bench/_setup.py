"""Shared bench set-up: a fresh database (PostgreSQL if DATABASE_URL says so, else SQLite),
migrated and synced, and an app with test settings."""
import os
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fresh_app():
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from erp_core import migrate, permissions
    from erp_core.app import create_app
    from erp_core.config import TestConfig, database_url
    url, cleanup = f"sqlite:///{tempfile.mkdtemp()}/bench.db", None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        base = make_url(database_url())
        name = f"houqin_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12})
    with app.app_context():
        migrate.upgrade(app)
        permissions.sync(app)
    return app, cleanup


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class served:
    """``with served(app, workers=4) as port:`` the app under gunicorn on 127.0.0.1, as in production."""

    def __init__(self, app, workers=4):
        self.app, self.workers = app, workers

    def __enter__(self):
        import socket
        import subprocess
        import time
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, DATABASE_URL=self.app.config["SQLALCHEMY_DATABASE_URI"],
                   HOUQIN_SECRET_KEY="bench-secret-key-bench-secret-key-32", PYTHONPATH=ROOT)
        self.server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w",
                                        str(self.workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                                        "erp_core.app:create_app()"], env=env, cwd=ROOT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self.port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc):
        self.server.terminate()
        self.server.wait(timeout=20)


def call(port, path, body, headers, conn=None):
    import http.client
    import json
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def login(port, username, password):
    token = call(port, "/api/v1/security/login", {"username": username, "password": password, "provider": "db"},
                 {})[1]["access_token"]
    return {"Authorization": f"Bearer {token}"}


def concurrently(clients, work):
    """Run ``work(i, latencies)`` in ``clients`` threads; (calls per second, p95 ms)."""
    import threading
    import time
    latencies = []
    threads = [threading.Thread(target=work, args=(i, latencies)) for i in range(clients)]
    t = time.perf_counter()
    [th.start() for th in threads]
    [th.join() for th in threads]
    wall = time.perf_counter() - t
    return len(latencies) / wall, percentile(latencies, 95) * 1000
