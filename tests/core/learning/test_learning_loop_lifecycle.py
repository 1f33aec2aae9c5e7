"""LearningLoop through a strategy's throttle lifecycle: which session a cooldown waits out, when the
judged metrics start afresh, what a fail-closed loop does with a strategy it meets late, the
figures each query and update reports, and each refusal's wording."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from statebot import ConfigError, InvalidOutcome, LearningLoop, ThrottleRules
from statebot.core.learning.loop import LearningUpdate, load_loop, trade_digest
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
MON, TUE, WED = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
COOL = dt.timedelta(minutes=30)


def one_loss_throttles(**kw: object) -> ThrottleRules:
    """A single loss throttles; nothing else does."""
    args: dict[str, object] = dict(max_consecutive_losses=1, min_win_rate=None, max_drawdown_usd=None,
                                   max_slippage_error_ticks=None, cooldown=COOL)
    args.update(kw)
    return ThrottleRules(**args)  # type: ignore[arg-type]


class _NoOffset(dt.tzinfo):
    def utcoffset(self, when: dt.datetime | None) -> None:
        return None


# construction and queries ------------------------------------------------------------------------


def test_a_new_loop_knows_its_configured_strategies_sorted_with_the_default_window_and_weight() -> None:
    loop = LearningLoop(strategies=["vwap", "orb"])
    assert loop.strategies == ("orb", "vwap")
    assert (loop.window, loop.ewma_alpha) == (20, Decimal("0.2"))
    assert loop.rules == ThrottleRules()
    assert (loop.fail_closed, loop.fail_closed_reason, loop.fail_closed_at) == (False, None, None)
    assert loop.metrics("orb") == loop.judged_metrics("orb")
    assert loop.metrics("orb") is not loop.judged_metrics("orb")
    assert loop.metrics("orb").to_dict()["window"] == 20
    assert (loop.throttle_state("orb"), loop.allows_entry("orb"), loop.size_cap("orb")) == ("ACTIVE", True, None)
    assert loop.throttle("orb").strategy == "orb"


def test_the_window_and_weight_given_reach_every_strategys_metrics() -> None:
    loop = LearningLoop(ThrottleRules(min_win_rate=None), window=3, ewma_alpha="0.5", strategies=["orb"])
    loop.record_trade(outcome("1", strategy="late"), T0)
    assert (loop.window, loop.ewma_alpha) == (3, Decimal("0.5"))
    for name in ("orb", "late"):
        for m in (loop.metrics(name), loop.judged_metrics(name)):
            assert (m.strategy, m.window, m.ewma_alpha) == (name, 3, Decimal("0.5"))


def test_an_unknown_strategys_metrics_and_throttle_are_a_key_error() -> None:
    loop = LearningLoop()
    for query in (loop.metrics, loop.judged_metrics, loop.throttle):
        with pytest.raises(KeyError):
            query("orb")


def test_the_window_must_hold_the_win_rate_rules_minimum_trades() -> None:
    assert LearningLoop(ThrottleRules(win_rate_min_trades=20), window=20).window == 20
    assert LearningLoop(ThrottleRules(min_win_rate=None, win_rate_min_trades=21), window=20).window == 20
    with pytest.raises(ConfigError) as info:
        LearningLoop(ThrottleRules(win_rate_min_trades=21), window=20)
    assert str(info.value) == "win_rate_min_trades 21 exceeds the rolling window 20: the rule could never fire"
    with pytest.raises(ConfigError) as info:
        LearningLoop(window=9)
    assert str(info.value) == "win_rate_min_trades 10 exceeds the rolling window 9: the rule could never fire"


@pytest.mark.parametrize("name", ["", "  ", 5, None])
def test_a_configured_strategy_name_must_be_a_non_empty_string(name: object) -> None:
    with pytest.raises(ConfigError) as info:
        LearningLoop(strategies=["orb", name])  # type: ignore[list-item]
    assert str(info.value) == f"strategy name {name!r} must be a non-empty string"


def test_a_throttled_strategy_has_a_cap_of_zero_and_a_probation_one_the_probation_cap() -> None:
    loop = LearningLoop(one_loss_throttles(probation_size_cap=2))
    loop.record_trade(outcome("-1"), T0)
    assert (loop.throttle_state("orb"), loop.allows_entry("orb"), loop.size_cap("orb")) == ("THROTTLED", False, 0)
    loop.on_time(T0 + COOL)
    assert (loop.throttle_state("orb"), loop.allows_entry("orb"), loop.size_cap("orb")) == ("PROBATION", True, 2)


def test_an_unknown_strategy_in_a_healthy_loop_is_active_with_no_cap() -> None:
    loop = LearningLoop()
    assert (loop.throttle_state("new"), loop.allows_entry("new"), loop.size_cap("new")) == ("ACTIVE", True, None)
    loop.hold_all("state_corrupt", "unreadable", T0)
    assert (loop.throttle_state("new"), loop.allows_entry("new"), loop.size_cap("new")) == ("THROTTLED", False, 0)
    assert loop.strategies == ()  # asking creates nothing


# record_trade --------------------------------------------------------------------------------------


def test_an_update_reports_the_lifetime_count_and_net_and_the_transition() -> None:
    loop = LearningLoop(one_loss_throttles())
    loop.record_trade(outcome("7"), T0)
    update = loop.record_trade(outcome("-3"), T0)
    (change,) = update.transitions
    assert (update.strategy, update.trades, update.net_pnl_usd, update.duplicate) == ("orb", 2, Decimal(4), False)
    assert (change.strategy, change.source, change.dest, change.trigger, change.reason, change.at) == (
        "orb", "ACTIVE", "THROTTLED", "breach", "consecutive_losses", T0)
    assert update.event_payload() == {"strategy": "orb", "trades": 2, "net_pnl_usd": Decimal(4), "duplicate": False,
                                      "transitions": 1}


def test_an_update_defaults_to_no_transitions_and_not_a_duplicate() -> None:
    update = LearningUpdate(strategy="orb", trades=3, net_pnl_usd=Decimal("-1.5"))
    assert (update.transitions, update.duplicate) == ((), False)
    assert update.event_payload() == {"strategy": "orb", "trades": 3, "net_pnl_usd": Decimal("-1.5"),
                                      "duplicate": False, "transitions": 0}


def test_a_duplicate_reports_the_figures_already_learned() -> None:
    loop = LearningLoop(one_loss_throttles())
    trade = attrs.evolve(outcome("-2"), trade_id="x-1")
    loop.record_trade(outcome("5"), T0)
    loop.record_trade(trade, T0)
    again = loop.record_trade(trade, T0)
    assert again == LearningUpdate(strategy="orb", trades=2, net_pnl_usd=Decimal(3), duplicate=True)
    assert again.event_payload()["duplicate"] is True
    assert loop.judged_metrics("orb").trades == 2


def test_trades_without_an_id_are_each_counted_and_remember_no_digest() -> None:
    loop = LearningLoop()
    loop.record_trade(outcome("1"), T0)
    loop.record_trade(outcome("1"), T0)
    assert loop.metrics("orb").trades == 2
    assert loop.export_to_dict()["strategies"]["orb"]["trade_digests"] == []


def test_the_latest_500_digests_are_kept_in_the_order_learned() -> None:
    loop = LearningLoop()
    for i in range(502):
        loop.record_trade(attrs.evolve(outcome("1"), trade_id=f"e{i}"), T0)
    digests = loop.export_to_dict()["strategies"]["orb"]["trade_digests"]
    assert digests == [trade_digest(f"e{i}") for i in range(2, 502)]


def test_a_trade_digest_is_the_first_16_hex_digits_of_the_sha256_of_the_id() -> None:
    assert trade_digest("exec-17") == "bbd0712f662bfc70"
    assert trade_digest("\ud800x") == "74a7e4a2ddd5cec7"  # a lone surrogate read back from JSON still gets one


def test_only_a_trade_outcome_is_learned_from() -> None:
    loop = LearningLoop()
    with pytest.raises(InvalidOutcome) as info:
        loop.record_trade(outcome("1").to_dict(), T0)  # type: ignore[arg-type]
    assert str(info.value) == "record_trade needs a TradeOutcome, got dict"


@pytest.mark.parametrize("now", [dt.datetime(2026, 3, 2, 15), dt.datetime(2026, 3, 2, 15, tzinfo=_NoOffset()), "2026-03-02T15:00:00+00:00", None])
def test_every_clock_time_must_be_timezone_aware(now: object) -> None:
    message = f"now {now!r} must be a timezone-aware datetime"
    loop = LearningLoop(strategies=["orb"])
    before = loop.export_to_dict()
    for call in (lambda: loop.record_trade(outcome("1", strategy="new"), now),  # type: ignore[arg-type]
                 lambda: loop.reset("orb", "checked", now),  # type: ignore[arg-type]
                 lambda: loop.hold_all("state_corrupt", "x", now)):  # type: ignore[arg-type]
        with pytest.raises(InvalidOutcome) as info:
            call()
        assert str(info.value) == message
    assert loop.export_to_dict() == before


# sessions and cooldowns -----------------------------------------------------------------------------


def test_a_next_session_cooldown_waits_out_the_session_the_trade_names() -> None:
    loop = LearningLoop(one_loss_throttles(cooldown="next_session"))
    loop.on_time(T0, MON)
    loop.record_trade(outcome("-1"), T0, session_date=TUE)
    assert loop.throttle("orb").release_after_session == TUE
    assert loop.on_time(T0, TUE) == ()
    (change,) = loop.on_time(T0, WED)
    assert (change.source, change.dest, change.trigger) == ("THROTTLED", "PROBATION", "cooldown_over")


def test_a_trade_naming_no_session_waits_out_the_last_one_the_clock_gave() -> None:
    loop = LearningLoop(one_loss_throttles(cooldown="next_session"))
    loop.on_time(T0, MON)
    loop.on_time(T0 + COOL)  # a tick that names no session forgets nothing
    loop.record_trade(outcome("-1"), T0 + COOL)
    throttle = loop.throttle("orb")
    assert (throttle.release_after_session, throttle.awaiting_session) == (MON, False)
    assert loop.on_time(T0 + 2 * COOL) == ()  # no session named: the cooldown cannot end
    assert [c.dest for c in loop.on_time(T0 + 2 * COOL, TUE)] == ["PROBATION"]


def test_a_trade_before_any_session_is_known_waits_for_the_first_one_seen() -> None:
    loop = LearningLoop(one_loss_throttles(cooldown="next_session"))
    loop.record_trade(outcome("-1"), T0)
    assert loop.throttle("orb").awaiting_session
    assert loop.on_time(T0, TUE) == ()
    assert loop.throttle("orb").release_after_session == TUE


def test_the_clock_releases_every_throttled_strategy_whose_cooldown_is_over() -> None:
    loop = LearningLoop(one_loss_throttles(), strategies=["a", "b", "c", "d"])
    loop.record_trade(outcome("-1", strategy="b"), T0)
    loop.record_trade(outcome("-1", strategy="d"), T0 + COOL)
    assert loop.on_time(T0 + COOL - dt.timedelta(seconds=1)) == ()
    assert [(c.strategy, c.dest) for c in loop.on_time(T0 + COOL)] == [("b", "PROBATION")]
    assert [(c.strategy, c.dest) for c in loop.on_time(T0 + 2 * COOL)] == [("d", "PROBATION")]
    assert [loop.throttle_state(s) for s in "abcd"] == ["ACTIVE", "PROBATION", "ACTIVE", "PROBATION"]


# judged metrics --------------------------------------------------------------------------------------


def test_judged_metrics_start_afresh_on_probation_and_run_on_through_it() -> None:
    loop = LearningLoop(one_loss_throttles(probation_trades=2))
    loop.record_trade(outcome("4"), T0)
    loop.record_trade(outcome("-1"), T0)
    assert loop.judged_metrics("orb").trades == 2  # a breach keeps what it judged
    loop.on_time(T0 + COOL)
    assert loop.judged_metrics("orb") == loop.metrics("orb").fresh()
    loop.record_trade(outcome("2"), T0 + COOL)
    (passed,) = loop.record_trade(outcome("3"), T0 + COOL).transitions
    assert (passed.source, passed.dest, passed.trigger) == ("PROBATION", "ACTIVE", "probation_passed")
    assert loop.judged_metrics("orb").trades == 2  # ACTIVE again, judged on the probation's trades
    assert loop.metrics("orb").trades == 4


def test_judged_metrics_start_afresh_on_an_operator_reset() -> None:
    loop = LearningLoop(one_loss_throttles(max_consecutive_losses=3))
    loop.record_trade(outcome("-1"), T0)
    change = loop.reset("orb", "  looked at it  ", T0)
    assert (change.source, change.dest, change.trigger, change.note) == ("ACTIVE", "ACTIVE", "reset", "looked at it")
    assert loop.judged_metrics("orb") == loop.metrics("orb").fresh()
    assert loop.metrics("orb").trades == 1


@pytest.mark.parametrize(("state", "trigger", "afresh"), [
    ("PROBATION", "cooldown_over", True), ("ACTIVE", "reset", True), ("ACTIVE", "probation_passed", False),
    ("THROTTLED", "hold", False), ("THROTTLED", "reset", True),
])
def test_a_restored_throttle_starts_the_judged_metrics_afresh_only_after_probation_or_a_reset(
        state: str, trigger: str, afresh: bool) -> None:
    loop = LearningLoop(one_loss_throttles(max_consecutive_losses=3))
    loop.record_trade(outcome("-1"), T0)
    data = {"state": state, "reason": "held" if state == "THROTTLED" else None, "detail": None,
            "since": T0.isoformat(), "release_at": None, "release_after_session": None, "awaiting_session": False,
            "probation_clean": 0, "resets": []}
    loop.restore_throttle("orb", data, trigger=trigger)
    assert loop.throttle_state("orb") == state
    assert (loop.throttle("orb").strategy, loop.throttle("orb").rules) == ("orb", loop.rules)
    assert loop.judged_metrics("orb").trades == (0 if afresh else 1)
    assert loop.metrics("orb").trades == 1


def test_a_restored_throttle_reports_its_strategy_in_the_transitions_that_follow() -> None:
    loop = LearningLoop(one_loss_throttles())
    loop.record_trade(outcome("-1"), T0)
    data = loop.throttle("orb").to_dict()
    loop.restore_throttle("orb", data, trigger="breach")
    (change,) = loop.on_time(T0 + COOL)
    assert (change.strategy, change.dest) == ("orb", "PROBATION")


# fail closed -------------------------------------------------------------------------------------------


def test_hold_all_holds_every_known_strategy_and_remembers_why_and_when() -> None:
    loop = LearningLoop(strategies=["b", "a"])
    changes = loop.hold_all("state_corrupt", "file truncated", T0)
    assert [(c.strategy, c.dest, c.trigger, c.reason, c.detail, c.at) for c in changes] == [
        ("b", "THROTTLED", "hold", "state_corrupt", "file truncated", T0),
        ("a", "THROTTLED", "hold", "state_corrupt", "file truncated", T0)]
    assert (loop.fail_closed, loop.fail_closed_reason, loop.fail_closed_at) == (True, "state_corrupt", T0)
    assert loop.throttle("a").manual_only


def test_a_strategy_first_seen_while_fail_closed_is_held_since_the_loop_failed() -> None:
    loop = LearningLoop()
    loop.hold_all("state_corrupt", "file truncated", T0)
    loop.record_trade(outcome("5", strategy="late"), T0 + COOL)
    throttle = loop.throttle("late")
    assert (throttle.state, throttle.reason, throttle.since) == ("THROTTLED", "state_corrupt", T0)
    assert throttle.detail == "first seen while the learning state is fail closed"
    assert loop.metrics("late").trades == 1


def test_a_fail_closed_loop_resets_a_strategy_it_never_knew() -> None:
    loop = LearningLoop()
    loop.hold_all("state_corrupt", "file truncated", T0)
    change = loop.reset("lost", "it was in the lost file", T0 + COOL)
    assert (change.strategy, change.source, change.dest) == ("lost", "THROTTLED", "ACTIVE")
    assert loop.strategies == ("lost",)
    assert (loop.fail_closed, loop.fail_closed_reason, loop.fail_closed_at) == (False, None, None)


def test_a_reset_while_other_strategies_are_held_for_a_corrupt_state_keeps_the_loop_fail_closed() -> None:
    loop = LearningLoop(strategies=["a", "b"])
    loop.hold_all("state_corrupt", "file truncated", T0)
    loop.reset("b", "checked", T0)
    assert (loop.fail_closed_reason, loop.fail_closed_at) == ("state_corrupt", T0)


def test_a_reset_in_a_healthy_loop_leaves_it_healthy() -> None:
    loop = LearningLoop(strategies=["a"])
    loop.reset("a", "checked", T0)
    assert (loop.fail_closed_reason, loop.fail_closed_at) == (None, None)


def test_a_reset_is_refused_for_an_unknown_strategy_first_then_for_its_note() -> None:
    with pytest.raises(ConfigError) as info:
        LearningLoop().reset("typo", "", T0)
    assert str(info.value) == "unknown strategy 'typo'; known: none"
    with pytest.raises(ConfigError) as info:
        LearningLoop(strategies=["vwap", "orb"]).reset("typo", "x", T0)
    assert str(info.value) == "unknown strategy 'typo'; known: orb, vwap"
    for note in ("", "   ", None, 5):
        loop = LearningLoop(strategies=["orb"])
        with pytest.raises(ConfigError) as info:
            loop.reset("orb", note, T0)  # type: ignore[arg-type]
        assert str(info.value) == f"an operator reset of 'orb' needs a non-empty note, got {note!r}"
        assert loop.throttle("orb").resets == []


# equality and repr ---------------------------------------------------------------------------------------


def test_loops_are_equal_when_their_rules_and_state_are() -> None:
    a, b = LearningLoop(strategies=["orb"]), LearningLoop(strategies=["orb"])
    assert a == b
    assert a != LearningLoop(ThrottleRules(probation_trades=5), strategies=["orb"])
    b.record_trade(outcome("1"), T0)
    assert a != b
    assert a.__eq__("orb") is NotImplemented
    with pytest.raises(TypeError):
        hash(a)


def test_repr_names_each_strategys_state_and_a_fail_closed_loop() -> None:
    loop = LearningLoop(one_loss_throttles(), strategies=["vwap", "orb"])
    assert repr(loop) == "LearningLoop(orb=ACTIVE, vwap=ACTIVE)"
    loop.record_trade(outcome("-1", strategy="vwap"), T0)
    assert repr(loop) == "LearningLoop(orb=ACTIVE, vwap=THROTTLED)"
    loop.hold_all("state_corrupt", "x", T0)
    assert repr(loop) == "LearningLoop(orb=THROTTLED, vwap=THROTTLED, fail closed)"
    assert repr(LearningLoop()) == "LearningLoop()"


def test_load_loop_builds_a_loop_with_the_rules_and_settings_given() -> None:
    saved = LearningLoop(ThrottleRules(min_win_rate=None), window=3)
    saved.record_trade(outcome("1"), T0)
    rules = ThrottleRules(min_win_rate=None, probation_trades=2)
    loop = load_loop(saved.export_to_dict(), rules, window=2, ewma_alpha="0.5", strategies=["vwap"])
    assert (loop.rules, loop.window, loop.ewma_alpha, loop.strategies) == (rules, 2, Decimal("0.5"), ("orb", "vwap"))
    assert loop.metrics("orb").trades == 1
