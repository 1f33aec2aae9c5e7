"""Hostile inputs and environments at the command line: one line on stderr and the documented exit status."""

from __future__ import annotations

import datetime as dt
import fcntl
import gzip
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.cli.exit_codes import EXIT_ENVIRONMENT, EXIT_USAGE, EXIT_VENUE
from tests.cli.test_cli_sim import _write_csv

ONE_DAY = (dt.date(2026, 11, 24), dt.date(2026, 11, 24))


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_help_lists_the_exit_status_table() -> None:
    out = subprocess.run([sys.executable, "-m", "statebot", "--help"], capture_output=True, text=True, timeout=60)
    for line in ("0    done", "2    bad input", "3    the environment failed", "4    the venue failed", "130"):
        assert line in out.stdout


@pytest.mark.parametrize("port", ["70000", "-1", "0", "http"])
def test_a_port_out_of_range_is_a_usage_error_in_one_line(tmp_path: Path, port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["run", "--adapter", "ibkr", "--mode", "PAPER", "--config", str(tmp_path / "x.toml"), "--port", port])
    assert stop.value.code == EXIT_USAGE
    assert "from 1 to 65535" in one_line(capsys)


def test_a_client_id_beyond_32_bits_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["run", "--adapter", "ibkr", "--mode", "PAPER", "--config", str(tmp_path / "x.toml"), "--client-id", "99999999999"])
    assert stop.value.code == EXIT_USAGE and "client id" in one_line(capsys)


