"""``statebot state show`` and ``statebot state reset``: the operator's view and hand."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import statebot
from statebot import DurableLearningLoop, ThrottleRules
from statebot.cli import main
from statebot.store.persistence import read_state_file
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def throttled_state(folder: Path) -> None:
    with DurableLearningLoop.open(folder, T0, rules=ThrottleRules(max_consecutive_losses=2), strategies=["orb", "vwap"]) as d:
        d.record_trade(outcome("-5", slip="2"), T0)
        d.record_trade(outcome("-7.5"), T0 + dt.timedelta(minutes=3))


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "statebot", "state", *argv], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_show_without_a_file_says_a_bot_would_start_fresh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "show", "--state-dir", str(tmp_path)]) == 0
    assert "no checkpoint or learning state in" in capsys.readouterr().out


def test_show_prints_state_reason_and_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    throttled_state(tmp_path)
    assert main(["state", "show", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "orb: THROTTLED (consecutive_losses: 2 consecutive losses >= limit 2)" in out
    assert "cooldown ends at the first session after" not in out  # no session was told
    assert "trades 2 (wins 0, losses 2)" in out
    assert "net $-12.50" in out and "drawdown $12.50" in out
    assert "vwap: ACTIVE" in out


def test_show_json_is_the_stored_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    throttled_state(tmp_path)
    main(["state", "show", "--state-dir", str(tmp_path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["strategies"]["orb"]["throttle"]["state"] == "THROTTLED"


def test_show_reads_the_folder_from_the_environment(tmp_path: Path) -> None:
    throttled_state(tmp_path)
    proc = cli("show", env={"STATEBOT_STATE_DIR": str(tmp_path)})
    assert proc.returncode == 0 and "orb: THROTTLED" in proc.stdout


@pytest.mark.invariant("an operator reset is recorded in the state with its note and time", machine="throttle")
def test_reset_makes_the_strategy_active_and_records_the_note(tmp_path: Path) -> None:
    throttled_state(tmp_path)
    proc = cli("reset", "orb", "--note", "broker confirmed fills; new stop", "--state-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "orb: THROTTLED -> ACTIVE" in proc.stdout
    stored = read_state_file(tmp_path / "learning_state.json")
    assert stored is not None
    throttle = stored["strategies"]["orb"]["throttle"]
    assert throttle["state"] == "ACTIVE"
    assert throttle["resets"][-1]["note"] == "broker confirmed fills; new stop"
    assert dt.datetime.fromisoformat(throttle["resets"][-1]["at"]).tzinfo is not None
    assert stored["strategies"]["orb"]["metrics"]["trades"] == 2  # metrics are kept
    assert "last operator reset" in cli("show", "--state-dir", str(tmp_path)).stdout


def test_show_never_moves_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "learning_state.json").write_text("{")
    proc = cli("show", "--state-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "truncated or not JSON" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "learning_state.json").read_text() == "{"


def test_reset_on_a_corrupt_file_moves_it_aside_and_warns(tmp_path: Path) -> None:
    (tmp_path / "learning_state.json").write_text("{")
    proc = cli("reset", "orb", "--note", "lost metrics accepted", "--state-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "moved aside to" in proc.stderr
    assert len(list(tmp_path.glob("learning_state.json.corrupt-*"))) == 1
    stored = read_state_file(tmp_path / "learning_state.json")
    assert stored is not None and stored["fail_closed_reason"] is None
    assert stored["strategies"]["orb"]["throttle"]["state"] == "ACTIVE"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reset", "orb", "--note", " "], "needs a non-empty note"),
        (["reset", "typo", "--note", "x"], "unknown strategy 'typo'; known: orb, vwap"),
        (["reset", "orb"], "the following arguments are required: --note"),
        (["show", "--state-dir", str(Path(statebot.__file__).parent / "state")], "inside the installed statebot package"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(argv: list[str], message: str, tmp_path: Path) -> None:
    throttled_state(tmp_path)
    if "--state-dir" not in argv:
        argv = [*argv, "--state-dir", str(tmp_path)]
    proc = cli(*argv)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_reset_while_a_bot_holds_the_state_is_refused(tmp_path: Path) -> None:
    throttled_state(tmp_path)
    with DurableLearningLoop.open(tmp_path, T0):
        proc = cli("reset", "orb", "--note", "x", "--state-dir", str(tmp_path))
    assert proc.returncode == 3  # the environment: the folder is in use
    assert "in use by another process" in proc.stderr


def test_reset_in_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    proc = cli("reset", "orb", "--note", "x", "--state-dir", str(missing))
    assert proc.returncode == 2 and "no state folder at" in proc.stderr
    assert not missing.exists()
