"""``BotStateMachine``: a user's strategy under generated bars, faults, crashes and restarts keeps
every lifecycle invariant; a runner with its flatten disabled is caught, with the shrunk steps."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from statebot.app.runner import BotRunner
from statebot.core.strategy.protocol import get_strategy
from statebot.testing.machine import BotStateMachine

QUICK = settings(max_examples=10, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""A small profile; here it still takes about 100 s (each step re-reads the whole log): marked slow."""
CAP_S = 300.0


class SmaCrossBot(BotStateMachine):
    def make_strategy(self) -> Any:
        return get_strategy("sma-cross", fast=3, slow=6)


SmaCrossBot.TestCase.settings = QUICK
test_sma_cross_keeps_every_invariant_under_faults_crashes_and_restarts = pytest.mark.slow(SmaCrossBot.TestCase)


@pytest.mark.slow
def test_a_runner_with_its_flatten_disabled_is_caught_with_the_steps_that_show_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(BotRunner, "_session_flatten", lambda self, tr, t: None)
    began = time.monotonic()
    with pytest.raises(AssertionError, match="flatten_on_time: line [0-9]+: no flatten logged"):
        run_state_machine_as_test(SmaCrossBot, settings=settings(QUICK, max_examples=50, database=None))
    assert time.monotonic() - began < CAP_S


def test_a_subclass_without_a_strategy_is_told_what_to_define() -> None:
    with pytest.raises(TypeError, match="must define make_strategy"):
        run_state_machine_as_test(BotStateMachine, settings=settings(QUICK, max_examples=1))
