"""``statebot run --adapter sim``: Ctrl-C and SIGTERM stop the dry run cleanly; bad input is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.journal.replay import replay

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_dry_run_flat_with_its_log_closed(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    # 3600x: the sample's four days would take about two minutes; the signal comes once it runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "statebot", "run", "--adapter", "sim", "--bars", str(SAMPLE), "--strategy", "sma-cross",
         "--speed", "3600", "--state-dir", str(tmp_path / "state"), "--events", str(tmp_path / "events.jsonl")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        started = proc.stderr.readline()
        assert "dry run of" in started and "3600x recorded time" in started, started
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == f"statebot run: stopped by {sig.name}, flat; event log and state closed"
    assert "statebot run --adapter sim: sample-mes-1m.csv (sma-cross on MES)" in out  # the summary of what ran
    result = replay(tmp_path / "events.jsonl", canonical=True)
    assert result.verified.events > 0 and not result.anomalies
    assert '"reason":"shutdown"' in (tmp_path / "events.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--adapter", "sim"], "--adapter sim needs --bars FILE"),
    (["run", "--adapter", "sim", "--bars", str(SAMPLE), "--mode", "PAPER"], "--mode is for --adapter ibkr"),
    (["run", "--adapter", "ibkr", "--mode", "PAPER", "--config", "x.toml", "--bars", str(SAMPLE)],
     "--bars and --speed are for a dry run"),
    (["run", "--adapter", "ibkr", "--config", "x.toml"], "--adapter ibkr needs --mode"),
    (["run", "--adapter", "sim", "--bars", str(SAMPLE), "--speed", "-2"], "speed '-2' must be 0 or max"),
    (["run", "--adapter", "sim", "--bars", "missing.csv"], "missing.csv: cannot open"),
])
def test_bad_dry_run_input_is_one_line(argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code in (2, 3) and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_empty_bars_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.csv").write_text("timestamp,open,high,low,close,volume\n", encoding="utf-8")
    assert main(["run", "--adapter", "sim", "--bars", str(tmp_path / "empty.csv"), "--bar-size", "1m"]) == 2
    assert "no bars to replay" in capsys.readouterr().err
