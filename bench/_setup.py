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
