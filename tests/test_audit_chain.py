"""Audit chain under attack (issues 16.5, 18.5): every stored field of every row is hashed
(HMAC under a key outside the database), and anchors outside the database catch a
recomputed chain, a truncated tail with a moved head, and a faked purge."""
import hashlib
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

from erp_core import audit
from erp_core.audit import AuditHead, AuditLog
from erp_core.cli import cli
from tests.test_document import new_invoice


def _rows(session, n=4):
    for i in range(n):
        new_invoice(session, payee=f"p{i}")
    return session.scalars(select(AuditLog).order_by(AuditLog.id)).all()


def _verify(session):
    session.expire_all()
    return audit.verify(session)


def _tampered_value(column, value):
    if column == "id":
        return value + 1000
    if column == "ts":
        return "2001-02-03 04:05:06"
    if column in ("doc_id",):
        return (value or 0) + 1
    if column == "data":
        return json.dumps({"changes": {"total": ["1", "2"]}})
    return (value or "") + "x" if column not in ("hash", "prev_hash") else "f" * 64


@pytest.mark.parametrize("column", [c.name for c in AuditLog.__table__.columns])
def test_changing_any_stored_field_of_any_row_fails_verify(session, column):
    """Iterates over the table's columns, so a column added later is covered too."""
    rows = _rows(session, 3)
    ok, _n, problems = _verify(session)
    assert ok, problems
    targets = [(r.id, getattr(r, column)) for r in (rows[0], rows[-1])]
    for row_id, value in targets:
        session.execute(text(f'UPDATE core_audit_log SET "{column}" = :v WHERE id = :id'),
                        {"v": _tampered_value(column, value), "id": row_id})
        session.commit()
        ok, _n, problems = _verify(session)
        assert not ok, f"changing {column} of row {row_id} went unnoticed"
        t = AuditLog.__table__      # put it back through the column's type: verifies again
        session.execute(update(t).where(t.c.id == row_id + (1000 if column == "id" else 0)).values({column: value}))
        session.commit()
        ok, _n, problems = _verify(session)
        assert ok, (column, list(problems))


def test_recomputed_chain_without_the_key_fails(session):
    """The old attack: edit a row, recompute every hash from there with plain SHA-256."""
    rows = _rows(session, 4)
    prev = rows[0].prev_hash
    for r in rows:
        user = "mallory" if r.id == rows[1].id else r.user
        canonical = json.dumps([prev, audit._ts_text(r.ts), user, r.action, r.doctype, r.doc_id, r.docname, r.data],
                               ensure_ascii=False, separators=(",", ":"))
        h = hashlib.sha256(canonical.encode()).hexdigest()
        session.execute(text('UPDATE core_audit_log SET "user" = :u, prev_hash = :p, hash = :h WHERE id = :id'),
                        {"u": user, "p": prev, "h": h, "id": r.id})
        prev = h
    session.execute(text("UPDATE core_audit_head SET last_hash = :h"), {"h": prev})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and problems.first_bad == rows[0].id


def test_recomputed_chain_with_a_wrong_key_fails_against_anchor(app, session):
    """Even with *a* valid HMAC chain (e.g. key leaked later, or a different install's key),
    a row that an anchor covers cannot be changed."""
    rows = _rows(session, 3)
    audit.anchor(session)
    key = audit.audit_key()
    session.execute(text('UPDATE core_audit_log SET "user" = :u WHERE id = :id'), {"u": "mallory", "id": rows[1].id})
    session.commit()
    session.expire_all()
    prev = rows[0].hash
    for r in session.scalars(select(AuditLog).where(AuditLog.id > rows[0].id).order_by(AuditLog.id)).all():
        h = audit._digest(key, r.id, prev, audit._ts_text(r.ts), r.user, r.action, r.doctype, r.doc_id, r.docname, r.data)
        r.prev_hash, r.hash, prev = prev, h, h
    session.execute(text("UPDATE core_audit_head SET last_hash = :h"), {"h": prev})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and any("differs from its anchor" in p for p in problems), list(problems)


def test_truncated_tail_with_moved_head_fails(app, session):
    rows = _rows(session, 4)
    audit.anchor(session)
    session.execute(text("DELETE FROM core_audit_log WHERE id >= :id"), {"id": rows[2].id})
    session.execute(text("UPDATE core_audit_head SET last_hash = :h"), {"h": rows[1].hash})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and any("missing" in p for p in problems), list(problems)
    result = CliRunner().invoke(cli, ["audit", "verify"], obj=app)
    assert result.exit_code == 1 and "TAMPERED" in result.output
    assert "first bad row" in result.output and "last good anchor" in result.output


def test_faked_purge_fails(session):
    rows = _rows(session, 4)
    session.execute(text("DELETE FROM core_audit_log WHERE id <= :id"), {"id": rows[1].id})
    session.execute(text("UPDATE core_audit_head SET anchor_id = :i, anchor_hash = :h"),
                    {"i": rows[1].id, "h": rows[1].hash})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and any("faked purge" in p for p in problems), list(problems)


def test_real_purge_is_audited_anchored_and_verifies(app, session):
    _rows(session, 3)
    session.execute(text("UPDATE core_audit_log SET ts = :old WHERE id IN (SELECT min(id) FROM core_audit_log)"),
                    {"old": "2000-01-01 00:00:00"})
    session.commit()
    assert audit.purge(session, 30) == 1
    session.commit()
    ok, _n, problems = _verify(session)
    assert ok, list(problems)
    last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last.action == "purge" and last.payload()["rows"] == 1
    anchors, forged = audit.read_anchors()
    assert not forged and anchors[-1]["kind"] == "purge"
    assert problems.last_good_anchor["kind"] == "purge"


