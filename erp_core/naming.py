"""Naming series: human document numbers such as ``TND-.YYYY.-.#####`` -> ``TND-2026-00001``.

The pattern is split on dots; ``YYYY``, ``YY``, ``MM``, ``DD`` are date parts, a run of
``#`` is the counter (zero-padded to its length), anything else is literal. The counter
key is the resolved prefix, so numbers restart each year for a ``.YYYY.`` series.
Counters live in one table and are bumped with a single atomic upsert ... RETURNING in
the caller's transaction: concurrent inserts on PostgreSQL serialise on the counter row
and never hand out the same number.
"""
from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model

from .types import now


class NamingSeries(Model):
    __tablename__ = "core_naming_series"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    current: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def _split(pattern, when):
    prefix, width = [], 0
    for part in pattern.split("."):
        if part and set(part) == {"#"}:
            width = len(part)
            break
        prefix.append({"YYYY": f"{when:%Y}", "YY": f"{when:%y}", "MM": f"{when:%m}",
                       "DD": f"{when:%d}"}.get(part, part))
    if not width:
        raise ValueError(f"naming pattern {pattern!r} has no ### counter")
    return "".join(prefix), width


def next_name(connection, pattern, when=None):
    from .audit import lock_head
    prefix, width = _split(pattern, when or now())
    lock_head(connection)       # lock order: audit head, then counters and rows
    table = NamingSeries.__table__
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(table).values(key=prefix, current=1)
            .on_conflict_do_update(index_elements=[table.c.key], set_={"current": table.c.current + 1})
            .returning(table.c.current))
    number = connection.execute(stmt).scalar_one()
    return f"{prefix}{number:0{width}d}"
