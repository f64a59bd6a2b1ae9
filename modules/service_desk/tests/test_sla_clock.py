"""The SLA clock without the database: every expected time below is computed by hand.

Office calendar: Monday–Friday 08:00–17:30, lunch 12:00–13:30 (8 working hours a day),
Asia/Shanghai. 2026-12-01 is a Tuesday; 2026-12-04 a Friday."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from modules.service_desk import sla
from modules.service_desk.sla import Calendar, Segment

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Calendar(tz=SH)
H24 = Calendar(tz=SH, round_the_clock=True)


def t(day, hh, mm=0, tz=SH, fold=0):
    return datetime(2026, 12, day, hh, mm, tzinfo=tz, fold=fold)


def run(segments, target, cal=OFFICE, team=None):
    return sla.due(segments, target, cal, team=team)


@pytest.mark.parametrize("start,mins,expected", [
    (t(1, 9), 60, t(1, 10)),                 # inside the day
    (t(1, 11, 30), 60, t(1, 14)),            # 30 before lunch, 30 after 13:30
    (t(1, 12, 15), 30, t(1, 14)),            # raised during lunch: counts from 13:30
    (t(1, 6), 30, t(1, 8, 30)),              # before opening: from 08:00
    (t(1, 20), 30, t(2, 8, 30)),             # evening: next morning, not 20:30
    (t(1, 17), 60, t(2, 8, 30)),             # 30 today, midnight crossed, 30 tomorrow
    (t(4, 18), 30, t(7, 8, 30)),             # Friday evening: Monday 08:30
    (t(1, 9), 480, t(2, 9)),                 # a whole working day (8 h): 420 today, 60 tomorrow
])
def test_due_on_the_office_calendar(start, mins, expected):
    assert OFFICE.add(start, mins) == expected
    assert run([Segment("running", start)], mins) == expected


def test_outside_hours_first_response_is_counted_from_the_next_working_start():
    """The known bug: a request at 20:00 with a 30 min response target due at 20:30."""
    seg = [Segment("running", t(1, 20))]
    assert run(seg, 30) == t(2, 8, 30)
    # by 23:59 no working time has passed; at 08:10 next morning ten minutes have
    assert sla.used(seg, OFFICE, t(1, 23, 59)) == timedelta(0)
    assert sla.used(seg, OFFICE, t(2, 8, 10)) == timedelta(minutes=10)


def test_holidays_and_make_up_working_days():
    cal = Calendar(tz=SH, holidays=frozenset({date(2026, 12, 7)}))          # Monday off
    assert cal.add(t(4, 18), 30) == t(8, 8, 30)
    cal = Calendar(tz=SH, workdays=frozenset({date(2026, 12, 5)}))          # Saturday worked (调休)
    assert cal.add(t(4, 18), 30) == t(5, 8, 30)


def test_round_the_clock_crosses_midnight():
    assert H24.add(t(1, 23, 30), 60) == t(2, 0, 30)
    assert H24.working_time(t(1, 23, 30), t(2, 0, 30)) == timedelta(hours=1)


def test_daylight_saving_spring_forward_berlin():
    """2026-03-29 02:00 CET jumps to 03:00 CEST: two real hours after 01:30 is 04:30, and the
    wall-clock difference (3 h) is not the time that passed (2 h)."""
    cal = Calendar(tz=BERLIN, round_the_clock=True)
    start = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    end = datetime(2026, 3, 29, 4, 30, tzinfo=BERLIN)
    assert cal.add(start, 120) == end
    assert cal.working_time(start, end) == timedelta(hours=2)
    assert sla.due([Segment("running", start)], 120, cal) == end


def test_daylight_saving_fall_back_berlin():
    """2026-10-25 03:00 CEST falls back to 02:00 CET: two hours after 01:30 CEST is the
    second 02:30 (CET, UTC+1)."""
    cal = Calendar(tz=BERLIN, round_the_clock=True)
    start = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)
    due = cal.add(start, 120)
    assert due.utcoffset() == timedelta(hours=1)
    assert (due.hour, due.minute) == (2, 30)
    assert cal.working_time(start, due) == timedelta(hours=2)


def test_daylight_saving_office_day_berlin():
    """On the spring-forward Sunday, an office day 08:00–17:00 worked every day still has 9 h."""
    cal = Calendar(tz=BERLIN, day_start=time(8), day_end=time(17), lunch_start=None, lunch_end=None,
                   weekdays=frozenset(range(1, 8)))
    sat_evening = datetime(2026, 3, 28, 16, 0, tzinfo=BERLIN)
    # 60 on Saturday, 540 on Sunday, 60 on Monday
    assert cal.add(sat_evening, 660) == datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)


def test_pause_is_kept_when_the_target_changes():
    """09:00–10:00 running, 10:00–11:00 paused (parts), running again from 11:00."""
    segs = [Segment("running", t(1, 9), t(1, 10)), Segment("paused", t(1, 10), t(1, 11), reason="parts"),
            Segment("running", t(1, 11))]
    # 240 min: 60 used, 180 left from 11:00: 60 until lunch, 120 after 13:30
    assert run(segs, 240) == t(1, 15, 30)
    # the rule changes to 120: 60 left from 11:00, the pause still not counted
    assert run(segs, 120) == t(1, 12)
    assert sla.paused(segs, t(1, 12)) == timedelta(hours=1)


def test_paused_clock_has_no_due_time():
    segs = [Segment("running", t(1, 9), t(1, 10)), Segment("paused", t(1, 10), reason="requester")]
    assert run(segs, 240) is None
    assert sla.remaining(segs, 240, OFFICE, t(1, 16)) == timedelta(minutes=180)


def test_reassignment_keeps_the_overall_sla_and_starts_the_new_teams_own_target():
    """Team A: running 09:00–09:30, paused 09:30–10:00, running 10:00–10:30; team B from 10:30."""
    segs = [Segment("running", t(1, 9), t(1, 9, 30), team=1),
            Segment("paused", t(1, 9, 30), t(1, 10), team=1, reason="parts"),
            Segment("running", t(1, 10), t(1, 10, 30), team=1), Segment("running", t(1, 10, 30), team=2)]
    # overall 240: 60 used (the pause not), 180 from 10:30: 90 until 12:00, 90 from 13:30
    assert run(segs, 240) == t(1, 15)
    # team B's own 240 from 10:30: 90 until 12:00, 150 from 13:30 → 16:00
    assert run(segs, 240, team=2) == t(1, 16)
    assert sla.paused(segs, t(1, 11)) == timedelta(minutes=30)


def test_reopened_order_does_not_count_the_gap_as_pause_or_lose_the_time_used():
    """Completed at 10:00 after one hour; reopened at 14:00."""
    segs = [Segment("running", t(1, 9), t(1, 10)), Segment("running", t(1, 14))]
    assert sla.used(segs, OFFICE, t(1, 15)) == timedelta(hours=2)
    assert sla.paused(segs, t(1, 15)) == timedelta(0)
    assert run(segs, 240) == t(1, 17)                  # 180 left from 14:00


def test_calendar_refuses_nonsense():
    from erp_core.errors import ValidationError
    with pytest.raises(ValidationError):
        Calendar(tz=SH, day_start=time(18), day_end=time(8))
    with pytest.raises(ValidationError):
        Calendar(tz=SH, lunch_start=time(7), lunch_end=time(8))
