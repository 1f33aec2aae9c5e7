"""LearningLoop's saved state: what `export_to_dict` writes, key by key, what `load_from_dict` takes
back (a fail-closed state, other settings, versions 1 and 2, the digests it keeps) and the wording
of each refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from statebot import LearningLoop, StateCorrupt, ThrottleRules
from statebot.core.learning.loop import trade_digest
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
RULES = ThrottleRules(min_win_rate=None)


def saved(**kw: Any) -> dict[str, Any]:
    loop = LearningLoop(RULES, strategies=["orb"], **kw)
    loop.record_trade(attrs.evolve(outcome("-2"), trade_id="t-1"), T0)
    return loop.export_to_dict()


def refusal(data: object, loop: LearningLoop | None = None) -> StateCorrupt:
    loop = loop if loop is not None else LearningLoop(RULES)
    before = loop.export_to_dict()
    with pytest.raises(StateCorrupt) as info:
        loop.load_from_dict(data)
    assert loop.export_to_dict() == before
    return info.value


def test_the_export_of_a_new_loop_is_version_2_with_no_strategies() -> None:
    assert LearningLoop().export_to_dict() == {
        "schema_version": 2, "fail_closed_reason": None, "fail_closed_at": None, "strategies": {}}


def test_the_export_holds_each_strategys_metrics_throttle_and_digests_by_name() -> None:
    loop = LearningLoop(RULES, strategies=["vwap"])
    loop.record_trade(attrs.evolve(outcome("-2", strategy="orb"), trade_id="t-1"), T0)
    loop.hold_all("state_corrupt", "unreadable", T0)
    data = loop.export_to_dict()
    assert list(data["strategies"]) == ["orb", "vwap"]
    assert (data["fail_closed_reason"], data["fail_closed_at"]) == ("state_corrupt", "2026-03-02T15:00:00+00:00")
    assert data["strategies"]["orb"] == {
        "metrics": loop.metrics("orb").to_dict(), "judged": loop.judged_metrics("orb").to_dict(),
        "throttle": loop.throttle("orb").to_dict(), "trade_digests": [trade_digest("t-1")],
    }
    assert data["strategies"]["orb"]["metrics"]["trades"] == 1
    assert data["strategies"]["orb"]["throttle"]["state"] == "THROTTLED"


def test_a_fail_closed_state_loads_fail_closed_and_holds_the_configured_strategies_it_lacks() -> None:
    held = LearningLoop(RULES, strategies=["orb"])
    held.hold_all("state_corrupt", "unreadable", T0)
    loop = LearningLoop(RULES, strategies=["orb", "vwap"])
    loop.load_from_dict(held.export_to_dict())
    assert (loop.fail_closed_reason, loop.fail_closed_at) == ("state_corrupt", T0)
    vwap = loop.throttle("vwap")
    assert (vwap.state, vwap.reason, vwap.since) == ("THROTTLED", "state_corrupt", T0)
    assert vwap.detail == "first seen while the learning state is fail closed"


def test_a_healthy_state_clears_a_fail_closed_loop_and_drops_strategies_it_does_not_hold() -> None:
    loop = LearningLoop(RULES)
    loop.record_trade(outcome("1", strategy="gone"), T0)
    loop.hold_all("state_corrupt", "unreadable", T0)
    loop.load_from_dict(saved())
    assert (loop.fail_closed, loop.fail_closed_reason, loop.fail_closed_at) == (False, None, None)
    assert loop.strategies == ("orb",)
    assert loop.throttle_state("orb") == "ACTIVE"


def test_a_state_saved_with_another_window_and_weight_takes_the_loops() -> None:
    loop = LearningLoop(RULES, window=5, ewma_alpha="0.5")
    data = saved(window=7, ewma_alpha="0.3")
    loop.load_from_dict(data)
    for m in (loop.metrics("orb"), loop.judged_metrics("orb")):
        assert (m.window, m.ewma_alpha, m.recent, m.trades) == (5, Decimal("0.5"), [False], 1)
    assert loop == load_with(data, window=5, ewma_alpha="0.5")
    assert loop.metrics("orb").slippage_error_ewma_ticks == Decimal(0)


def load_with(data: dict[str, Any], **kw: Any) -> LearningLoop:
    loop = LearningLoop(RULES, **kw)
    loop.load_from_dict(data)
    return loop


def test_a_state_saved_with_the_same_settings_loads_equal() -> None:
    data = saved(window=7, ewma_alpha="0.3")
    loop = load_with(data, window=7, ewma_alpha="0.3")
    assert loop.export_to_dict() == data
    assert loop.metrics("orb").ewma_alpha == Decimal("0.3")


def test_a_loaded_throttle_judges_by_the_loops_rules() -> None:
    """Saved under rules where one loss throttles, in PROBATION; loaded under a cap of 3 and a limit of 2 losses."""
    rules = ThrottleRules(min_win_rate=None, max_consecutive_losses=1, cooldown=dt.timedelta(0))
    old = LearningLoop(rules)
    old.record_trade(outcome("-1"), T0)
    old.on_time(T0)
    assert old.throttle_state("orb") == "PROBATION"
    loop = LearningLoop(ThrottleRules(min_win_rate=None, max_consecutive_losses=2, probation_size_cap=3))
    loop.load_from_dict(old.export_to_dict())
    assert loop.size_cap("orb") == 3
    assert loop.record_trade(outcome("-1"), T0).transitions == ()
    assert [c.dest for c in loop.record_trade(outcome("-1"), T0).transitions] == ["THROTTLED"]


def test_more_than_500_saved_digests_load_as_the_latest_500() -> None:
    data = saved()
    digests = [f"{i:016x}" for i in range(501)]
    data["strategies"]["orb"]["trade_digests"] = digests
    assert load_with(data).export_to_dict()["strategies"]["orb"]["trade_digests"] == digests[1:]


def test_a_version_1_state_keeps_the_digests_of_its_latest_500_ids() -> None:
    data = saved()
    entry = data["strategies"]["orb"]
    del entry["trade_digests"]
    entry["trade_ids"] = [f"id-{i}" for i in range(501)]
    data["schema_version"] = 1
    assert load_with(data).export_to_dict()["strategies"]["orb"]["trade_digests"] == [
        trade_digest(f"id-{i}") for i in range(1, 501)]


def test_a_version_2_state_is_not_read_for_trade_ids() -> None:
    data = saved()
    data["strategies"]["orb"]["trade_ids"] = 5
    assert load_with(data).metrics("orb").trades == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=3), "learning state schema_version 3 is not one this statebot reads (1, 2)"),
        (lambda d: d.update(schema_version="2"), "learning state schema_version '2' is not one this statebot reads (1, 2)"),
        (lambda d: d.update(schema_version=0), "learning state schema_version 0 is not one this statebot reads (1, 2)"),
    ],
)
def test_an_unknown_version_is_refused_naming_the_versions_read(change: Any, message: str) -> None:
    data = saved()
    change(data)
    error = refusal(data)
    assert (str(error), error.reason) == (message, "unknown_version")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("schema_version"), "learning state lacks 'schema_version'"),
        (lambda d: d.update(fail_closed_reason="state_corrupt"),
         "learning state: fail_closed_reason and fail_closed_at must be set together"),
        (lambda d: d.update(fail_closed_at=T0.isoformat()),
         "learning state: fail_closed_reason and fail_closed_at must be set together"),
        (lambda d: d.update(fail_closed_reason=5), "learning state.fail_closed_reason 5 must be a string"),
        (lambda d: d.update(fail_closed_reason="x", fail_closed_at="2026-03-02T15:00:00"),
         "learning state.fail_closed_at '2026-03-02T15:00:00' is naive; stored times carry an offset"),
        (lambda d: d.pop("strategies"), "learning state lacks 'strategies'"),
        (lambda d: d.update(strategies=[]), "learning state.strategies must be a JSON object, found list"),
        (lambda d: d["strategies"].update(orb=5), "strategy 'orb' must be a JSON object, found int"),
        (lambda d: d["strategies"]["orb"].pop("metrics"), "strategy 'orb' lacks 'metrics'"),
        (lambda d: d["strategies"]["orb"].pop("judged"), "strategy 'orb' lacks 'judged'"),
        (lambda d: d["strategies"]["orb"].pop("throttle"), "strategy 'orb' lacks 'throttle'"),
        (lambda d: d["strategies"]["orb"].pop("trade_digests"), "strategy 'orb' lacks 'trade_digests'"),
        (lambda d: d["strategies"]["orb"]["metrics"].update(trades=-1), "strategy 'orb'.metrics.trades -1 must be an int >= 0"),
        (lambda d: d["strategies"]["orb"]["judged"].update(trades=-1), "strategy 'orb'.judged.trades -1 must be an int >= 0"),
        (lambda d: d["strategies"]["orb"]["metrics"].update(strategy="vwap"), "strategy 'orb': metrics name another strategy"),
        (lambda d: d["strategies"]["orb"]["judged"].update(strategy="vwap"), "strategy 'orb': metrics name another strategy"),
        (lambda d: d["strategies"]["orb"]["throttle"].update(state="PAUSED"), "throttle of 'orb': unknown state 'PAUSED'"),
        (lambda d: d["strategies"]["orb"].update(trade_digests=["0" * 15]),
         "strategy 'orb'.trade_digests must be a list of 16-hex-digit strings"),
        (lambda d: d["strategies"]["orb"].update(trade_digests=["0" * 17]),
         "strategy 'orb'.trade_digests must be a list of 16-hex-digit strings"),
    ],
)
def test_a_malformed_state_is_refused_with_the_place_named_and_changes_nothing(change: Any, message: str) -> None:
    data = saved()
    change(data)
    loop = LearningLoop(RULES, strategies=["keep"])
    loop.record_trade(outcome("1", strategy="keep"), T0)
    error = refusal(data, loop)
    assert (str(error), error.reason) == (message, "malformed")


@pytest.mark.parametrize("ids", ["abc", ("a",), ["a", 1], None])
def test_a_version_1_state_whose_ids_are_not_a_list_of_strings_is_refused(ids: object) -> None:
    data = saved()
    entry = data["strategies"]["orb"]
    del entry["trade_digests"]
    entry["trade_ids"] = ids
    data["schema_version"] = 1
    error = refusal(data)
    assert (str(error), error.reason) == ("strategy 'orb'.trade_ids must be a list of strings", "malformed")


def test_a_version_1_state_without_ids_is_refused() -> None:
    data = saved()
    del data["strategies"]["orb"]["trade_digests"]
    data["schema_version"] = 1
    assert str(refusal(data)) == "strategy 'orb' lacks 'trade_ids'"


def test_a_state_that_is_not_an_object_is_refused() -> None:
    assert str(refusal([])) == "learning state must be a JSON object, found list"
