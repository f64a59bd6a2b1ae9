"""Fee computation edge cases (pure function)."""
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from erp_core.errors import ValidationError
from modules.rentals.services import compute_fee, mask_id_card

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOURLY = SimpleNamespace(free_minutes=30, rate_unit="hour", rate=Decimal("2"), daily_cap=Decimal("10"),
                         late_fee_per_day=Decimal("5"))
DAILY = SimpleNamespace(free_minutes=0, rate_unit="day", rate=Decimal("3.50"), daily_cap=None,
                        late_fee_per_day=Decimal("1.25"))


def fee(kind, minutes, due_hours=72):
    return compute_fee(kind, T0, T0 + timedelta(minutes=minutes), T0 + timedelta(hours=due_hours))


def test_exactly_at_free_period_is_free_and_one_minute_more_is_charged():
    assert fee(HOURLY, 30) == (Decimal("0.00"), Decimal("0.00"))
    assert fee(HOURLY, 31) == (Decimal("2.00"), Decimal("0.00"))     # the whole started hour


def test_started_hours_and_exact_hours():
    assert fee(HOURLY, 60)[0] == Decimal("2.00")
    assert fee(HOURLY, 61)[0] == Decimal("4.00")


def test_daily_cap_applies_per_24_hours():
    assert fee(HOURLY, 8 * 60)[0] == Decimal("10.00")                 # 16.00 capped at 10.00
    assert fee(HOURLY, 24 * 60)[0] == Decimal("10.00")                # exactly one day
    assert fee(HOURLY, 24 * 60 + 1)[0] == Decimal("12.00")            # a day plus a started hour
    assert fee(HOURLY, 49 * 60)[0] == Decimal("22.00")                # two capped days + 1 hour


def test_late_fee_per_started_day_after_due():
    assert fee(HOURLY, 72 * 60) == (Decimal("30.00"), Decimal("0.00"))
    assert fee(HOURLY, 72 * 60 + 1) == (Decimal("32.00"), Decimal("5.00"))
    assert fee(HOURLY, 97 * 60) == (Decimal("42.00"), Decimal("10.00"))


def test_daily_rate_across_days_to_the_cent():
    assert fee(DAILY, 1) == (Decimal("3.50"), Decimal("0.00"))
    assert fee(DAILY, 24 * 60) == (Decimal("3.50"), Decimal("0.00"))
    assert fee(DAILY, 24 * 60 + 1, due_hours=24) == (Decimal("7.00"), Decimal("1.25"))


def test_return_before_lend_is_refused():
    with pytest.raises(ValidationError):
        compute_fee(HOURLY, T0, T0 - timedelta(minutes=1), T0)


def test_id_card_is_validated_and_masked():
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_id_card("") == ""
    with pytest.raises(ValidationError):
        mask_id_card("110105194912310021")        # wrong check digit
    with pytest.raises(ValidationError):
        mask_id_card("12345")
