"""``run.py backup`` / ``run.py restore``: every table (erp_core, modules, FAB's ab_*) as
typed JSON lines, database-independent, so a SQLite backup restores into PostgreSQL and
back. Restore replaces the content of an upgraded database (same schema revision) in one
transaction, then moves PostgreSQL's sequences past the restored ids. Check afterwards:
the command prints the row count per table, and ``run.py audit verify`` must pass (the
audit anchor file lives outside the database: keep it with the backup)."""
import base64
import json
from datetime import date, datetime, time
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Sequence, func, select, text


def _enc(value):
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    return value


def _dec(value):
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        return {"$dec": Decimal, "$dt": datetime.fromisoformat, "$date": date.fromisoformat,
                "$time": time.fromisoformat, "$b64": base64.b64decode}.get(k, lambda x: value)(v)
    return value


def tables():
    return list(Model.metadata.sorted_tables)


def dump_tables(engine):
    """{table: [row tuples in primary-key order]} (for comparing)."""
    out = {}
    with engine.connect() as conn:
        existing = set(engine.dialect.get_table_names(conn))
        for t in tables():
            if t.name in existing:
                order = list(t.primary_key.columns) or list(t.columns)
                out[t.name] = [tuple(_enc(v) if not isinstance(v, (int, str, bool, type(None), float)) else v
                                     for v in row) for row in conn.execute(select(t).order_by(*order))]
    return out


def backup(engine, path, store=None):
    """Every table, then the bytes of every attachment kept in ``store`` (storage.py), so
    one file restores a site whatever its attachment store."""
    counts = {}
    with engine.connect() as conn, open(path, "w", encoding="utf-8") as fh:
        existing = set(engine.dialect.get_table_names(conn))
        fh.write(json.dumps({"houqin_backup": 1, "dialect": engine.dialect.name}) + "\n")
        for t in tables():
            if t.name not in existing:
                continue
            order = list(t.primary_key.columns) or list(t.columns)
            n = 0
            for row in conn.execute(select(t).order_by(*order)):
                fh.write(json.dumps({"t": t.name, "r": {k: _enc(v) for k, v in row._mapping.items()}},
                                    ensure_ascii=False) + "\n")
                n += 1
            counts[t.name] = n
        if store is not None and "core_attachment" in existing:
            keys = conn.execute(text("SELECT DISTINCT sha256 FROM core_attachment WHERE sha256 IS NOT NULL"))
            for (key,) in keys:
                fh.write(json.dumps({"blob": key, "b": base64.b64encode(store.get(key)).decode()}) + "\n")
    return counts


def restore(engine, path, store=None):
    by_name = {t.name: t for t in tables()}
    rows = {}
    with open(path, encoding="utf-8") as fh:
        head = json.loads(fh.readline())
        if head.get("houqin_backup") != 1:
            raise ValueError("not a Houqin backup file")
        for line in fh:
            item = json.loads(line)
            if "blob" in item:      # stored before the rows: a row never lacks its bytes
                if store is None:
                    raise ValueError("the backup holds attachment files but this site keeps them in the database")
                store.put(item["blob"], base64.b64decode(item["b"]))
                continue
            rows.setdefault(item["t"], []).append({k: _dec(v) for k, v in item["r"].items()})
    unknown = set(rows) - set(by_name)
    if unknown:
        raise ValueError(f"tables not in this schema: {', '.join(sorted(unknown))}")
    with engine.begin() as conn:
        for t in reversed(tables()):
            conn.execute(t.delete())
        for t in tables():
            batch = rows.get(t.name, [])
            for i in range(0, len(batch), 500):
                conn.execute(t.insert(), batch[i:i + 500])
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return {name: len(r) for name, r in rows.items()}


def _reset_sequences(conn):
    for t in tables():
        for col in t.primary_key.columns:
            if not isinstance(col.type.python_type, type) or col.type.python_type is not int:
                continue
            seq = col.default.name if isinstance(col.default, Sequence) else conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}).scalar()
            if not seq:
                continue
            top = conn.execute(select(func.max(col))).scalar()
            conn.execute(text("SELECT setval(:s, :v, :called)"),
                         {"s": seq, "v": top or 1, "called": top is not None})
