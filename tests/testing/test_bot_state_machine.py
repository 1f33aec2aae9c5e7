"""``BotStateMachine``: a user's strategy under generated bars, faults, crashes and restarts keeps
every lifecycle invariant; a runner with its flatten disabled is caught, with the shrunk steps."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from statebot.app.runner import BotRunner
from statebot.core.engine.protection import Changes, ProtectionDesk
from statebot.core.strategy.protocol import Signal, get_strategy
from statebot.testing.machine import BotStateMachine, kit_settings

CAP_S = 300.0
"""The bug below is found and shrunk in about 26 s of CPU time (one core, development machine):
the cap only keeps a regression to the old, re-read-the-whole-log machine from passing unnoticed."""


class SmaCrossBot(BotStateMachine):
    def make_strategy(self) -> Any:
        return get_strategy("sma-cross", fast=3, slow=6)


test_sma_cross_keeps_every_invariant_under_faults_crashes_and_restarts = SmaCrossBot.TestCase


def test_a_subclass_runs_with_the_kits_settings() -> None:
    s = SmaCrossBot.TestCase.settings
    assert (s.max_examples, s.stateful_step_count, s.deadline, s.report_multiple_bugs) == (25, 50, None, False)
    assert "explain" not in {p.name for p in s.phases}


def test_a_runner_with_its_flatten_disabled_is_caught_with_the_steps_that_show_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BotRunner, "_session_flatten", lambda self, tr, t: None)
    began = time.monotonic()
    with pytest.raises(AssertionError, match="flatten_on_time: line [0-9]+: no flatten logged") as caught:
        run_state_machine_as_test(SmaCrossBot, settings=settings(kit_settings(), max_examples=50, database=None))
    assert time.monotonic() - began < CAP_S
    steps = "\n".join(getattr(caught.value, "__notes__", []))  # Hypothesis attaches the shrunk steps
    # the clock reaches the close by bars or by heartbeats alone (a flat bot needs no bar to be flattened)
    assert "state = SmaCrossBot()" in steps and ("state.bars(" in steps or "state.heartbeat(" in steps), steps
    print(steps, caught.value, sep="\n")


def test_a_subclass_without_a_strategy_is_told_what_to_define() -> None:
    with pytest.raises(TypeError, match="must define make_strategy"):
        run_state_machine_as_test(BotStateMachine, settings=settings(kit_settings(), max_examples=1))


class AlwaysLong:
    """A strategy that wants a long on every bar: a bracket works at the venue from the first TRADING bar on."""

    name = "always-long"

    def on_bar(self, bar: Any, ctx: Any) -> Signal:
        return Signal(side="LONG", stop_ticks=8, dvs=Decimal(1), eqs=Decimal(1))


class AlwaysLongBot(BotStateMachine):
    def make_strategy(self) -> Any:
        return AlwaysLong()


def test_a_runner_that_ignores_a_lost_stop_is_caught_with_the_venues_cancel_in_the_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The kit's protector faults: the venue cancels a working stop unasked while the position is open. A runner
    whose desk neither trips nor re-sends for it (the lost-stop rule disabled) leaves the position naked, and the
    machine says so with the steps that show it."""
    monkeypatch.setattr(ProtectionDesk, "_restore", lambda self, held: Changes())
    began = time.monotonic()
    with pytest.raises(AssertionError, match="protected_while_open: line [0-9]+") as caught:
        run_state_machine_as_test(AlwaysLongBot, settings=settings(kit_settings(), max_examples=100, database=None))
    assert time.monotonic() - began < CAP_S
    steps = "\n".join(getattr(caught.value, "__notes__", []))
    assert "state.venue_cancels_a_protector(" in steps, steps
    print(steps, caught.value, sep="\n")