def test_the_mode_is_accepted_in_any_case(tmp_path: Path) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    out = subprocess.run([sys.executable, "-m", "statebot", "run", "--adapter", "ibkr", "--mode", "observe", "--port", port,
                          "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    # past the mode check: it tried to connect, and an unreachable venue is exit 4
    assert out.returncode == EXIT_VENUE, out.stderr
    assert "cannot connect to TWS" in out.stderr


def test_a_csv_run_is_titled_by_its_file_and_its_report_holds_no_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars, report = tmp_path / "es_1m.csv", tmp_path / "r.json"
    _write_csv(bars, *ONE_DAY)
    assert main(["sim", "--bars", str(bars), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("statebot sim: es_1m.csv (") and "demo" not in out
    assert "seed" not in json.loads(report.read_text())


def test_a_gzip_csv_is_simulated_like_the_plain_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "bars.csv"
    _write_csv(plain, *ONE_DAY)
    packed = tmp_path / "bars.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert main(["sim", "--bars", str(plain)]) == 0
    first = capsys.readouterr().out.split("\n", 1)[1]
    assert main(["sim", "--bars", str(packed)]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == first


# -- the environment: exit 3, one line naming the path ---------------------------------------------


def test_a_state_folder_that_is_a_file_is_refused_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state").write_text("")
    assert main(["sim", "--state-dir", str(tmp_path / "state")]) == EXIT_ENVIRONMENT
    assert f"state folder {tmp_path / 'state'}: exists and is not a folder" in one_line(capsys)


def test_an_events_file_whose_parent_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "logs").write_text("")
    assert main(["sim", "--events", str(tmp_path / "logs" / "e.jsonl")]) == EXIT_ENVIRONMENT
    assert "logs: exists and is not a folder" in one_line(capsys)


def test_an_events_path_that_is_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "e.jsonl").mkdir()
    assert main(["sim", "--events", str(tmp_path / "e.jsonl")]) == EXIT_ENVIRONMENT
    assert "e.jsonl: is a folder, not a file" in one_line(capsys)


@pytest.mark.parametrize("name", ["checkpoint.json", "learning_state.json.lock"])
def test_a_state_file_or_lock_that_cannot_be_opened_is_refused(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state" / name).mkdir(parents=True)
    assert main(["sim", "--state-dir", str(tmp_path / "state")]) == EXIT_ENVIRONMENT
    assert f"{name}: is a folder" in one_line(capsys)


def test_state_show_of_an_unreadable_state_file_is_one_line_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "learning_state.json").mkdir()
    assert main(["state", "show", "--state-dir", str(tmp_path)]) == EXIT_ENVIRONMENT
    assert "learning_state.json: Is a directory" in one_line(capsys)


def test_state_show_of_a_state_folder_that_is_a_file_is_one_line_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state").write_text("")
    assert main(["state", "show", "--state-dir", str(tmp_path / "state")]) == EXIT_ENVIRONMENT
    assert "Not a directory" in one_line(capsys)


def test_a_permission_error_reaching_the_cli_is_one_line_naming_the_file(monkeypatch: pytest.MonkeyPatch,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import statebot.cli.state as state_cli

    def denied(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(state_cli, "read_state_file", denied)
    assert main(["state", "show", "--state-dir", "/srv/bot/state"]) == EXIT_ENVIRONMENT
    assert one_line(capsys) == "statebot state: error: /srv/bot/state/learning_state.json: Permission denied\n"


needs_non_root = pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the mode bits say")


@needs_non_root
def test_a_read_only_state_folder_is_refused_at_start_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["sim", "--state-dir", str(folder)]) == EXIT_ENVIRONMENT
    finally:
        folder.chmod(0o700)
    assert "cannot write (Permission denied)" in one_line(capsys)


@needs_non_root
def test_an_unreadable_events_file_is_refused_at_start_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "e.jsonl"
    log.write_text("")
    log.chmod(0o200)
    assert main(["sim", "--events", str(log)]) == EXIT_ENVIRONMENT
    assert "e.jsonl: cannot open for reading and writing (Permission denied)" in one_line(capsys)


def test_a_second_sim_refused_by_the_lock_leaves_no_events_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    fd = os.open(folder / "learning_state.json.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert main(["sim", "--state-dir", str(folder), "--events", str(tmp_path / "second.jsonl")]) == EXIT_ENVIRONMENT
    finally:
        os.close(fd)
    assert "is in use by another process" in one_line(capsys)
    assert not (tmp_path / "second.jsonl").exists()


def test_an_events_file_held_by_another_writer_is_refused_as_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "e.jsonl"
    log.write_text("")
    with log.open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert main(["sim", "--events", str(log)]) == EXIT_ENVIRONMENT
    assert "event log" in one_line(capsys)


def test_replay_of_a_file_it_cannot_read_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path)]) == EXIT_ENVIRONMENT
    assert "cannot read" in one_line(capsys)


def test_a_report_that_cannot_be_written_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "bars.csv"
    _write_csv(bars, *ONE_DAY)
    assert main(["sim", "--bars", str(bars), "--report", str(tmp_path)]) == EXIT_ENVIRONMENT
    assert "--report" in capsys.readouterr().err


def test_a_scenario_naming_os_system_as_its_strategy_runs_no_command(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    scenario = tmp_path / "shared.toml"
    scenario.write_text(f'[sim]\nstrategy = "os:system"\nstrategy_params = {{command = "touch {marker}"}}\n')
    out = subprocess.run([sys.executable, "-m", "statebot", "sim", str(scenario)], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == EXIT_USAGE
    assert out.stderr == "statebot sim: error: strategy 'os:system': os.system is not a strategy class " \
                         "(a class with a 'name' and an 'on_bar(bar, ctx)' method)\n"
    assert not marker.exists()


@pytest.mark.parametrize("label", ["start", "end"])
def test_a_bar_size_inferred_from_a_csv_is_checked_against_the_flatten_lead(tmp_path: Path, label: str,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A 15-minute file with the default 5-minute lead is refused like ``--bar-size 15m``: it could hold past the close."""
    bars = tmp_path / "m15.csv"
    start = dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.timezone.utc)
    rows = [f"{(start + dt.timedelta(minutes=15 * i)).isoformat()},5000,5001,4999,5000,10" for i in range(26)]
    bars.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    assert main(["sim", "--bars", str(bars), "--bar-label", label, "--state-dir", str(tmp_path / "state")]) == EXIT_USAGE
    assert "calendar.flatten_lead: 5m is shorter than the bar size 15m" in one_line(capsys)
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(("error", "line"), [
    (PermissionError(13, "Permission denied", "/srv/state/x.json"), "/srv/state/x.json: Permission denied"),
    (OSError(28, "No space left on device", b"/srv/e.jsonl"), "/srv/e.jsonl: No space left on device"),
    (OSError(18, "Invalid cross-device link", "/a", None, "/b"), "/a -> /b: Invalid cross-device link"),
    (OSError("a message\nover two lines"), "a message over two lines"),
])
def test_an_os_error_becomes_one_line_naming_its_files(error: OSError, line: str) -> None:
    from statebot.cli.exit_codes import exit_code_for, one_line as format_line

    assert format_line(error) == line and exit_code_for(error) == EXIT_ENVIRONMENT


def test_a_full_state_folder_is_refused_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A full disk still creates empty files: the start-up check writes a block, as the first save would."""
    import statebot.store.preflight as preflight

    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(preflight.os, "write", full)
    assert main(["sim", "--state-dir", str(tmp_path / "state")]) == EXIT_ENVIRONMENT
    assert "cannot write (No space left on device)" in one_line(capsys)
    assert [p.name for p in (tmp_path / "state").iterdir()] == []


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:00-05:00", "0001-01-01T00:00:00+00:00"])
def test_a_far_off_year_is_one_line_or_with_skip_bad_rows_one_rejected_row(tmp_path: Path, stamp: str,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "bars.csv"
    _write_csv(bars, *ONE_DAY)
    with bars.open("a") as f:
        f.write(f"{stamp},6000,6001,5999,6000,10\n")
    assert main(["sim", "--bars", str(bars)]) == EXIT_USAGE
    assert "is outside the years 1900-2200" in one_line(capsys)
    assert main(["sim", "--bars", str(bars), "--skip-bad-rows"]) == 0
    assert "(1 rejected: bad_row 1)" in capsys.readouterr().out
