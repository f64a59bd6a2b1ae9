"""Append-only, hash-chained, anchored audit log (ARCHITECTURE §4, issues 16.5 and 18.5).

Each row's ``hash`` is an HMAC-SHA256, under a key kept outside the database
(``HOUQIN_AUDIT_KEY``, else ``instance/audit_key``), over *every* stored field of the row:
its id, the previous row's hash, time, user, action, doctype, doc id, number and data. So
changing any field of any row breaks that row, and someone who can only write the database
cannot recompute the chain after an edit (they do not have the key).

Truncation (deleting the newest rows and moving ``core_audit_head``) and faked purges
(deleting the oldest rows and moving the head's anchor) are caught by **anchors**: lines
``{"kind", "id", "hash", "ts", "mac"}`` appended to ``HOUQIN_AUDIT_ANCHOR_FILE`` (default
``instance/audit_anchors.jsonl``), a file outside the database that its role cannot touch;
``mac`` is an HMAC of the line under the same key, so the file cannot be forged either.
An anchor is written by ``run.py audit anchor`` (run it daily from cron), automatically by a
web worker at most every ``HOUQIN_AUDIT_ANCHOR_SECONDS`` (after a request), and by every
purge (``kind: "purge"``). ``verify`` then requires each anchored row to still be there with
the anchored hash, the head's purge anchor to be one that a purge recorded, and reports the
first bad row and the last good anchor.

Appends take a row lock on ``core_audit_head`` (an UPDATE, which locks on PostgreSQL and
takes SQLite's write lock), so concurrent transactions chain one after the other and ids
are allocated in chain order.
"""
import hashlib
import hmac
import json
import os
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from flask import current_app, has_app_context
from flask_appbuilder import Model
from sqlalchemy import Integer, String, Text, delete, func, insert, select, update
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


# --- keys and files (outside the database) ----------------------------------------------

def _instance():
    from .config import INSTANCE
    return Path(INSTANCE)


def audit_key():
    """The HMAC key: config/env ``HOUQIN_AUDIT_KEY``, else a file made once (0600)."""
    key = current_app.config.get("HOUQIN_AUDIT_KEY") if has_app_context() else None
    key = key or os.environ.get("HOUQIN_AUDIT_KEY")
    if not key:
        path = _instance() / "audit_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        key = path.read_text().strip()
    return key.encode() if isinstance(key, str) else key


def anchor_file():
    path = current_app.config.get("HOUQIN_AUDIT_ANCHOR_FILE") if has_app_context() else None
    return Path(path or os.environ.get("HOUQIN_AUDIT_ANCHOR_FILE") or _instance() / "audit_anchors.jsonl")


def _mac(key, *parts):
    canonical = json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _digest(key, row_id, prev, ts, user, action, doctype, doc_id, docname, data):
    return _mac(key, "row", row_id, prev, ts, user, action, doctype, doc_id, docname, data)


