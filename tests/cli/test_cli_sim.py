"""``statebot sim``: the demo from a fresh folder, CSV bars in, bad rows, the JSON report."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.feeds import SyntheticBars

ROOT = Path(__file__).resolve().parents[2]


def _write_csv(path: Path, start: dt.date, end: dt.date, *, bad_line_after: int | None = None) -> int:
    """Synthetic bars as a vendor CSV (timestamps label the bar start). Returns the bad row's line number."""
    lines = ["timestamp,open,high,low,close,volume"]
    bad = 0
    for bar in SyntheticBars(start=start, end=end, seed=3):
        lines.append(f"{(bar.end - dt.timedelta(minutes=1)).isoformat()},{bar.open},{bar.high},{bar.low},{bar.close},{bar.volume}")
        if bad_line_after is not None and len(lines) == bad_line_after:
            lines.append("2026-11-23T10:00:00-05:00,abc,1,1,1,1")
            bad = len(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bad


def test_demo_runs_from_a_fresh_folder_and_writes_nothing_there(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "statebot", "sim"], cwd=tmp_path, env=env, capture_output=True, check=False,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # no progress bar off a terminal, no runner warnings: only the line saying why entries were refused
    assert [line.split(" (")[0] for line in done.stderr.splitlines()] == ["statebot sim: refused throttled"], done.stderr
    for label in ("trades", "net P&L", "commission", "slippage calibration", "max drawdown", "throttle", "kill switch"):
        assert label in done.stdout
    assert "2026-11-26" in done.stdout and "no session (holiday)" in done.stdout
    assert "12:55" in done.stdout  # the 13:00 early close on Friday, flattened 5 minutes before
    assert list(tmp_path.iterdir()) == []


def test_report_json_has_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["sim", "--report", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["log_verifies"] is True
    assert data["flat_at_every_close"] is True
    assert [s["session"] for s in data["sessions"]] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"]
    assert data["late_flattens"] == 0


def test_csv_bars_are_simulated_and_the_event_log_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bars.csv"
    _write_csv(csv, dt.date(2026, 11, 23), dt.date(2026, 11, 24))
    events = tmp_path / "ev.jsonl"
    assert main(["sim", "--bars", str(csv), "--events", str(events), "--state-dir", str(tmp_path / "st")]) == 0
    assert events.exists() and events.stat().st_size > 0
    assert "780" in capsys.readouterr().out  # two full sessions of one-minute bars


def test_malformed_row_stops_with_its_line_number_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bars.csv"
    line = _write_csv(csv, dt.date(2026, 11, 23), dt.date(2026, 11, 23), bad_line_after=50)
    assert main(["sim", "--bars", str(csv)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {line}" in err[0]


def test_skip_bad_rows_logs_bar_rejected_and_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bars.csv"
    line = _write_csv(csv, dt.date(2026, 11, 23), dt.date(2026, 11, 23), bad_line_after=50)
    events, report = tmp_path / "ev.jsonl", tmp_path / "r.json"
    assert main(["sim", "--bars", str(csv), "--skip-bad-rows", "--events", str(events), "--report", str(report)]) == 0
    rejected = [json.loads(x) for x in events.read_text().splitlines() if '"BAR_REJECTED"' in x]
    assert [r["payload"]["line"] for r in rejected] == [line]
    assert json.loads(report.read_text())["bars_rejected"] == 1


def test_unknown_strategy_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--strategy", "nope"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _naive_csv(path: Path) -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    lines = ["timestamp,open,high,low,close,volume"]
    for bar in SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 23), seed=3):
        start = (bar.end - dt.timedelta(minutes=1)).astimezone(ny).replace(tzinfo=None)
        lines.append(f"{start.isoformat()},{bar.open},{bar.high},{bar.low},{bar.close},{bar.volume}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_naive_timestamps_need_tz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "naive.csv"
    _naive_csv(csv)
    assert main(["sim", "--bars", str(csv)]) == 2
    assert "--tz" in capsys.readouterr().err


def test_naive_timestamps_with_tz_are_exchange_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, report = tmp_path / "naive.csv", tmp_path / "r.json"
    _naive_csv(csv)
    assert main(["sim", "--bars", str(csv), "--tz", "America/New_York", "--bar-size", "1m", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["bars"] == 390
    assert [(s["session"], s["flatten_at"], s["late"]) for s in data["sessions"]] == [("2026-11-23", "15:55", False)]


def test_bars_longer_than_the_flatten_lead_are_refused_in_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A simulation has no heartbeat: with 5-minute bars and a 1-minute lead the flatten could only
    start at the close, and the position would be held overnight."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[calendar]\nflatten_lead = "1m"\n')
    assert main(["sim", "--bar-size", "5m", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "calendar.flatten_lead: 1m is shorter than the bar size 5m" in err
