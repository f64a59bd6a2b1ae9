"""Shared bench helpers: a fresh migrated database, medians, the app under gunicorn."""
import os
import statistics
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def fresh_database(kind):
    """(url, cleanup) of a new empty database: ``kind`` "sqlite" or "postgresql"."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from erp_core.config import database_url
    base = make_url(database_url())
    name = f"houqin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def cleanup():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), cleanup


def fresh_app(url):
    from erp_core import migrate, permissions
    from erp_core.app import create_app
    from erp_core.config import TestConfig
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12}
                     if url.startswith("postgresql") else {})
    with app.app_context():
        migrate.upgrade(app)
        permissions.sync(app)
    return app


def median_ms(fn, n=7, warm=1):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def _reachable(host, port):
    import socket
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


class served:
    """``with served(url, workers=4) as port:`` the app under gunicorn on 127.0.0.1."""

    def __init__(self, url, workers=4, port=None):
        self.url, self.workers, self.port = url, workers, port

    def __enter__(self):
        import socket
        import subprocess
        if self.port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        env = dict(os.environ, DATABASE_URL=self.url, HOUQIN_SECRET_KEY="bench-secret-key-bench-secret-key-32",
                   PYTHONPATH=ROOT)
        if "RATELIMIT_STORAGE_URI" not in env and _reachable("127.0.0.1", 6379):
            env["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/6"     # as in production: shared limits
        self.server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w",
                                        str(self.workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                                        "erp_core.app:create_app()"], env=env, cwd=ROOT)
        import urllib.request
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=2).read()
                return self.port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc):
        self.server.terminate()
        self.server.wait(timeout=30)
