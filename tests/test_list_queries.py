"""Issue 17.6: a list page and a list API cost a constant number of SQL statements.

For EVERY generated document view and API (from the registry, not a hand-kept list): the
demo data is loaded, each document's first demo row is cloned (SQL-level copies with unique
values changed) until there are at least 50 rows, then the list page and the list API are
fetched at 5 and at 50 rows per page, counting the statements the request runs. The count
must not grow with the rows and must stay within ``LIMIT``."""
from datetime import timedelta

import pytest
from sqlalchemy import Date, DateTime, Integer, String, event, func, insert, select

from erp_core.extensions import db

LIMIT = 10
ROWS = 50


def _unique_columns(table):
    cols = set()
    for c in table.columns:
        if c.unique:
            cols.add(c.name)
    for idx in table.indexes:
        if idx.unique:
            cols |= {c.name for c in idx.columns}
    for con in table.constraints:
        if con.__class__.__name__ == "UniqueConstraint":
            cols |= {c.name for c in con.columns}
    return cols


def _free_reference_combinations(table, session):
    """For a unique constraint made only of foreign keys (e.g. training × person), an iterator
    of value dicts not yet in the table, drawn from the referenced rows; None if no such constraint."""
    import itertools
    for con in list(table.constraints) + list(table.indexes):
        unique = con.__class__.__name__ == "UniqueConstraint" or getattr(con, "unique", False)
        cols = list(con.columns)
        if not unique or len(cols) < 2 or not all(c.foreign_keys for c in cols):
            continue
        choices = [session.scalars(select(next(iter(c.foreign_keys)).column)).all() for c in cols]
        taken = set(session.execute(select(*cols)).all())
        names = [c.name for c in cols]
        return (dict(zip(names, combo)) for combo in itertools.product(*choices) if combo not in taken)
    return None


def clone_rows(cls, n):
    """Copy the first row of ``cls`` until the table has ``n`` rows (None if it has none)."""
    table = cls.__table__
    session = db.session
    first = session.execute(select(table).order_by(table.c.id).limit(1)).mappings().first()
    if first is None:
        first = synthetic_row(cls)
        if first is None:
            return None
    have = session.scalar(select(func.count()).select_from(table))
    unique = _unique_columns(table)
    combos = _free_reference_combinations(table, session)
    rows = []
    for i in range(max(0, n - have)):
        row = {k: v for k, v in first.items() if k != "id"}
        if combos is not None:                        # unique over foreign keys only: new pairs
            pair = next(combos, None)
            if pair is None:
                break
            row.update(pair)
        for name in unique:
            col = table.c[name]
            value = row.get(name)
            if value is None or col.foreign_keys:     # keep references valid (PostgreSQL checks them)
                continue
            if isinstance(col.type, String):
                suffix = f"~{i}"
                length = col.type.length or 64
                row[name] = (str(value)[:length - len(suffix)] + suffix)
            elif isinstance(col.type, Integer):
                row[name] = value + 10000 + i
            elif isinstance(col.type, (Date, DateTime)):
                row[name] = value + timedelta(days=1000 + i)
        rows.append(row)
    if rows:
        session.execute(insert(table), rows)
        session.commit()
    return True


def synthetic_row(cls):
    """A row made from the column types alone (for a document the demo data leaves empty):
    required values by type, foreign keys to the first row of the referenced table."""
    from datetime import date, datetime, timezone
    from decimal import Decimal
    from sqlalchemy import Boolean, Numeric, Text
    from erp_core.types import UTCDateTime
    table = cls.__table__
    wf = getattr(cls, "_meta", None) and cls._meta.workflow
    row = {"workflow_state": wf.initial if wf else None} if "workflow_state" in table.c else {}
    for c in table.columns:
        if c.primary_key or c.name in row:
            continue
        if c.foreign_keys:
            target = next(iter(c.foreign_keys)).column
            value = db.session.scalar(select(target).limit(1))
            if value is None and not c.nullable:
                return None
            row[c.name] = value
            continue
        t = c.type
        if isinstance(t, UTCDateTime) or isinstance(t, DateTime):
            row[c.name] = datetime.now(timezone.utc)
        elif isinstance(t, Date):
            row[c.name] = date.today()
        elif isinstance(t, Boolean):
            row[c.name] = False
        elif isinstance(t, Numeric):
            row[c.name] = Decimal("1")
        elif isinstance(t, Integer):
            row[c.name] = 1 if c.name not in ("docstatus",) else 0
        elif isinstance(t, (String, Text)):
            row[c.name] = "x" if c.name != "name" else f"{table.name[:20]}-1"
    return row


class Counter:
    def __init__(self, engine):
        self.engine, self.n, self.sql = engine, 0, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args):
        self.n += 1
        self.sql.append(statement)


def _documents(app):
    return [d for d in app.extensions["houqin"].documents
            if getattr(d, "_view", None) is not None or getattr(d, "_api", None) is not None]


@pytest.fixture
def demo_rows(app):
    from erp_core.demo import load_demo
    with app.app_context():
        password = load_demo(app).password     # every demo user shares it
        empty = []
        for cls in _documents(app):
            if clone_rows(cls, ROWS) is None:
                empty.append(cls.__name__)
    return password, empty


def _measure(app, client, url):
    with app.app_context():
        engine = db.engine
    with Counter(engine) as c:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return c


def test_every_list_page_and_list_api_costs_constant_statements(app, demo_rows):
    password, empty = demo_rows
    client = app.test_client()
    assert client.post("/login/", data={"username": "admin", "password": password}).status_code == 302
    client.get("/")      # warm caches that are per process, not per request
    problems, report = [], []
    docs = _documents(app)
    assert len(docs) >= 20
    for cls in docs:
        if cls.__name__ in empty:
            continue
        view, api = getattr(cls, "_view", None), getattr(cls, "_api", None)
        targets = []
        if view is not None:
            name = view.__name__
            base = f"{view.route_base}/list/"
            targets.append(("page", lambda n, b=base, v=name: f"{b}?psize_{v}={n}"))
        if api is not None:
            targets.append(("api", lambda n, r=api.resource_name: f"/api/v1/{r}/?q=(page_size:{n})"))
        for kind, url in targets:
            client.get(url(5))     # first use of the view builds its forms/schemas
            small, large = _measure(app, client, url(5)), _measure(app, client, url(ROWS))
            report.append(f"{cls.__name__} {kind}: {small.n} at 5 rows, {large.n} at {ROWS}")
            if large.n > small.n or large.n > LIMIT:
                problems.append(report[-1] + "\n    " + "\n    ".join(s[:160] for s in large.sql[-12:]))
    print("\n".join(report))
    assert not problems, "\n".join(problems)
    if empty:   # measured all the others; say which could not be generated
        pytest.skip(f"no demo row to clone (generic rows impossible) for: {', '.join(empty)}")
