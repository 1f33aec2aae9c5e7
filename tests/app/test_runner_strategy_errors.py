"""Live, a strategy that keeps raising trips the kill switch after ``[kill_switch] max_strategy_errors``
bars of one session; the count is a fold of the log, so a restart does not start it again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from statebot.config import Config
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, events, make_runner


class Raises(Scripted):
    def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("missing")


def cfg(limit: int) -> Config:
    return config(f"[kill_switch]\nmax_strategy_errors = {limit}\n")


def bars(day: str, first: int, last: int) -> list:  # type: ignore[type-arg]
    return [bar_at(et(day, f"10:{m:02d}")) for m in range(first, last)]


@pytest.mark.invariant("a strategy that raises on max_strategy_errors bars of one session trips the kill switch",
                       machine="killswitch")
def test_the_limit_th_error_of_a_session_trips_the_kill_switch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim, cfg=cfg(3))
    with caplog.at_level(logging.ERROR, logger="statebot"):
        drive(runner, sim, bars("2026-11-24", 0, 2))
        assert runner.killswitch_state == "ARMED"
        drive(runner, sim, bars("2026-11-24", 2, 4))
    runner.close()
    assert runner.killswitch_state == "TRIPPED"
    trips = [e["payload"] for e in events(tmp_path, "KILL_SWITCH")]
    assert [t["reason"] for t in trips] == ["strategy_errors"]
    assert trips[0]["detail"] == "3 strategy errors in session 2026-11-24 (last: KeyError: 'missing')"
    errors = [e for e in events(tmp_path, "RUNNER_ERROR") if e["payload"]["stage"] == "strategy"]
    assert [e["payload"]["session"] for e in errors] == ["2026-11-24"] * 4
    shown = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert len(shown) == 1  # the traceback once, not once per bar


def test_a_restart_keeps_counting_the_sessions_errors(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim, cfg=cfg(3))
    drive(runner, sim, bars("2026-11-24", 0, 2))
    runner.close()
    (tmp_path / "state" / "checkpoint.json").unlink()  # the log alone must carry the count
    again = make_runner(tmp_path, Raises(), sim, cfg=cfg(3))
    drive(again, sim, bars("2026-11-24", 2, 3))
    again.close()
    assert again.killswitch_state == "TRIPPED"
    assert [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")] == ["strategy_errors"]


def test_a_new_session_starts_the_count_again(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim, cfg=cfg(3))
    drive(runner, sim, bars("2026-11-24", 0, 2))
    drive(runner, sim, bars("2026-11-25", 0, 2))
    runner.close()
    assert runner.killswitch_state == "ARMED"


def test_zero_turns_the_trip_off(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim, cfg=cfg(0))
    drive(runner, sim, bars("2026-11-24", 0, 20))
    runner.close()
    assert runner.killswitch_state == "ARMED"


def test_the_default_limit_is_five_bars(tmp_path: Path) -> None:
    assert Config().kill_switch.max_strategy_errors == 5
    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim)
    drive(runner, sim, bars("2026-11-24", 0, 4))
    assert runner.killswitch_state == "ARMED"
    drive(runner, sim, bars("2026-11-24", 4, 5))
    runner.close()
    assert runner.killswitch_state == "TRIPPED"
