"""The kill switch's limits, its effects for the engine, the days it keeps and its checkpoint."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from statebot import ARMED, TRIPPED, ConfigError, KillSwitch
from statebot.core.fsm.effects import Effect
from tests.positions_helpers import at

DAY = dt.date(2026, 11, 24)


def day(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


@pytest.mark.parametrize("limit", [0, -1])
def test_a_reject_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ConfigError, match=f"max_consecutive_rejects {limit} must be >= 1"):
        KillSwitch(max_consecutive_rejects=limit)


def test_a_reject_limit_of_one_trips_on_the_first_reject_and_none_never_trips() -> None:
    assert KillSwitch(max_consecutive_rejects=1).record_reject(at()) is True
    off = KillSwitch(max_consecutive_rejects=None)
    assert not any(off.record_reject(at(n)) for n in range(50))
    assert off.consecutive_rejects == 50 and off.state == ARMED


@pytest.mark.parametrize("limit", ["0", 0, "-5"])
def test_a_loss_limit_of_zero_or_below_is_refused(limit: object) -> None:
    with pytest.raises(ConfigError, match="daily_loss_limit .* must be positive"):
        KillSwitch(daily_loss_limit=limit)  # type: ignore[arg-type]


def test_the_reject_streak_counts_and_a_reset_clears_it() -> None:
    ks = KillSwitch(max_consecutive_rejects=2)
    ks.record_reject(at())
    assert ks.consecutive_rejects == 1
    ks.record_reject(at(1))
    assert ks.state == TRIPPED and ks.consecutive_rejects == 2
    ks.reset("broker fixed the margin setting", at(2))
    assert ks.consecutive_rejects == 0
    assert ks.record_reject(at(3)) is False  # a fresh streak, not 3 in a row


def test_the_loss_limit_trips_at_exactly_minus_the_limit() -> None:
    ks = KillSwitch(daily_loss_limit="100")
    assert ks.record_trade(Decimal("-99.99"), DAY, at()) is False
    assert ks.record_trade(Decimal("-0.01"), DAY, at(1)) is True
    assert ks.trips[-1].detail == "day 2026-11-24 net -100.00 <= -100"


def test_tripping_asks_the_engine_once_to_cancel_entries_and_flatten() -> None:
    ks = KillSwitch()
    assert ks.take_effects() == ()
    assert ks.trip("manual", at()) is True
    assert ks.take_effects() == (Effect("cancel_entry_orders"), Effect("flatten_all_positions"))
    assert ks.take_effects() == ()
    assert ks.trip("disconnect", at(1)) is False  # already tripped: recorded, no second flatten request
    assert ks.take_effects() == ()
    ks.reset("all flat at the broker", at(2))
    assert ks.take_effects() == ()


def test_the_day_is_the_latest_session_date_fed_and_its_net() -> None:
    ks = KillSwitch()
    assert ks.day is None and ks.day_net_pnl == Decimal(0)
    ks.record_trade(Decimal("12.50"), day(1), at())
    ks.record_trade(Decimal("-2.50"), day(0), at(1))  # a late trade of the day before
    assert ks.day == day(1) and ks.day_net_pnl == Decimal("12.50")


def test_only_the_last_seven_days_are_kept_and_the_oldest_goes_first() -> None:
    ks = KillSwitch(daily_loss_limit="100")
    for n in range(8):
        ks.record_trade(Decimal(-(n + 1)), day(n), at(n))
    kept = ks.to_dict()["day_nets"]
    assert list(kept) == [day(n).isoformat() for n in range(1, 8)]
    assert kept[day(7).isoformat()] == "-8"
    # the newest day keeps counting: 92 more lost on it reaches the limit
    assert ks.record_trade(Decimal(-92), day(7), at(9)) is True


def test_restoring_a_day_keeps_counting_toward_the_limit() -> None:
    ks = KillSwitch(daily_loss_limit="100")
    ks.restore_day(day(2), Decimal("-70"))
    ks.restore_day(day(1), Decimal("-10"))
    assert ks.day == day(2) and ks.day_net_pnl == Decimal("-70") and ks.state == ARMED
    assert ks.record_trade(Decimal("-30"), day(2), at()) is True


def test_restoring_a_day_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(ConfigError, match="kill switch day '2026-11-24' must be a date"):
        KillSwitch().restore_day("2026-11-24", Decimal(0))  # type: ignore[arg-type]


def test_the_checkpoint_states_everything_and_restores_to_an_equal_switch() -> None:
    ks = KillSwitch(daily_loss_limit="100")
    ks.record_trade(Decimal("-40.25"), day(0), at())
    ks.record_trade(Decimal("5"), day(1), at(1))
    ks.record_reject(at(2))
    ks.trip("disconnect", at(3), "gateway gone")
    ks.trip("manual", at(4))
    ks.record_strategy_error(day(1), at(5), "KeyError: 'x'")
    data = ks.to_dict()
    assert data == {
        "state": TRIPPED,
        "trips": [{"reason": "disconnect", "at": at(3).isoformat(), "detail": "gateway gone"},
                  {"reason": "manual", "at": at(4).isoformat(), "detail": ""}],
        "rejects": 1,
        "day": day(1).isoformat(),
        "day_nets": {day(0).isoformat(): "-40.25", day(1).isoformat(): "5"},
        "strategy_errors": {day(1).isoformat(): 1},
    }
    again = KillSwitch(daily_loss_limit="100")
    again.restore(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert (again.state, again.consecutive_rejects, again.day, again.day_net_pnl) == (TRIPPED, 1, day(1), Decimal(5))
    assert [t.reason for t in again.trips] == ["disconnect", "manual"]


def test_an_armed_checkpoint_restores_armed_with_no_day() -> None:
    again = KillSwitch()
    again.restore(KillSwitch().to_dict())
    assert (again.state, again.trips, again.day, again.consecutive_rejects) == (ARMED, (), None, 0)


def test_a_tripped_checkpoint_without_a_trip_is_refused() -> None:
    data = KillSwitch().to_dict()
    data["state"] = TRIPPED
    with pytest.raises(ValueError, match="TRIPPED without a recorded trip"):
        KillSwitch().restore(data)
