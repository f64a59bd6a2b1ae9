"""Column types shared by every module: timezone-aware times and Decimal money."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator

# The hospital's wall clock. Naive datetimes (e.g. from an HTML form) are read in this zone;
# values come back aware in it. Set from config HOUQIN_TIMEZONE by create_app.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def set_local_timezone(name):
    global LOCAL_TZ
    LOCAL_TZ = ZoneInfo(name)


# Tests move the clock (a bid deadline passing, a publicity period ending) instead of
# editing stored dates: erp_core.testing's ``travel`` fixture sets this.
CLOCK_OFFSET = timedelta(0)


@contextmanager
def clock_at(at):
    """Run as if it were ``at`` (demo data replaying past days, benches); then the real time."""
    global CLOCK_OFFSET
    saved, CLOCK_OFFSET = CLOCK_OFFSET, at - datetime.now(LOCAL_TZ)
    try:
        yield
    finally:
        CLOCK_OFFSET = saved


def now():
    """Aware 'now' in the hospital's zone."""
    return datetime.now(LOCAL_TZ) + CLOCK_OFFSET


def aware(value):
    """Interpret a naive datetime as hospital-local time; leave aware ones alone."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value


class UTCDateTime(TypeDecorator):
    """Stored as UTC (SQLite keeps no offset, PostgreSQL timestamptz does); always
    returned aware, in the hospital's zone."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = aware(value).astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(LOCAL_TZ)


def Money():  # noqa: N802 - reads like a type in column declarations
    """Money is Decimal with 2 places, never float."""
    return Numeric(14, 2, asdecimal=True)