def _legacy_digest(prev, ts, user, action, doctype, doc_id, docname, data):
    """The chain of databases from before the HMAC (issue 16): plain SHA-256, id not covered.
    Only ``reseal`` and rows sealed by a ``legacy`` anchor use it."""
    canonical = json.dumps([prev, ts, user, action, doctype, doc_id, docname, data],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ids_digest(ids):
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def _ts_text(ts):
    # Hash a UTC text form, so SQLite (no offset kept) and PostgreSQL agree after a round trip.
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


# --- writing ---------------------------------------------------------------------------

def lock_head(connection):
    """Take the chain head's row lock now. Every audited write takes it at its first flush
    and holds it to commit, so it is the first lock of any writing transaction: naming
    counters and ``document.locked`` rows take it before their own locks. One lock order
    for everyone means no deadlocks (issue 18.2)."""
    head = AuditHead.__table__
    done = connection.execute(update(head).where(head.c.id == 1).values(last_hash=head.c.last_hash)).rowcount
    if not done:
        try:
            with connection.begin_nested():
                connection.execute(insert(head).values(id=1, last_hash=GENESIS, anchor_hash=GENESIS, anchor_id=0))
        except Exception:    # another transaction created it first; lock that one
            connection.execute(update(head).where(head.c.id == 1).values(last_hash=head.c.last_hash))


def append(connection, entries):
    """Append ``entries`` (dicts: action, doctype, doc_id, docname, data[, user]) in the
    caller's transaction."""
    if not entries:
        return
    key = audit_key()
    head = AuditHead.__table__
    log = AuditLog.__table__
    connection.execute(update(head).where(head.c.id == 1).values(last_hash=head.c.last_hash))
    row = connection.execute(select(head.c.last_hash, head.c.anchor_id).where(head.c.id == 1)).first()
    if row is None:
        connection.execute(insert(head).values(id=1, last_hash=GENESIS, anchor_hash=GENESIS, anchor_id=0))
        prev, floor = GENESIS, 0
    else:
        prev, floor = row
    # ids are part of the hashed content, so they are allocated here, under the head's lock
    next_id = max(connection.execute(select(func.coalesce(func.max(log.c.id), 0))).scalar(), floor) + 1
    rows = []
    for e in entries:
        ts = now()
        data = json.dumps(jsonable(e.get("data") or {}), ensure_ascii=False, sort_keys=True)
        row = dict(id=next_id, ts=ts, user=e.get("user") or actor(), action=e["action"], doctype=e["doctype"],
                   doc_id=e.get("doc_id"), docname=e.get("docname"), data=data, prev_hash=prev)
        row["hash"] = _digest(key, next_id, prev, _ts_text(ts), row["user"], row["action"], row["doctype"],
                              row["doc_id"], row["docname"], data)
        prev = row["hash"]
        next_id += 1
        rows.append(row)
    connection.execute(insert(log), rows)
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


# --- anchors ---------------------------------------------------------------------------

def write_anchor(kind, row_id, row_hash):
    """Append one signed anchor line (a single write with O_APPEND: atomic between workers)."""
    key = audit_key()
    ts = datetime.now(timezone.utc).isoformat()
    line = dict(kind=kind, id=row_id, hash=row_hash, ts=ts, mac=_mac(key, "anchor", kind, row_id, row_hash, ts))
    path = anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
    finally:
        os.close(fd)
    return line


def anchor(session):
    """Anchor the newest committed row (``run.py audit anchor``, daily). Returns the line or None."""
    last = session.execute(select(AuditLog.id, AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first()
    if last is None:
        return None
    return write_anchor("head", last.id, last.hash)


def read_anchors():
    """``(anchors, problems)``: the anchor lines whose signature holds, and the others."""
    path = anchor_file()
    if not path.exists():
        return [], []
    key, good, problems = audit_key(), [], []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        try:
            a = json.loads(text)
            ok = hmac.compare_digest(a["mac"], _mac(key, "anchor", a["kind"], a["id"], a["hash"], a["ts"]))
        except (ValueError, KeyError, TypeError):
            ok = False
        if ok:
            good.append(a)
        else:
            problems.append(f"anchor file line {number}: signature does not match (anchor forged or edited)")
    return good, problems


_last_auto_anchor = [0.0]


def maybe_anchor(app):
    """Called after each request: anchor at most every HOUQIN_AUDIT_ANCHOR_SECONDS per process."""
    interval = app.config.get("HOUQIN_AUDIT_ANCHOR_SECONDS", 3600)
    if not interval or time.monotonic() - _last_auto_anchor[0] < interval:
        return
    _last_auto_anchor[0] = time.monotonic()
    from .extensions import db
    try:
        with db.engine.connect() as conn:
            last = conn.execute(select(AuditLog.id, AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first()
        if last is not None:
            write_anchor("head", last.id, last.hash)
    except Exception:   # never fail a request because of the anchor; the daily cron anchors too
        app.logger.exception("audit anchor failed")


def head_summary(session):
    """Short text of the chain head for printing (e.g. on a monthly settlement)."""
    last = session.execute(select(AuditLog.id, AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first()
    return f"#{last.id} {last.hash[:16]}" if last else "-"


# --- checking --------------------------------------------------------------------------

class Report(list):
    """The problems found (a list of str), plus ``first_bad`` (row id or None) and
    ``last_good_anchor`` (anchor dict or None)."""
    first_bad = None
    last_good_anchor = None


def verify(session):
    """Recompute the chain and check it against the anchors. Returns ``(ok, rows_checked, problems)``;
    ``problems`` is a ``Report`` with ``first_bad`` and ``last_good_anchor``."""
    key = audit_key()
    head = session.get(AuditHead, 1)
    floor_id = head.anchor_id if head else 0
    prev = head.anchor_hash if head else GENESIS
    problems = Report()
    anchors, forged = read_anchors()
    problems.extend(forged)
    if floor_id and not any(a["kind"] == "purge" and a["id"] == floor_id and a["hash"] == prev for a in anchors):
        problems.append(f"rows up to {floor_id} are gone but no purge of them was anchored (faked purge)")
        problems.first_bad = floor_id
    wanted = {a["id"] for a in anchors if a["id"] > floor_id}
    seen, count, last_id = {}, 0, floor_id
    # rows written before the HMAC, sealed by ``reseal``: checked under the old digest, and
    # the signed legacy anchor pins their last hash (so their whole content) and their ids
    legacy_upto = max((a["id"] for a in anchors if a["kind"] == "legacy"), default=0)
    legacy_ids, reseals = [], []

    def bad(row_id, message):
        problems.append(message)
        problems.first_bad = row_id if problems.first_bad is None else min(problems.first_bad, row_id)

    for row in session.scalars(select(AuditLog).order_by(AuditLog.id)).yield_per(1000):
        count += 1
        if row.id <= last_id:
            bad(row.id, f"row {row.id}: out of order")
        if row.prev_hash != prev:
            bad(row.id, f"row {row.id}: chain broken (a row before it was removed or altered)")
        if row.id <= legacy_upto:
            legacy_ids.append(row.id)
            expected = _legacy_digest(row.prev_hash, _ts_text(row.ts), row.user, row.action, row.doctype,
                                      row.doc_id, row.docname, row.data)
        else:
            expected = _digest(key, row.id, row.prev_hash, _ts_text(row.ts), row.user, row.action, row.doctype,
                               row.doc_id, row.docname, row.data)
            if row.action == "reseal" and row.doctype == "AuditLog":
                reseals.append((row.id, row.payload()))
        if not hmac.compare_digest(expected, row.hash):
            bad(row.id, f"row {row.id}: content altered ({row.action} {row.doctype} {row.docname})")
        if row.id in wanted:
            seen[row.id] = row.hash
        prev, last_id = row.hash, row.id
    for a in sorted(anchors, key=lambda a: a["id"]):
        if a["id"] <= floor_id:
            continue
        if a["id"] not in seen:
            # a truncated tail: the first bad row is the one after the last row left
            bad(last_id + 1 if a["id"] > last_id else a["id"],
                f"row {a['id']} was anchored at {a['ts']} but is missing (chain truncated or rewritten)")
        elif seen[a["id"]] != a["hash"]:
            bad(a["id"], f"row {a['id']} differs from its anchor of {a['ts']} (chain rewritten)")
    if legacy_upto > floor_id:
        sealed = [p for _i, p in reseals if p.get("up_to") == legacy_upto]
        if not sealed:
            bad(legacy_upto, f"rows up to {legacy_upto} are sealed by an anchor but no reseal of them is recorded")
        elif floor_id == (sealed[0].get("purge_floor") or 0) and sealed[0].get("ids_sha256") != _ids_digest(legacy_ids):
            bad(legacy_ids[0] if legacy_ids else legacy_upto,
                f"rows up to {legacy_upto} differ from those resealed (rows renumbered, added or removed)")
    if head and head.last_hash != prev:
        bad(last_id + 1, "the newest rows were removed (chain head does not match)")
    limit = problems.first_bad
    good = [a for a in anchors if (limit is None or a["id"] < limit)
            and (seen.get(a["id"]) == a["hash"] or (a["kind"] == "purge" and a["id"] == floor_id))]
    problems.last_good_anchor = max(good, key=lambda a: (a["id"], a["ts"])) if good else None
    return not problems, count, problems


def purge(session, older_than_days):
    """Retention: drop rows older than N days. The chain stays verifiable from the purge
    anchor, which is written to the anchor file; the purge itself is an audit row."""
    cutoff = now() - timedelta(days=older_than_days)
    last = session.scalars(select(AuditLog).where(AuditLog.ts < cutoff)
                           .order_by(AuditLog.id.desc()).limit(1)).first()
    if last is None:
        return 0
    last_id, last_hash = last.id, last.hash
    n = session.execute(delete(AuditLog).where(AuditLog.id <= last_id)).rowcount
    session.execute(update(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)
                    .values(anchor_hash=last_hash, anchor_id=last_id))
    session.expire_all()
    append(session.connection(), [dict(action="purge", doctype="AuditLog", doc_id=None, docname=None,
                                       data=dict(rows=n, up_to=last_id, anchor_hash=last_hash,
                                                 older_than_days=older_than_days))])
    write_anchor("purge", last_id, last_hash)
    return n


def reseal(session):
    """Cover the rows of an upgraded database written before the HMAC and the anchors
    (``run.py audit reseal``, once after the upgrade). Nothing is rewritten: the old rows
    must still form an intact chain under the old digest (else the reseal is refused, naming
    the row), the newer rows must verify under the key; then a signed ``legacy`` anchor pins
    the last old row's hash, an audit row ``reseal`` records how many rows (and their ids)
    were sealed, and the new head is anchored. A purge done before the upgrade (no purge
    anchor) is taken as found and recorded in the reseal row. Returns a dict, or raises
    ValueError with the reason.

    What it cannot do: prove the old rows were not altered *before* the reseal — their chain
    had no key, so whoever could write the database could have recomputed it. From the
    reseal on, they are as safe as the newer rows."""
    key = audit_key()
    anchors, forged = read_anchors()
    if forged:
        raise ValueError("; ".join(forged))
    if any(a["kind"] == "legacy" for a in anchors):
        raise ValueError("already resealed (the anchor file holds a legacy anchor)")
    head = session.get(AuditHead, 1)
    floor_id, prev = (head.anchor_id, head.anchor_hash) if head else (0, GENESIS)
    legacy, keyed = [], 0
    for row in session.scalars(select(AuditLog).order_by(AuditLog.id)).yield_per(1000):
        args = (_ts_text(row.ts), row.user, row.action, row.doctype, row.doc_id, row.docname, row.data)
        if row.prev_hash != prev:
            raise ValueError(f"row {row.id}: chain broken; not resealed")
        if hmac.compare_digest(_digest(key, row.id, row.prev_hash, *args), row.hash):
            keyed += 1
        elif not keyed and hmac.compare_digest(_legacy_digest(row.prev_hash, *args), row.hash):
            legacy.append((row.id, row.hash))
        else:
            raise ValueError(f"row {row.id}: content altered ({row.action} {row.doctype} {row.docname}); not resealed")
        prev = row.hash
    if head and head.last_hash != prev:
        raise ValueError("the chain head does not match the newest row; not resealed")
    if not legacy:
        return dict(rows=0)
    up_to, legacy_head = legacy[-1]
    purge_floor = floor_id if floor_id and not any(
        a["kind"] == "purge" and a["id"] == floor_id for a in anchors) else None
    write_anchor("legacy", up_to, legacy_head)
    if purge_floor:
        write_anchor("purge", floor_id, head.anchor_hash)
    append(session.connection(), [dict(action="reseal", doctype="AuditLog", doc_id=None, docname=None,
                                       data=dict(rows=len(legacy), up_to=up_to, legacy_head=legacy_head,
                                                 ids_sha256=_ids_digest([i for i, _h in legacy]),
                                                 purge_floor=purge_floor, keyed_rows_after=keyed))])
    session.commit()
    anchor(session)
    return dict(rows=len(legacy), up_to=up_to, legacy_head=legacy_head, purge_floor=purge_floor)
