"""The entry policy is an ordered list of named checks: the first that refuses names the SKIP,
and the order is the one the module docstring (and every simulation's log) records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from statebot.app.decision import SKIP, Decision
from statebot.app.entry_policy import ENTRY_CHECKS, size_entry
from statebot.config.model import Config
from statebot.core.strategy.protocol import Signal
from tests.runner_helpers import Scripted, broker, drive, events, long, make_runner, minute_bars

T = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)

# every check's failing condition, in the order the checks run, with the reason it gives
FAILURES = [
    ("session_open", {"may_enter": False}, "session"),
    ("not_stopping", {"_stopping": True}, "stopping"),
    ("venue_connected", {"reachable": False}, "adapter_unavailable"),
    ("venue_reconciled", {"allows_reconciled": False}, "reconciling"),
    ("kill_switch_armed", {"ks_allows": False}, "kill_switch"),
    ("throttle_allows", {"throttle_allows": False}, "throttled"),
    ("quality_gates", {"dvs": Decimal("0.1")}, "gate_DVS"),
]


def stub(**fail: Any) -> tuple[Any, Any, bool]:
    """A runner, a signal and may_enter where every check passes except those named in ``fail``."""
    logged: list[tuple[str, dict[str, Any]]] = []
    runner = SimpleNamespace(
        name="s", config=Config(), _stopping=fail.get("_stopping", False),
        session=SimpleNamespace(state="TRADING"),
        connection=SimpleNamespace(reachable=fail.get("reachable", True),
                                   allows_entries=fail.get("allows_reconciled", True) and fail.get("reachable", True)),
        killswitch=SimpleNamespace(allows_entries=fail.get("ks_allows", True)),
        learning=SimpleNamespace(allows_entry=lambda name: fail.get("throttle_allows", True),
                                 throttle_state=lambda name: "THROTTLED"),
        _log=lambda t, type, payload: logged.append((type, dict(payload))), logged=logged,
    )
    signal = Signal(side="LONG", stop_ticks=4, dvs=fail.get("dvs", Decimal(1)), eqs=Decimal(1))
    return runner, signal, fail.get("may_enter", True)


def first_refusal(runner: Any, signal: Any, may_enter: bool) -> Any:
    for check in ENTRY_CHECKS:
        refused = check(runner, signal, T, may_enter)
        if refused is not None:
            return refused
    return None


def test_the_checks_run_in_the_documented_order() -> None:
    assert [c.__name__ for c in ENTRY_CHECKS] == [name for name, _, _ in FAILURES]


def test_a_signal_that_fails_nothing_passes_every_check() -> None:
    assert first_refusal(*stub()) is None


@pytest.mark.parametrize("index", range(len(FAILURES)))
def test_the_first_failing_check_names_the_refusal(index: int) -> None:
    """Every check from ``index`` on fails: the refusal is that check's, whatever fails after it."""
    fail: dict[str, Any] = {}
    for _, condition, _ in FAILURES[index:]:
        fail.update(condition)
    refused = first_refusal(*stub(**fail))
    assert refused is not None and refused.action == SKIP
    assert refused.reason == FAILURES[index][2]


def test_a_gate_refusal_is_logged_and_nothing_else_is() -> None:
    runner, signal, may_enter = stub(dvs=Decimal("0.1"))
    first_refusal(runner, signal, may_enter)
    assert [t for t, _ in runner.logged] == ["GATE_SKIP"]
    runner, signal, may_enter = stub(ks_allows=False, dvs=Decimal("0.1"))
    first_refusal(runner, signal, may_enter)
    assert runner.logged == []  # refused before the gates: no GATE_SKIP


def test_sizing_refuses_a_stop_wider_than_the_maximum_with_the_sizing_reason(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long(stop_ticks=10_000)), sim)
    [(_, decision)] = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:00"))
    refused = size_entry(runner, long(stop_ticks=10_000), T)
    assert isinstance(refused, Decision) and refused.action == SKIP and refused.reason != "sizing_error"
    assert decision.action == SKIP and decision.reason == refused.reason
    assert events(tmp_path, "ORDER_SUBMITTED") == []
    runner.close()
