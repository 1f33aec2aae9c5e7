"""LearningLoop: strategies' metrics and throttles, fail closed, export and load."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from statebot import ConfigError, LearningLoop, StateCorrupt, ThrottleRules
from statebot.journal.log import Event
from statebot.core.learning.loop import RECENT_TRADE_IDS, SCHEMA_VERSION, trade_digest
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def test_record_trade_reports_trade_count_net_and_transitions() -> None:
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=2))
    first = loop.record_trade(outcome("-5"), T0)
    second = loop.record_trade(outcome("-5"), T0)
    assert (first.trades, first.transitions) == (1, ())
    assert second.net_pnl_usd == -10
    assert [t.dest for t in second.transitions] == ["THROTTLED"]


def test_strategies_are_kept_apart() -> None:
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=1), strategies=["orb", "vwap"])
    loop.record_trade(outcome("-5", strategy="orb"), T0)
    assert not loop.allows_entry("orb")
    assert loop.allows_entry("vwap")
    assert loop.metrics("vwap").trades == 0


def test_an_unknown_strategy_may_enter_in_a_healthy_loop() -> None:
    loop = LearningLoop()
    assert loop.allows_entry("new") and loop.size_cap("new") is None


@pytest.mark.invariant("a fail-closed loop refuses every strategy, known or not, until an operator resets it", machine="throttle")
def test_fail_closed_loop_refuses_known_and_unknown_strategies() -> None:
    loop = LearningLoop(strategies=["orb"])
    loop.hold_all("state_corrupt", "file truncated", T0)
    assert not loop.allows_entry("orb")
    assert not loop.allows_entry("never_seen")
    assert loop.size_cap("never_seen") == 0
    loop.record_trade(outcome("5", strategy="late"), T0)  # a position closed after the restart
    assert loop.throttle_state("late") == "THROTTLED"
    assert loop.throttle("late").reason == "state_corrupt"


def test_fail_closed_clears_when_the_last_held_strategy_is_reset() -> None:
    loop = LearningLoop(strategies=["a", "b"])
    loop.hold_all("state_corrupt", "file truncated", T0)
    loop.reset("a", "checked", T0)
    assert loop.fail_closed
    loop.reset("b", "checked", T0)
    assert not loop.fail_closed
    assert loop.allows_entry("never_seen")


def test_reset_of_an_unknown_strategy_is_refused_in_a_healthy_loop() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'typo'; known: orb"):
        LearningLoop(strategies=["orb"]).reset("typo", "x", T0)


def test_export_carries_the_schema_version() -> None:
    assert LearningLoop().export_to_dict()["schema_version"] == SCHEMA_VERSION


def test_loaded_state_keeps_configured_strategies_missing_from_the_file() -> None:
    saved = LearningLoop(strategies=["orb"]).export_to_dict()
    loop = LearningLoop(strategies=["orb", "vwap"])
    loop.load_from_dict(saved)
    assert loop.strategies == ("orb", "vwap")


def test_a_smaller_window_on_load_keeps_the_newest_results() -> None:
    loop = LearningLoop(ThrottleRules(min_win_rate=None), window=5)
    for net in ("-1", "-1", "1", "1", "1"):
        loop.record_trade(outcome(net), T0)
    narrow = LearningLoop(ThrottleRules(min_win_rate=None), window=3)
    narrow.load_from_dict(loop.export_to_dict())
    assert narrow.metrics("orb").recent == [True, True, True]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(schema_version=99), "unknown_version"),
        (lambda d: d.pop("strategies"), "malformed"),
        (lambda d: d["strategies"]["orb"]["throttle"].update(state="PAUSED"), "malformed"),
        (lambda d: d["strategies"]["orb"]["throttle"].update(state="THROTTLED", reason=None), "malformed"),
        (lambda d: d["strategies"]["orb"]["metrics"].update(strategy="other"), "malformed"),
        (lambda d: d.update(strategies=[]), "malformed"),
    ],
)
def test_malformed_state_is_refused_and_changes_nothing(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    data = LearningLoop(strategies=["orb"]).export_to_dict()
    mutate(data)
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=1))
    loop.record_trade(outcome("-1", strategy="keep"), T0)
    before = loop.export_to_dict()
    with pytest.raises(StateCorrupt) as info:
        loop.load_from_dict(data)
    assert info.value.reason == reason
    assert loop.export_to_dict() == before


@pytest.mark.invariant("a closed trade fed twice (same trade_id) is counted once", machine="throttle")
def test_a_trade_fed_twice_is_counted_once() -> None:
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=2))
    trade = attrs.evolve(outcome("-5"), trade_id="exec-17")
    loop.record_trade(trade, T0)
    again = loop.record_trade(trade, T0)
    assert again.duplicate and again.transitions == ()
    assert loop.metrics("orb").trades == 1


def test_trade_ids_survive_export_and_load() -> None:
    loop = LearningLoop()
    trade = attrs.evolve(outcome("-5"), trade_id="exec-17")
    loop.record_trade(trade, T0)
    restored = LearningLoop()
    restored.load_from_dict(loop.export_to_dict())
    assert restored.record_trade(trade, T0).duplicate


def test_trade_ids_are_remembered_as_short_digests() -> None:
    loop = LearningLoop()
    loop.record_trade(attrs.evolve(outcome("-5"), trade_id="orb/MES/2026-03-02T14:30:00+00:00/2026-03-02T15:00:00+00:00"), T0)
    (digest,) = loop.export_to_dict()["strategies"]["orb"]["trade_digests"]
    assert digest == trade_digest("orb/MES/2026-03-02T14:30:00+00:00/2026-03-02T15:00:00+00:00")
    assert len(digest) == 16 and int(digest, 16) >= 0


@pytest.mark.invariant("a closed trade fed twice (same trade_id) is counted once", machine="throttle")
def test_the_latest_500_trade_ids_are_remembered_and_older_ones_forgotten() -> None:
    loop = LearningLoop()
    trades = [attrs.evolve(outcome("1"), trade_id=f"exec-{i}") for i in range(RECENT_TRADE_IDS + 1)]
    for trade in trades:
        loop.record_trade(trade, T0)
    assert len(loop.export_to_dict()["strategies"]["orb"]["trade_digests"]) == RECENT_TRADE_IDS
    assert loop.record_trade(trades[1], T0).duplicate
    assert loop.record_trade(trades[-1], T0).duplicate
    assert not loop.record_trade(trades[0], T0).duplicate


def version_1(data: dict, ids: list[str]) -> dict:  # type: ignore[type-arg]
    """``data`` (an export) as the previous statebot wrote it: full trade ids, schema version 1."""
    for entry in data["strategies"].values():
        del entry["trade_digests"]
        entry["trade_ids"] = list(ids)
    return {**data, "schema_version": 1}


def test_a_version_1_state_loads_and_still_refuses_its_trades_fed_again() -> None:
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=2), strategies=["orb"])
    trade = attrs.evolve(outcome("-5"), trade_id="exec-17")
    loop.record_trade(trade, T0)
    old = version_1(loop.export_to_dict(), ["exec-16", "exec-17"])
    restored = LearningLoop(ThrottleRules(max_consecutive_losses=2))
    restored.load_from_dict(old)
    assert restored.metrics("orb").trades == 1
    assert restored.record_trade(trade, T0).duplicate
    assert restored.record_trade(attrs.evolve(trade, trade_id="exec-16"), T0).duplicate
    assert restored.export_to_dict()["schema_version"] == SCHEMA_VERSION
    assert restored.export_to_dict()["strategies"]["orb"]["trade_digests"] == [trade_digest("exec-16"), trade_digest("exec-17")]


@pytest.mark.parametrize("digests", [["exec-17"], ["ABCDEF0123456789"], [17], "0123456789abcdef"])
def test_malformed_trade_digests_are_refused(digests: object) -> None:
    data = LearningLoop(strategies=["orb"]).export_to_dict()
    data["strategies"]["orb"]["trade_digests"] = digests
    with pytest.raises(StateCorrupt, match="trade_digests must be a list of 16-hex-digit strings") as info:
        LearningLoop().load_from_dict(data)
    assert info.value.reason == "malformed"


def test_a_version_1_state_with_bad_trade_ids_is_refused() -> None:
    data = version_1(LearningLoop(strategies=["orb"]).export_to_dict(), [])
    data["strategies"]["orb"]["trade_ids"] = [17]
    with pytest.raises(StateCorrupt, match="trade_ids must be a list of strings"):
        LearningLoop().load_from_dict(data)


def test_trade_update_and_transition_are_valid_event_log_payloads() -> None:
    loop = LearningLoop(ThrottleRules(max_consecutive_losses=1))
    trade = outcome("-5")
    update = loop.record_trade(trade, T0)
    (change,) = update.transitions
    events = [("TRADE_CLOSED", trade.event_payload()), ("LEARNING_UPDATE", update.event_payload()),
              ("THROTTLE_TRANSITION", change.event_payload())]
    for seq, (kind, payload) in enumerate(events, start=1):
        Event.make(seq=seq, ts=T0, type=kind, payload=payload, config_hash="0" * 64)
    assert change.event_payload()["from"] == "ACTIVE" and change.event_payload()["to"] == "THROTTLED"
