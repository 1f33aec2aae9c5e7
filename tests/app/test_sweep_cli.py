"""``statebot sweep FILE``: runs the points, prints the table and the best, writes the journal and the heatmap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statebot.cli import main
from tests.app.sweep_helpers import write_sweep


def test_a_sweep_prints_the_table_the_best_and_the_edge_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "sweep tiny: 4 points (4 run now, 0 from the journal" in out
    assert "best by mean net_pnl over seeds and periods:" in out
    assert "warning: the best point has" in out
    assert (tmp_path / "out" / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert f"report: {tmp_path / 'out' / 'report.html'}" in out
    page = (tmp_path / "out" / "report.html").read_text()
    assert "class='chart heatmap'" in page and "warning: the best point has" in page
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "(0 run now, 4 from the journal" in capsys.readouterr().out


def test_a_failed_point_exits_1_with_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path, fast="[25]")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "(fast=25 slow=20 period 2026-11-23..2026-11-24 seed 1) failed: ConfigError: " in err[0] and "(sma-cross fast 25 must be less than slow 20)" in err[0]


def test_a_heatmap_of_an_unswept_name_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(write_sweep(tmp_path)), "--out", str(tmp_path / "out"), "--heatmap", "fast,colour"]) == 2
    err = capsys.readouterr().err
    assert err == ("statebot sweep: error: --heatmap 'fast,colour': name two swept dimensions, X,Y "
                   "(swept: fast, slow)\n")
    assert not (tmp_path / "out").exists()


def test_ctrl_c_stops_between_points_and_the_same_command_resumes(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, seeds="2")
    command = [sys.executable, "-m", "statebot", "sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]
    env = {**os.environ, "CI": "true"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    journal = tmp_path / "out" / "sweep.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("\n") < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command to resume" in err and "Traceback" not in err
    finished = journal.read_text(encoding="utf-8").count("\n") - 1
    assert 1 <= finished < 8
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"({8 - finished} run now, {finished} from the journal" in done.stdout
