"""A strategy that raises stops ``statebot sim`` with its own traceback (exit 5) unless ``--keep-going``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.cli.exit_codes import EXIT_STRATEGY_FAILED
from tests.runner_helpers import Scripted, bar_at, broker, drive, et, events, make_runner

MODULE = '''
def ratio(a, b):
    return a / b


class Boom:
    name = "boom"

    def __init__(self):
        self.bars = 0

    def on_bar(self, bar, ctx):
        self.bars += 1
        if self.bars >= 10:
            ratio(1, 0)
        return None
'''


@pytest.fixture
def boom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"boom_{request.node.name}"
    (tmp_path / f"{name}.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield f"{name}:Boom"
    sys.modules.pop(name, None)


def test_a_raising_strategy_stops_the_sim_with_its_own_traceback_and_exit_5(boom: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--strategy", boom]) == EXIT_STRATEGY_FAILED == 5
    out, err = capsys.readouterr()
    assert "bars" not in out  # no summary of a run that did not finish
    assert "in on_bar" in err and "in ratio" in err and "ZeroDivisionError: division by zero" in err
    assert "statebot/app" not in err and "statebot/cli" not in err  # statebot's own frames are trimmed
    last = err.strip().splitlines()[-1]
    assert last.startswith("statebot sim: error: strategy 'boom' raised ZeroDivisionError at the bar ending 2026-11-23")


def test_keep_going_skips_the_bars_and_counts_them(boom: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--strategy", boom, "--keep-going"]) == 0
    assert "strategy_error" in capsys.readouterr().out


def test_live_a_strategy_error_is_logged_once_with_its_traceback_and_each_bar_is_an_event(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Raises(Scripted):
        def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
            raise KeyError("missing")

    sim = broker()
    runner = make_runner(tmp_path, Raises(), sim)
    with caplog.at_level(logging.ERROR, logger="statebot"):
        decisions = drive(runner, sim, [bar_at(et("2026-11-24", f"10:0{i}")) for i in range(3)])
    runner.close()
    assert [d.reason for _, d in decisions] == ["strategy_error"] * 3
    shown = [r for r in caplog.records if "strategy" in r.getMessage() and r.exc_info]
    assert len(shown) == 1 and shown[0].exc_info[0] is KeyError  # type: ignore[index]
    assert len([e for e in events(tmp_path, "RUNNER_ERROR") if e["payload"]["stage"] == "strategy"]) == 3
