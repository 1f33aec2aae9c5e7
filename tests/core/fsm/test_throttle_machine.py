"""The strategy throttle, rule by rule: ACTIVE -> THROTTLED -> PROBATION -> ACTIVE."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statebot import (
    NEXT_SESSION,
    THROTTLE_SPEC,
    ConfigError,
    LearningLoop,
    ThrottleRules,
)
from statebot.core.fsm import all_specs
from statebot.core.fsm.throttle import ACTIVE, PROBATION, THROTTLED, ThrottleMachine
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
OFF = {"max_consecutive_losses": None, "min_win_rate": None, "max_drawdown_usd": None, "max_slippage_error_ticks": None}


def loop_with(**rules: object) -> LearningLoop:
    return LearningLoop(ThrottleRules(**{**OFF, **rules}), strategies=["orb"])  # type: ignore[arg-type]


def feed(loop: LearningLoop, *nets: str, at: dt.datetime = T0, session: dt.date = DAY1, **kw: str) -> list:  # type: ignore[type-arg]
    changes = []
    for i, net in enumerate(nets):
        update = loop.record_trade(outcome(net, **kw), at + dt.timedelta(minutes=i), session_date=session)
        changes.extend(update.transitions)
    return changes


@pytest.mark.invariant("N consecutive losing trades throttle the strategy, with the reason recorded", machine="throttle")
def test_consecutive_losses_throttle_with_reason() -> None:
    loop = loop_with(max_consecutive_losses=3)
    assert feed(loop, "-1", "-1") == []
    (change,) = feed(loop, "-1")
    assert (change.source, change.dest, change.reason) == (ACTIVE, THROTTLED, "consecutive_losses")
    assert loop.throttle("orb").detail == "3 consecutive losses >= limit 3"
    assert not loop.allows_entry("orb")
    assert loop.size_cap("orb") == 0


def test_rolling_win_rate_throttles_only_over_enough_trades() -> None:
    loop = loop_with(min_win_rate=Decimal("0.5"), win_rate_min_trades=4)
    assert feed(loop, "1", "-1", "-1") == []  # 1/3 but only 3 trades
    (change,) = feed(loop, "-1")
    assert change.reason == "win_rate"


def test_drawdown_beyond_the_limit_throttles() -> None:
    loop = loop_with(max_drawdown_usd=Decimal("100"))
    assert feed(loop, "50", "-100") == []  # drawdown exactly 100 is allowed
    (change,) = feed(loop, "-0.01")
    assert change.reason == "drawdown"


def test_slippage_worse_than_modelled_throttles() -> None:
    loop = loop_with(max_slippage_error_ticks=Decimal("1"), slippage_min_trades=2)
    assert feed(loop, "1", slip="3", expected="1") == []  # one trade is not enough evidence
    (change,) = feed(loop, "1", slip="3", expected="1")
    assert change.reason == "slippage_calibration"


def test_slippage_better_than_modelled_never_throttles() -> None:
    loop = loop_with(max_slippage_error_ticks=Decimal("1"), slippage_min_trades=1)
    assert feed(loop, "1", "1", "1", slip="-5", expected="1") == []


def test_cooldown_duration_on_the_bar_clock_leads_to_probation() -> None:
    loop = loop_with(max_consecutive_losses=1, cooldown=dt.timedelta(minutes=30))
    feed(loop, "-1")
    assert loop.on_time(T0 + dt.timedelta(minutes=29)) == ()
    (change,) = loop.on_time(T0 + dt.timedelta(minutes=30))
    assert (change.source, change.dest) == (THROTTLED, PROBATION)
    assert loop.allows_entry("orb")


def test_next_session_cooldown_waits_for_a_later_session_date() -> None:
    loop = loop_with(max_consecutive_losses=1, cooldown=NEXT_SESSION)
    feed(loop, "-1", session=DAY1)
    assert loop.on_time(T0 + dt.timedelta(hours=5), DAY1) == ()
    assert loop.on_time(T0 + dt.timedelta(hours=6)) == ()  # no session told: stays throttled
    (change,) = loop.on_time(T0 + dt.timedelta(hours=18), DAY2)
    assert change.dest == PROBATION


def test_next_session_without_a_known_session_waits_for_a_session_change() -> None:
    loop = LearningLoop(ThrottleRules(**{**OFF, "max_consecutive_losses": 1}), strategies=["orb"])
    loop.record_trade(outcome("-1"), T0)  # nobody told the loop the session
    assert loop.on_time(T0 + dt.timedelta(minutes=1), DAY1) == ()  # first session seen: the one to wait out
    assert loop.on_time(T0 + dt.timedelta(minutes=2), DAY1) == ()
    assert loop.on_time(T0 + dt.timedelta(days=1), DAY2)[0].dest == PROBATION


def test_probation_caps_size_and_returns_to_active_after_m_clean_trades() -> None:
    loop = loop_with(max_consecutive_losses=2, cooldown=dt.timedelta(0), probation_trades=3, probation_size_cap=1)
    feed(loop, "-1", "-1")
    loop.on_time(T0 + dt.timedelta(minutes=5))
    assert loop.throttle_state("orb") == PROBATION
    assert loop.size_cap("orb") == 1
    assert feed(loop, "5", "-1", at=T0 + dt.timedelta(minutes=6)) == []  # one loss is not a breach of 2
    (change,) = feed(loop, "5", at=T0 + dt.timedelta(minutes=8))
    assert (change.source, change.dest, change.reason) == (PROBATION, ACTIVE, "probation")
    assert loop.size_cap("orb") is None


def test_probation_is_judged_on_its_own_trades_not_on_the_losses_before() -> None:
    loop = loop_with(max_consecutive_losses=2, cooldown=dt.timedelta(0))
    feed(loop, "-1", "-1", "-1")
    loop.on_time(T0 + dt.timedelta(minutes=5))
    assert loop.judged_metrics("orb").trades == 0
    assert loop.metrics("orb").trades == 3
    assert feed(loop, "-1", at=T0 + dt.timedelta(minutes=6)) == []


@pytest.mark.invariant("a breach during probation throttles the strategy again with a new cooldown", machine="throttle")
def test_a_breach_in_probation_throttles_again() -> None:
    loop = loop_with(max_consecutive_losses=2, cooldown=dt.timedelta(minutes=10))
    feed(loop, "-1", "-1")
    loop.on_time(T0 + dt.timedelta(minutes=11))
    (change,) = feed(loop, "-1", "-1", at=T0 + dt.timedelta(minutes=12))
    assert (change.source, change.dest) == (PROBATION, THROTTLED)
    assert loop.throttle("orb").release_at == T0 + dt.timedelta(minutes=23)


def test_trades_while_throttled_change_metrics_but_not_the_state() -> None:
    loop = loop_with(max_consecutive_losses=1)
    feed(loop, "-1")
    assert feed(loop, "5", "-3") == []
    assert loop.throttle_state("orb") == THROTTLED
    assert loop.metrics("orb").trades == 3


@pytest.mark.invariant("an operator reset with a note makes any state ACTIVE and records the note and time", machine="throttle")
@pytest.mark.parametrize("state", [ACTIVE, THROTTLED, PROBATION])
def test_operator_reset_from_any_state_records_note_and_time(state: str) -> None:
    loop = loop_with(max_consecutive_losses=1, cooldown=dt.timedelta(0))
    if state != ACTIVE:
        feed(loop, "-1")
    if state == PROBATION:
        loop.on_time(T0 + dt.timedelta(minutes=1))
    assert loop.throttle_state("orb") == state
    at = T0 + dt.timedelta(hours=1)
    change = loop.reset("orb", "fills reviewed with the broker", at)
    assert (change.source, change.dest, change.note) == (state, ACTIVE, "fills reviewed with the broker")
    assert loop.throttle("orb").resets[-1] == {
        "at": at.isoformat(), "note": "fills reviewed with the broker", "from_state": state,
        "from_reason": None if state == ACTIVE else ("consecutive_losses" if state == THROTTLED else "probation"),
    }


@pytest.mark.parametrize("note", ["", "   ", None])
def test_reset_without_a_note_is_refused(note: object) -> None:
    loop = loop_with(max_consecutive_losses=1)
    feed(loop, "-1")
    with pytest.raises(ConfigError, match="needs a non-empty note"):
        loop.reset("orb", note, T0)  # type: ignore[arg-type]
    assert loop.throttle_state("orb") == THROTTLED


def test_hold_has_no_cooldown() -> None:
    loop = loop_with(max_consecutive_losses=1, cooldown=dt.timedelta(0))
    loop.hold_all("state_corrupt", "file was truncated", T0)
    assert loop.on_time(T0 + dt.timedelta(days=30), DAY2) == ()
    assert loop.throttle("orb").manual_only


def test_time_is_an_argument_and_must_be_aware() -> None:
    loop = loop_with(max_consecutive_losses=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        loop.record_trade(outcome("-1"), dt.datetime(2026, 3, 2, 15, 0))


def test_on_time_that_changes_nothing_fires_no_trigger() -> None:
    machine = ThrottleMachine("orb", ThrottleRules(cooldown=dt.timedelta(minutes=5)))
    fired = []
    machine.fire = lambda *a, **k: fired.append(a)  # type: ignore[method-assign]
    assert machine.on_time(T0) is None
    assert fired == []


def test_throttle_spec_is_in_all_specs_and_names_every_state() -> None:
    assert THROTTLE_SPEC in all_specs()
    assert set(THROTTLE_SPEC.states) == {ACTIVE, THROTTLED, PROBATION}
    assert {"breach", "cooldown_over", "probation_passed", "reset", "hold"} == set(THROTTLE_SPEC.triggers)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"max_consecutive_losses": 0}, "max_consecutive_losses 0 must be an int >= 1"),
        ({"min_win_rate": Decimal("1.5")}, "between 0 and 1"),
        ({"min_win_rate": 0.4}, "not a float"),
        ({"cooldown": "tomorrow"}, "cooldown 'tomorrow'"),
        ({"probation_trades": 0}, "probation_trades 0"),
        ({"max_drawdown_usd": "-5"}, "must not be negative"),
    ],
)
def test_bad_rules_are_named(rules: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        ThrottleRules(**rules)


def test_a_win_rate_rule_longer_than_the_window_is_refused() -> None:
    with pytest.raises(ConfigError, match="could never fire"):
        LearningLoop(ThrottleRules(win_rate_min_trades=30), window=20)
