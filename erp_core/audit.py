"""Append-only, hash-chained audit log (ARCHITECTURE §4).

Every row stores the hash of the previous row; ``verify()`` recomputes the chain, so an
edited or deleted row is detected. Appends take a row lock on ``core_audit_head`` (an
UPDATE, which locks on PostgreSQL and takes SQLite's write lock), so concurrent
transactions chain one after the other instead of forking.
"""
import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Integer, String, Text, delete, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .context import actor
from .types import UTCDateTime, now

GENESIS = "0" * 64


class AuditLog(Model):
    __tablename__ = "core_audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    user: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    doctype: Mapped[str] = mapped_column(String(64), nullable=False)
    doc_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    docname: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    class Meta:   # erp_core.display: the audit log names people by their full name
        people = ("user",)

    def payload(self):
        return json.loads(self.data or "{}")


class AuditHead(Model):
    """One row: the end of the chain, and the anchor left by retention purges."""
    __tablename__ = "core_audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)
    anchor_hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)
    anchor_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _digest(prev, ts, user, action, doctype, doc_id, docname, data):
    canonical = json.dumps([prev, ts, user, action, doctype, doc_id, docname, data],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ts_text(ts):
    # Hash a UTC text form, so SQLite (no offset kept) and PostgreSQL agree after a round trip.
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def append(connection, entries):
    """Append ``entries`` (dicts: action, doctype, doc_id, docname, data[, user]) in the
    caller's transaction."""
    if not entries:
        return
    head = AuditHead.__table__
    connection.execute(update(head).where(head.c.id == 1).values(last_hash=head.c.last_hash))
    prev = connection.execute(select(head.c.last_hash).where(head.c.id == 1)).scalar()
    if prev is None:
        connection.execute(insert(head).values(id=1, last_hash=GENESIS, anchor_hash=GENESIS, anchor_id=0))
        prev = GENESIS
    rows = []
    for e in entries:
        ts = now()
        data = json.dumps(jsonable(e.get("data") or {}), ensure_ascii=False, sort_keys=True)
        row = dict(ts=ts, user=e.get("user") or actor(), action=e["action"], doctype=e["doctype"],
                   doc_id=e.get("doc_id"), docname=e.get("docname"), data=data, prev_hash=prev)
        row["hash"] = _digest(prev, _ts_text(ts), row["user"], row["action"], row["doctype"],
                              row["doc_id"], row["docname"], data)
        prev = row["hash"]
        rows.append(row)
    connection.execute(insert(AuditLog.__table__), rows)
    connection.execute(update(head).where(head.c.id == 1).values(last_hash=prev))


def record(session, doc, action, **data):
    """Write one audit row for ``doc`` now, in the session's transaction (print, view
    of a sealed field, override...)."""
    append(session.connection(), [dict(action=action, doctype=type(doc).__name__,
                                       doc_id=getattr(doc, "id", None),
                                       docname=getattr(doc, "name", None), data=data)])


def history(session, doc):
    return session.scalars(select(AuditLog).where(
        AuditLog.doctype == type(doc).__name__, AuditLog.doc_id == doc.id).order_by(AuditLog.id)).all()


def verify(session):
    """Recompute the chain. Returns ``(ok, rows_checked, problems)``."""
    head = session.get(AuditHead, 1)
    prev = head.anchor_hash if head else GENESIS
    problems, count = [], 0
    for row in session.scalars(select(AuditLog).order_by(AuditLog.id)).yield_per(1000):
        count += 1
        if row.prev_hash != prev:
            problems.append(f"row {row.id}: chain broken (a row before it was removed or altered)")
        expected = _digest(row.prev_hash, _ts_text(row.ts), row.user, row.action, row.doctype,
                           row.doc_id, row.docname, row.data)
        if expected != row.hash:
            problems.append(f"row {row.id}: content altered ({row.action} {row.doctype} {row.docname})")
        prev = row.hash
    if head and head.last_hash != prev:
        problems.append("the newest rows were removed (chain head does not match)")
    return not problems, count, problems


def purge(session, older_than_days):
    """Retention: drop rows older than N days, keeping the chain verifiable from an anchor."""
    cutoff = now() - timedelta(days=older_than_days)
    last = session.scalars(select(AuditLog).where(AuditLog.ts < cutoff)
                           .order_by(AuditLog.id.desc()).limit(1)).first()
    if last is None:
        return 0
    n = session.execute(delete(AuditLog).where(AuditLog.id <= last.id)).rowcount
    head = session.get(AuditHead, 1)
    head.anchor_hash, head.anchor_id = last.hash, last.id
    return n
