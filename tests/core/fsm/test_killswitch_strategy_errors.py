"""A strategy that keeps raising trips the kill switch: ``max_strategy_errors`` bars of one session."""

from __future__ import annotations

import datetime as dt

import pytest

from statebot.core.fsm.killswitch import ARMED, STRATEGY_ERRORS, TRIPPED, KillSwitch
from statebot.errors import ConfigError

UTC = dt.timezone.utc
AT = dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
MON, TUE = dt.date(2026, 11, 23), dt.date(2026, 11, 24)


def test_the_limit_th_error_of_one_session_trips_with_its_own_reason() -> None:
    ks = KillSwitch(max_strategy_errors=3)
    assert [ks.record_strategy_error(TUE, AT, "KeyError: x") for _ in range(3)] == [False, False, True]
    assert ks.state == TRIPPED
    assert ks.trips[0].reason == STRATEGY_ERRORS
    assert ks.trips[0].detail == "3 strategy errors in session 2026-11-24 (last: KeyError: x)"
    assert ks.strategy_errors(TUE) == 3


def test_errors_of_different_sessions_do_not_add_up() -> None:
    ks = KillSwitch(max_strategy_errors=2)
    assert not ks.record_strategy_error(MON, AT)
    assert not ks.record_strategy_error(TUE, AT)
    assert ks.state == ARMED
    assert (ks.strategy_errors(MON), ks.strategy_errors(TUE)) == (1, 1)


def test_none_turns_the_limit_off_and_still_counts() -> None:
    ks = KillSwitch(max_strategy_errors=None)
    for _ in range(50):
        assert not ks.record_strategy_error(TUE, AT)
    assert ks.state == ARMED and ks.strategy_errors(TUE) == 50


def test_a_reset_starts_the_count_again() -> None:
    ks = KillSwitch(max_strategy_errors=2)
    ks.record_strategy_error(TUE, AT)
    ks.record_strategy_error(TUE, AT)
    ks.reset("strategy fixed", AT)
    assert ks.strategy_errors(TUE) == 0
    assert not ks.record_strategy_error(TUE, AT)
    assert ks.record_strategy_error(TUE, AT)


@pytest.mark.parametrize("bad", [0, -1])
def test_a_limit_below_one_is_refused(bad: int) -> None:
    with pytest.raises(ConfigError, match="max_strategy_errors"):
        KillSwitch(max_strategy_errors=bad)


def test_the_count_survives_a_checkpoint() -> None:
    ks = KillSwitch(max_strategy_errors=3)
    ks.record_strategy_error(TUE, AT)
    ks.record_strategy_error(TUE, AT)
    again = KillSwitch(max_strategy_errors=3)
    again.restore(ks.to_dict())
    assert again.strategy_errors(TUE) == 2
    assert again.record_strategy_error(TUE, AT)


def test_a_checkpoint_written_before_the_count_existed_restores_with_none() -> None:
    data = KillSwitch().to_dict()
    del data["strategy_errors"]
    ks = KillSwitch(max_strategy_errors=3)
    ks.restore(data)
    assert ks.strategy_errors(TUE) == 0


def test_only_the_kept_days_are_counted() -> None:
    ks = KillSwitch(max_strategy_errors=100)
    for d in range(KillSwitch.DAYS_KEPT + 3):
        ks.record_strategy_error(MON + dt.timedelta(days=d), AT)
    assert len(ks.to_dict()["strategy_errors"]) == KillSwitch.DAYS_KEPT
    assert ks.strategy_errors(MON) == 0


def test_errors_past_the_limit_record_no_further_trip() -> None:
    ks = KillSwitch(max_strategy_errors=2)
    for _ in range(5):
        ks.record_strategy_error(TUE, AT)
    assert [t.reason for t in ks.trips] == [STRATEGY_ERRORS]


def test_a_count_already_past_a_lower_limit_trips_on_the_next_error() -> None:
    before = KillSwitch(max_strategy_errors=10)
    for _ in range(4):
        before.record_strategy_error(TUE, AT)
    ks = KillSwitch(max_strategy_errors=3)
    ks.restore(before.to_dict())
    assert ks.state == ARMED
    assert ks.record_strategy_error(TUE, AT)
