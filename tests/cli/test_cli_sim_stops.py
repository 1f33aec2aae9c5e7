"""``statebot sim`` stops loudly: a failed journal write is exit 3, a signal is exit 130/143, never a traceback."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.journal.replay import replay, verify
from tests.disk_faults import fill_disk_mid_write

MONTH = ["--start", "2025-03-03", "--end", "2025-03-31"]


def test_a_full_disk_during_a_sim_is_exit_3_with_one_line_and_no_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    fill_disk_mid_write(monkeypatch, events)
    code = main(["sim", *MONTH, "--state-dir", str(tmp_path / "state"), "--events", str(events)])
    monkeypatch.undo()
    out, err = capsys.readouterr()
    assert code == 3
    assert err == f"statebot sim: error: cannot write {events}: [Errno 28] No space left on device\n"
    assert "event log verifies" not in out and "kill switch" not in out
    verify(events)  # cut back to whole lines


@pytest.mark.parametrize("code", [errno.EFBIG, errno.EIO, errno.EACCES, errno.EROFS])
def test_a_refused_write_during_a_sim_is_exit_3_naming_the_os_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int) -> None:
    """As under ``ulimit -f`` (EFBIG), a failing disk (EIO), a permission change or a read-only remount."""
    events = tmp_path / "events.jsonl"
    real = os.write

    def refuse_the_log(fd: int, data: bytes) -> int:
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(events.resolve()):
            raise OSError(code, os.strerror(code))
        return real(fd, data)

    monkeypatch.setattr("statebot.journal.log.os.write", refuse_the_log)
    assert main(["sim", *MONTH, "--state-dir", str(tmp_path / "state"), "--events", str(events)]) == 3
    monkeypatch.undo()
    out, err = capsys.readouterr()
    assert err == f"statebot sim: error: cannot write {events}: [Errno {code}] {os.strerror(code)}\n"
    assert out == ""


def test_a_config_file_without_durability_keeps_the_sims_default(tmp_path: Path) -> None:
    from statebot.cli import build_parser
    from statebot.cli.sim import _setup
    from statebot.app.simrun import SimSetup

    only_throttle = tmp_path / "throttle.toml"
    only_throttle.write_text("[throttle]\nmax_consecutive_losses = 5\n")
    live = tmp_path / "live.toml"
    live.write_text('[durability]\nmode = "live"\n')
    parser = build_parser()
    chosen = {f.name: _setup(parser.parse_args(["sim", "--config", str(f)]), SimSetup()).build_config() for f in (only_throttle, live)}
    assert chosen["throttle.toml"].durability.mode == "simulation"
    assert chosen["throttle.toml"].throttle.max_consecutive_losses == 5
    assert chosen["live.toml"].durability.mode == "live"


def test_an_event_log_that_does_not_verify_is_refused_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("not json\n")
    assert main(["sim", "--events", str(events)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"event log {events}: line 1: not a JSON object" in err


def _sim_signalled(tmp_path: Path, sig: signal.Signals) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "statebot", "sim", "--start", "2024-01-02", "--end", "2025-12-31",
         "--state-dir", str(tmp_path / "state"), "--events", str(tmp_path / "events.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "state" / "checkpoint.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # a session has closed: the run is well under way
        time.sleep(0.3)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_sim_stops_between_bars_with_the_log_flushed_and_the_state_saved(
        tmp_path: Path, sig: signal.Signals, code: int) -> None:
    returncode, out, err = _sim_signalled(tmp_path, sig)
    assert returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == f"statebot sim: stopped by {sig.name}; no summary (the run is incomplete)"
    assert out == ""
    result = replay(tmp_path / "events.jsonl", canonical=True)
    assert result.verified.events > 0 and not result.anomalies
    # the checkpoint written at close records the log's head: a restart continues from it
    state = (tmp_path / "state" / "checkpoint.json").read_text()
    assert f'"seq":{result.verified.head.seq}' in state
