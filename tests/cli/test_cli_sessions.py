"""``statebot sessions``: the schedule for people and for programs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main


def test_json_lists_each_session_with_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "--start", "2026-11-23", "--end", "2026-11-30", "--entry-cutoff", "15m", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["session"] for r in rows] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    friday = rows[3]
    assert friday == {
        "session": "2026-11-27",
        "open": "2026-11-27T09:30:00-05:00",
        "entry_cutoff": "2026-11-27T12:45:00-05:00",
        "flatten": "2026-11-27T12:55:00-05:00",
        "close": "2026-11-27T13:00:00-05:00",
    }


def test_entry_cutoff_is_null_when_not_set(capsys: pytest.CaptureFixture[str]) -> None:
    main(["sessions", "--start", "2026-11-24", "--end", "2026-11-24", "--flatten-before", "10m", "--json"])
    (row,) = json.loads(capsys.readouterr().out)
    assert row["entry_cutoff"] is None and row["flatten"] == "2026-11-24T15:50:00-05:00"


def test_table_marks_the_holiday_and_the_early_close(capsys: pytest.CaptureFixture[str]) -> None:
    main(["sessions", "--start", "2026-11-23", "--end", "2026-11-29"])
    out = capsys.readouterr().out
    assert "America/New_York" in out
    assert "2026-11-26 Thu" in out and "no session (holiday)" in out
    (friday,) = [line for line in out.splitlines() if line.startswith("2026-11-27")]
    assert "12:55" in friday and "13:00" in friday and "early close" in friday


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2026-13-01"], "invalid date '2026-13-01'"),
        (["--end", "tomorrow"], "invalid date 'tomorrow'"),
        (["--flatten-before", "5x"], "invalid duration '5x'"),
        (["--entry-cutoff=-5m"], "invalid duration '-5m'"),
        (["--start", "2026-11-30", "--end", "2026-11-23"], "before --start"),
        (["--calendar", "NOPE"], "unknown calendar 'NOPE'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(argv: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "statebot", "sessions", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_cme_table_shows_the_1600_ct_halt_and_the_same_instant_in_new_york(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "--calendar", "CME_GLOBEX_EQUITY", "--start", "2026-11-23", "--end", "2026-11-27"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "times in America/Chicago, flatten and close also in America/New_York" in lines[0]
    assert lines[3].split() == ["2026-11-23", "Mon", "Sun", "17:00", "-", "15:55", "16:00", "16:55", "17:00"]
    assert lines[-1].split() == ["2026-11-27", "Fri", "Thu", "17:00", "-", "12:10", "12:15", "13:10", "13:15", "early", "close"]


def test_xnys_table_shows_the_cash_close_in_chicago_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "--start", "2026-11-24", "--end", "2026-11-24"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].split() == ["2026-11-24", "Tue", "09:30", "-", "15:55", "16:00", "14:55", "15:00"]


def test_config_shows_the_sessions_its_instrument_keeps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bot.toml"
    f.write_text('[instrument]\nsymbol = "ES"\nflatten_before = "futures_close"\n[calendar]\nflatten_lead = "10m"\n')
    assert main(["sessions", "--config", str(f), "--start", "2026-11-26", "--end", "2026-11-26"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CME_GLOBEX_EQUITY sessions") and "flatten 10m before close" in lines[0]
    assert lines[3].split()[:7] == ["2026-11-26", "Thu", "Wed", "17:00", "-", "11:50", "12:00"]


def test_config_with_the_cash_close_keeps_xnys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bot.toml"
    f.write_text('[instrument]\nsymbol = "ES"\n')
    assert main(["sessions", "--config", str(f), "--start", "2026-11-26", "--end", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("XNYS sessions") and "no session (holiday)" in out
