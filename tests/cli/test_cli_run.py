"""``statebot run``: flags documented, LIVE refused without both keys, an unreachable TWS changes nothing."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statebot import verify
from statebot.venues.ibkr import LIVE_ACKNOWLEDGEMENT
from statebot.cli import main

FLAGS = ("--adapter", "--mode", "--host", "--port", "--client-id", "--config", "--live", "--strategy", "--symbol",
         "--bar-size", "--heartbeat", "--state-dir", "--events", "--equity", "--stop-timeout", "--rearm-kill-switch",
         "--write-off-positions")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "statebot", *args], capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_help_documents_every_flag() -> None:
    out = cli("run", "--help")
    assert out.returncode == 0
    for flag in FLAGS:
        assert flag in out.stdout


@pytest.mark.invariant("LIVE mode does not start without --live", machine="runner")
def test_live_mode_without_the_live_flag_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text(f'[ibkr]\nlive_acknowledgement = "{LIVE_ACKNOWLEDGEMENT}"\n')
    assert main(["run", "--adapter", "ibkr", "--mode", "LIVE", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--live" in err


@pytest.mark.invariant("LIVE mode does not start without the acknowledgement in the config", machine="runner")
def test_live_mode_without_the_acknowledgement_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[ibkr]\nlive_acknowledgement = "yes"\n')
    assert main(["run", "--adapter", "ibkr", "--mode", "LIVE", "--live", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "live_acknowledgement" in err


def test_live_flag_in_paper_mode_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    assert main(["run", "--adapter", "ibkr", "--mode", "PAPER", "--live", "--config", str(cfg)]) == 2


def test_paper_mode_refuses_the_live_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    assert main(["run", "--adapter", "ibkr", "--mode", "PAPER", "--port", "7496", "--config", str(cfg)]) == 2
    assert "live-trading port" in capsys.readouterr().err


def test_an_unreachable_tws_exits_4_and_leaves_no_state(tmp_path: Path) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    out = cli("run", "--adapter", "ibkr", "--mode", "OBSERVE", "--port", str(free_port()), "--config", str(cfg))
    assert out.returncode == 4
    assert out.stderr.strip().splitlines()[-1].startswith("statebot run: error: cannot connect to TWS")
    assert not (tmp_path / "state").exists() and not (tmp_path / "events.jsonl").exists()


def test_a_bar_size_that_does_not_divide_a_day_is_a_usage_error(tmp_path: Path) -> None:
    out = cli("run", "--adapter", "ibkr", "--mode", "PAPER", "--config", str(tmp_path / "x.toml"), "--bar-size", "7m")
    assert out.returncode == 2 and "divide a day" in out.stderr


def _paper_run_signalled(tmp_path: Path, *signals: signal.Signals) -> tuple[int, str]:
    """A PAPER run on the fake gateway, sent ``signals`` once it streams bars; (exit code, stderr)."""
    from tests.venues.ibkr.fake_gateway import FakeGateway

    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    with FakeGateway() as gw:
        proc = subprocess.Popen(
            [sys.executable, "-m", "statebot", "run", "--adapter", "ibkr", "--mode", "PAPER", "--port", str(gw.port),
             "--client-id", "9", "--config", str(cfg), "--state-dir", str(tmp_path / "state"),
             "--events", str(tmp_path / "events.jsonl"), "--heartbeat", "200ms"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            gw.wait_for("reqRealTimeBars", timeout=30)
            time.sleep(0.5)
            for sig in signals:
                proc.send_signal(sig)
                time.sleep(0.05)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert gw.count("placeOrder") == 0
    return proc.returncode, err


@pytest.mark.skipif(importlib.util.find_spec("ib_insync") is None and importlib.util.find_spec("ib_async") is None,
                    reason="the ibkr extra is not installed")
def test_a_double_ctrl_c_stops_a_paper_run_with_130_and_no_traceback(tmp_path: Path) -> None:
    code, err = _paper_run_signalled(tmp_path, signal.SIGINT, signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "statebot run: stopped by SIGINT" in err
    verify(tmp_path / "events.jsonl")


@pytest.mark.skipif(importlib.util.find_spec("ib_insync") is None and importlib.util.find_spec("ib_async") is None,
                    reason="the ibkr extra is not installed")
def test_sigterm_stops_a_paper_run_flat_with_a_verified_event_log(tmp_path: Path) -> None:
    code, err = _paper_run_signalled(tmp_path, signal.SIGTERM)
    assert code == 143, err
    assert "SIGTERM received" in err and "statebot run: stopped by SIGTERM, flat" in err
    verify(tmp_path / "events.jsonl")
    reasons = [json.loads(line)["payload"].get("reason") for line in (tmp_path / "events.jsonl").read_text().splitlines()
               if json.loads(line)["type"] == "SESSION_EXIT_FLATTEN"]
    assert reasons == ["shutdown"]
