"""The SLA clock, as pure functions over a calendar and the order's clock segments (no
database, no "now" of its own: callers pass the time).

Rules that make the known bug classes impossible by construction:
* Time is measured in absolute time (UTC) and working hours are wall-clock hours of the
  calendar's zone turned into absolute instants per day: a daylight-saving day has 23 or 25
  real hours, and arithmetic on aware datetimes never goes through Python's same-zone
  wall-clock subtraction (which ignores the offset change).
* A due time is never stored as the truth: it is derived from the target and the segments.
  A rule change (``retarget``) changes only the target; the segments, and so every pause,
  stay. A reassignment ends a segment and starts one for the new team; the overall SLA sums
  all running segments, the new team's own target (OLA) sums only its own.
* Only ``running`` segments count; ``paused`` ones carry their reason. A completed order has
  no open segment, so the time between completion and a reopen is neither counted nor
  reported as a pause; the reopen starts a new running segment.
* Working time starts at the next working instant: a request raised at night on an office
  calendar is due counted from the next morning's start, after holidays and weekends.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l

from erp_core.errors import ValidationError

UTC = timezone.utc
MAX_DAYS = 3 * 366          # a target this far out means a calendar with no working time


def utc(value):
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the SLA clock")
    return value.astimezone(UTC)


def minutes(delta):
    return delta.total_seconds() / 60


def _hhmm(text, what):
    try:
        h, m = (int(x) for x in str(text).strip().replace("：", ":").split(":"))
        return time(h, m)
    except (ValueError, TypeError):
        raise ValidationError(_l("%(what)s: give a time of day as HH:MM.", what=what))


def _dates(text, what):
    out = set()
    for part in re.split(r"[\s,，;；、]+", text or ""):
        if part:
            try:
                out.add(date.fromisoformat(part))
            except ValueError:
                raise ValidationError(_l("%(what)s: %(value)s is not a date (YYYY-MM-DD).", what=what, value=part[:12]))
    return frozenset(out)


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    round_the_clock: bool = False
    day_start: time = time(8, 0)
    day_end: time = time(17, 30)
    lunch_start: time | None = time(12, 0)
    lunch_end: time | None = time(13, 30)
    weekdays: frozenset = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset = field(default_factory=frozenset)
    workdays: frozenset = field(default_factory=frozenset)      # make-up working days (调休)

    def __post_init__(self):
        if self.round_the_clock:
            return
        if self.day_end <= self.day_start:
            raise ValidationError(_l("Work ends after it starts."))
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValidationError(_l("Give both ends of the lunch break, or neither."))
        if self.lunch_start is not None and not (self.day_start <= self.lunch_start < self.lunch_end <= self.day_end):
            raise ValidationError(_l("The lunch break lies within the working day."))
        if not self.weekdays and not self.workdays:
            raise ValidationError(_l("A calendar needs at least one working weekday."))

    @classmethod
    def from_record(cls, rec):
        try:
            tz = ZoneInfo((rec.timezone or "Asia/Shanghai").strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_l("Unknown time zone: %(tz)s", tz=(rec.timezone or "")[:40]))
        if rec.round_the_clock:
            return cls(tz=tz, round_the_clock=True)
        try:
            weekdays = frozenset(int(x) for x in re.split(r"[\s,，]+", rec.weekdays or "") if x)
        except ValueError:
            weekdays = None
        if weekdays is None or not weekdays <= set(range(1, 8)):
            raise ValidationError(_l("Working weekdays are numbers 1 (Monday) to 7 (Sunday)."))
        lunch = (rec.lunch_start or "").strip() and (rec.lunch_end or "").strip()
        return cls(tz=tz, day_start=_hhmm(rec.day_start, _l("Work starts")), day_end=_hhmm(rec.day_end, _l("Work ends")),
                   lunch_start=_hhmm(rec.lunch_start, _l("Lunch from")) if lunch else None,
                   lunch_end=_hhmm(rec.lunch_end, _l("Lunch until")) if lunch else None, weekdays=weekdays,
                   holidays=_dates(rec.holidays, _l("Holidays")), workdays=_dates(rec.workdays, _l("Make-up working days")))

    # -- working time ----------------------------------------------------------------------
    def working_day(self, d):
        return d in self.workdays or (d.isoweekday() in self.weekdays and d not in self.holidays)

    def _at(self, d, t):
        """The absolute instant of wall time ``t`` on day ``d`` in the calendar's zone."""
        return datetime.combine(d, t, tzinfo=self.tz).astimezone(UTC)

    def day_intervals(self, d):
        """The working stretches of day ``d`` as absolute (UTC) instants."""
        if self.round_the_clock:
            return [(self._at(d, time(0)), self._at(d + timedelta(days=1), time(0)))]
        if not self.working_day(d):
            return []
        if self.lunch_start is None:
            return [(self._at(d, self.day_start), self._at(d, self.day_end))]
        return [(self._at(d, self.day_start), self._at(d, self.lunch_start)),
                (self._at(d, self.lunch_end), self._at(d, self.day_end))]

    def working_time(self, start, end):
        """Working time between two instants."""
        start, end = utc(start), utc(end)
        if end <= start:
            return timedelta(0)
        if self.round_the_clock:
            return end - start
        total, d = timedelta(0), start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while d <= last:
            for a, b in self.day_intervals(d):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def add(self, start, mins):
        """The instant when ``mins`` working minutes after ``start`` have passed (in the zone)."""
        start = utc(start)
        remaining = timedelta(minutes=mins)
        if self.round_the_clock:
            return (start + remaining).astimezone(self.tz)
        d = start.astimezone(self.tz).date()
        for _ in range(MAX_DAYS):
            for a, b in self.day_intervals(d):
                if b <= start:
                    continue
                lo = max(a, start)
                if remaining <= b - lo:
                    return (lo + remaining).astimezone(self.tz)
                remaining -= b - lo
            d += timedelta(days=1)
        raise ValidationError(_l("The calendar has no working time in the next three years."))

    def next_working_instant(self, at):
        return self.add(at, 0)


