"""Realistic volumes, per module (issue 23). ``bench/generators/<module>.py`` holds a module's
generator; the bench runs the ones whose module is loaded and says which it skipped.

A generator module defines ``VOLUME`` (what it makes, for the table) and
``generate(session, scale) -> {table name: rows inserted}``; ``scale`` is 1.0 for the full
volume (``--quick`` passes a small one). Rows go in with bulk (executemany) inserts through
``bulk()``; the few parent rows (item types, wards, vendors) may use the ORM.
A module added later (the service desk's 100,000 work orders) adds its file here, or ships
``bench_data.py`` with the same two names in its own package — both are found."""
import importlib
import pkgutil
import time

# volumes the issue asks for, by module: listed even when the module is not here yet
EXPECTED = {"service_desk": "100,000 work orders"}


def bulk(session, table, rows, batch=5000):
    """Insert dict rows into ``table`` (a Table or a model) in executemany batches."""
    from sqlalchemy import insert
    table = getattr(table, "__table__", table)
    rows = list(rows)
    for i in range(0, len(rows), batch):
        session.execute(insert(table), rows[i:i + batch])
    return len(rows)


def document_row(name, when, **values):
    """The system columns every Document row carries (a bulk insert skips the ORM's)."""
    return dict(name=name, docstatus=values.pop("docstatus", 0), version=1, created_at=when, modified_at=when,
                created_by="bench", modified_by="bench", **values)


def generators(registry):
    """{module name: generator module} for the loaded modules that have one."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        found[info.name] = importlib.import_module(f"{__name__}.{info.name}")
    for m in registry.modules:       # a module's own bench_data.py wins
        try:
            found[m.name] = importlib.import_module(f"{m.package}.bench_data")
        except ModuleNotFoundError:
            pass
    loaded = {m.name for m in registry.modules}
    return {name: gen for name, gen in found.items() if name in loaded}


def run_all(app, scale=1.0, log=print):
    """Generate every loaded module's volume; rows of [module, volume, rows, seconds, rows/s | note]."""
    from erp_core.context import acting_as
    from erp_core.extensions import db
    registry = app.extensions["houqin"].registry
    gens = generators(registry)
    out = []
    for name, gen in gens.items():
        with app.app_context(), acting_as("bench"):
            t = time.perf_counter()
            counts = gen.generate(db.session, scale)
            db.session.commit()
            seconds = time.perf_counter() - t
        rows = sum(counts.values())
        out.append([name, gen.VOLUME, rows, seconds, f"{rows / seconds:,.0f} rows/s"])
        log(f"  generated {name}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    loaded = {m.name for m in registry.modules}
    for name, volume in EXPECTED.items():
        if name not in gens:
            note = "skipped: module not present" if name not in loaded else "skipped: no generator yet"
            out.append([name, volume, 0, 0.0, note])
            log(f"  {name}: {note}")
    return out