def test_forged_anchor_line_fails(app, session):
    rows = _rows(session, 2)
    line = audit.anchor(session)
    path = audit.anchor_file()
    forged = dict(line, id=rows[0].id, hash=rows[0].hash)
    with open(path, "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    ok, _n, problems = _verify(session)
    assert not ok and any("forged" in p for p in problems)


def test_anchor_cli_and_untouched_chain_verifies(app, session):
    _rows(session, 2)
    result = CliRunner().invoke(cli, ["audit", "anchor"], obj=app)
    assert result.exit_code == 0 and "anchored row" in result.output
    result = CliRunner().invoke(cli, ["audit", "verify"], obj=app)
    assert result.exit_code == 0 and "chain intact" in result.output and "last good anchor: row" in result.output


def test_web_workers_anchor_periodically(app, client, session):
    _rows(session, 1)
    audit._last_auto_anchor[0] = 0.0
    app.config["HOUQIN_AUDIT_ANCHOR_SECONDS"] = 1
    try:
        client.get("/login/")
    finally:
        app.config["HOUQIN_AUDIT_ANCHOR_SECONDS"] = 0
    anchors, _ = audit.read_anchors()
    assert anchors and anchors[-1]["kind"] == "head"


# --- an upgraded database: rows written before the keyed chain (issue 18.5) ------------------

def _as_legacy(session):
    """Rewrite the chain as a database from before the HMAC held it (plain SHA-256, no anchors)."""
    prev = audit.GENESIS
    for row in session.scalars(select(AuditLog).order_by(AuditLog.id)).all():
        row.prev_hash = prev
        row.hash = prev = audit._legacy_digest(prev, audit._ts_text(row.ts), row.user, row.action, row.doctype,
                                              row.doc_id, row.docname, row.data)
    session.execute(update(AuditHead.__table__).values(last_hash=prev))
    session.commit()
    audit.anchor_file().unlink(missing_ok=True)


def test_reseal_covers_rows_from_before_the_keyed_chain(app, session):
    rows = _rows(session, 3)
    _as_legacy(session)
    new_invoice(session, payee="after the upgrade")        # the app ran a while before the reseal
    ok, _n, problems = _verify(session)
    assert not ok and problems.first_bad == rows[0].id      # old rows do not verify under the key
    result = CliRunner().invoke(cli, ["audit", "reseal"], obj=app)
    assert result.exit_code == 0 and f"sealed up to row {rows[-1].id}" in result.output, result.output
    ok, count, problems = _verify(session)
    assert ok, list(problems)
    reseal = session.scalars(select(AuditLog).where(AuditLog.action == "reseal")).one()
    assert reseal.payload()["rows"] == len(rows) and reseal.payload()["up_to"] == rows[-1].id
    kinds = [a["kind"] for a in audit.read_anchors()[0]]
    assert "legacy" in kinds and kinds[-1] == "head"        # sealed, then the new head anchored
    assert "already resealed" in CliRunner().invoke(cli, ["audit", "reseal"], obj=app).output

    # from now on an old row is as safe as a new one: editing it, recomputing the old chain, renumbering
    old = rows[1]
    session.execute(text("UPDATE core_audit_log SET docname = 'X' WHERE id = :id"), {"id": old.id})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and problems.first_bad == old.id
    _as_legacy_prefix_recomputed = audit._legacy_digest        # an attacker can recompute the unkeyed part
    prev = audit.GENESIS
    for row in session.scalars(select(AuditLog).where(AuditLog.id <= rows[-1].id).order_by(AuditLog.id)).all():
        row.prev_hash = prev
        row.hash = prev = _as_legacy_prefix_recomputed(prev, audit._ts_text(row.ts), row.user, row.action,
                                                       row.doctype, row.doc_id, row.docname, row.data)
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and any("anchor" in p for p in problems), list(problems)


def test_reseal_refuses_old_rows_already_broken(app, session):
    rows = _rows(session, 3)
    _as_legacy(session)
    session.execute(text("UPDATE core_audit_log SET \"user\" = 'mallory' WHERE id = :id"), {"id": rows[1].id})
    session.commit()
    result = CliRunner().invoke(cli, ["audit", "reseal"], obj=app)
    assert result.exit_code == 1 and f"row {rows[1].id}" in result.output
    assert not audit.anchor_file().exists() or "legacy" not in audit.anchor_file().read_text()


def test_renumbered_resealed_rows_fail(app, session):
    rows = _rows(session, 3)
    _as_legacy(session)
    audit.reseal(session)
    ok, _n, problems = _verify(session)
    assert ok, list(problems)
    # the old digest does not cover the id: a renumbering that keeps the order and the chain
    session.execute(text("UPDATE core_audit_log SET id = -1 WHERE id = :id"), {"id": rows[0].id})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok and any("renumbered" in p for p in problems), list(problems)


def test_verify_names_the_first_bad_row_and_the_last_good_anchor(app, session):
    rows = _rows(session, 2)
    first = audit.anchor(session)
    more = _rows(session, 2)[len(rows):]
    audit.anchor(session)
    cut, kept_hash = more[0].id, rows[-1].hash
    session.execute(text("DELETE FROM core_audit_log WHERE id >= :id"), {"id": cut})
    session.execute(text("UPDATE core_audit_head SET last_hash = :h"), {"h": kept_hash})
    session.commit()
    ok, _n, problems = _verify(session)
    assert not ok
    assert problems.first_bad == cut
    assert problems.last_good_anchor["id"] == first["id"] and first["hash"] == kept_hash
    result = CliRunner().invoke(cli, ["audit", "verify"], obj=app)
    assert f"first bad row: {cut}" in result.output
    assert f"last good anchor: row {first['id']}" in result.output