ROUND_THE_CLOCK = Calendar(round_the_clock=True)


@dataclass(frozen=True)
class Segment:
    state: str                    # "running" or "paused"
    start: datetime
    end: datetime | None = None   # None: still open
    team: object = None
    reason: str = ""


def used(segments, calendar, at, team=None):
    """Working time the clock has run until ``at`` (only segments of ``team`` if given)."""
    total = timedelta(0)
    for s in segments:
        if s.state != "running" or (team is not None and s.team != team):
            continue
        total += calendar.working_time(s.start, min(utc(s.end), utc(at)) if s.end else at)
    return total


def paused(segments, at):
    """Wall time spent paused (for the timeline; pauses never count against the target)."""
    total = timedelta(0)
    for s in segments:
        if s.state == "paused":
            end = utc(s.end) if s.end else utc(at)
            total += max(end - utc(s.start), timedelta(0))
    return total


def current(segments):
    return next((s for s in reversed(segments) if s.end is None), None)


def due(segments, target, calendar, team=None):
    """When the target (minutes) is reached if the clock keeps running; None while the clock
    is paused or stopped (there is no due time then, only what remains)."""
    if target is None:
        return None
    now_seg = current(segments)
    if now_seg is None or now_seg.state != "running" or (team is not None and now_seg.team != team):
        return None
    before = used([s for s in segments if s is not now_seg], calendar, now_seg.start, team)
    remaining = timedelta(minutes=target) - before
    if remaining <= timedelta(0):       # already past: due when this segment started counting
        return (utc(calendar.add(now_seg.start, 0)) + remaining).astimezone(calendar.tz)
    return calendar.add(now_seg.start, minutes(remaining))


def remaining(segments, target, calendar, at, team=None):
    return timedelta(minutes=target) - used(segments, calendar, at, team)
