"""The kill switch's defaults, bounds and wording: what an operator reads when a limit trips
or an input is refused, and the defaults a switch built with no arguments has."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statebot import ARMED, TRIPPED, Backoff, ConfigError, InvalidTransition, KillSwitch
from statebot.errors import BarRejected
from tests.positions_helpers import at

DAY = dt.date(2026, 11, 24)


def test_a_default_switch_trips_on_the_third_consecutive_reject_not_before() -> None:
    ks = KillSwitch()
    assert ks.record_reject(at()) is False and ks.record_reject(at(1)) is False
    assert ks.record_reject(at(2)) is True and ks.state == TRIPPED


def test_a_reject_trip_without_detail_says_how_many_rejects_and_a_given_detail_is_kept() -> None:
    ks = KillSwitch(max_consecutive_rejects=2)
    ks.record_reject(at())
    ks.record_reject(at(1))
    assert ks.trips[-1].detail == "2 consecutive rejects"
    other = KillSwitch(max_consecutive_rejects=1)
    other.record_reject(at(), "order 7 rejected: margin")
    assert other.trips[-1].detail == "order 7 rejected: margin"


def test_a_strategy_error_trip_names_the_count_and_session_and_the_last_error_when_given() -> None:
    ks = KillSwitch(max_strategy_errors=1)
    ks.record_strategy_error(DAY, at())
    assert ks.trips[-1].detail == "1 strategy errors in session 2026-11-24"
    other = KillSwitch(max_strategy_errors=1)
    other.record_strategy_error(DAY, at(), "ZeroDivisionError")
    assert other.trips[-1].detail == "1 strategy errors in session 2026-11-24 (last: ZeroDivisionError)"


def test_a_strategy_error_limit_of_one_is_accepted_and_a_day_that_is_not_a_date_is_named() -> None:
    assert KillSwitch(max_strategy_errors=1).max_strategy_errors == 1
    with pytest.raises(ConfigError, match=r"strategy error day '2026-11-24' must be a date"):
        KillSwitch().record_strategy_error("2026-11-24", at())  # type: ignore[arg-type]


def test_any_positive_loss_limit_is_accepted_even_below_one_dollar() -> None:
    assert KillSwitch(daily_loss_limit="0.50").daily_loss_limit == Decimal("0.50")
    assert KillSwitch(daily_loss_limit=1).daily_loss_limit == Decimal(1)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: KillSwitch(daily_loss_limit=0.5), "daily_loss_limit"),  # type: ignore[arg-type]
        (lambda: KillSwitch().record_trade(0.5, DAY, at()), "net_pnl"),  # type: ignore[arg-type]
        (lambda: KillSwitch().restore_day(DAY, 0.5), "net_pnl"),  # type: ignore[arg-type]
        (lambda: KillSwitch().restore({"trips": [], "state": ARMED, "rejects": 0, "day": None,
                                       "day_nets": {"2026-11-24": 0.5}}), "day net"),
    ],
)
def test_a_float_amount_is_refused_naming_the_field(build: object, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} 0\.5 must be a Decimal"):
        build()  # type: ignore[operator]


def test_a_switch_uses_the_default_backoff_unless_given_one() -> None:
    assert KillSwitch().backoff == Backoff()
    given = Backoff(first=dt.timedelta(seconds=1))
    assert KillSwitch(backoff=given).backoff is given


def test_the_default_backoff_is_5_seconds_doubling_to_a_minute_and_no_wait_before_a_failure() -> None:
    b = Backoff()
    assert (b.first, b.factor, b.cap) == (dt.timedelta(seconds=5), 2, dt.timedelta(minutes=1))
    assert b.delay(0) == dt.timedelta(0)


def test_a_one_second_backoff_still_grows() -> None:
    b = Backoff(first=dt.timedelta(seconds=1), factor=2, cap=dt.timedelta(seconds=10))
    assert [b.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]


def test_backoff_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match=r"backoff first .* must be a timedelta >= 0"):
        Backoff(first=dt.timedelta(seconds=-1))
    with pytest.raises(ConfigError, match=r"backoff cap 0:00:01 must be >= first 0:00:05"):
        Backoff(cap=dt.timedelta(seconds=1))


def test_reset_refusals_say_what_is_wrong() -> None:
    ks = KillSwitch()
    with pytest.raises(InvalidTransition) as refused:
        ks.reset("all clear", at())
    assert (refused.value.machine, refused.value.state, refused.value.trigger) == ("killswitch", ARMED, "reset")
    ks.trip("manual", at())
    with pytest.raises(ConfigError, match=r"^a kill switch reset needs a non-empty operator note$"):
        ks.reset(" ", at(1))
    with pytest.raises(BarRejected, match=r"^reset time .* is naive"):
        ks.reset("all clear", dt.datetime(2026, 11, 24, 15, 0))
    assert ks.state == TRIPPED


def test_a_tripped_checkpoint_without_a_trip_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"^kill switch state TRIPPED without a recorded trip$"):
        KillSwitch().restore({"trips": [], "state": TRIPPED, "rejects": 0, "day": None, "day_nets": {}})


def test_a_switch_tripped_again_after_its_effects_were_taken_asks_for_them_again() -> None:
    ks = KillSwitch()
    ks.trip("manual", at())
    first = ks.take_effects()
    assert first and ks.take_effects() == ()
    ks.reset("checked the account", at(1))
    ks.trip("disconnect", at(2))
    assert ks.take_effects() == first
