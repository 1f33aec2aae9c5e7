"""What a live loop asks of the runner: flatten on demand before a shutdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from statebot import verify
from tests.runner_helpers import Scripted, broker, drive, et, events, long, make_runner, minute_bars


def test_flatten_now_closes_the_position_and_logs_why(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:02"))
    assert runner.position_qty > 0
    runner.flatten_now("shutdown", et("2026-11-24", "10:02") + dt.timedelta(seconds=30))
    assert runner.flattening
    drive(runner, sim, minute_bars("2026-11-24", "10:03", "10:06"))
    assert runner.position_qty == 0 and not runner.flattening
    [flatten] = events(tmp_path, "SESSION_EXIT_FLATTEN")
    assert flatten["payload"]["reason"] == "shutdown"
    runner.close()
    verify(tmp_path / "events.jsonl")


def test_after_flatten_now_no_entry_is_sent(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    runner.flatten_now("shutdown", et("2026-11-24", "10:00"))
    out = drive(runner, sim, minute_bars("2026-11-24", "10:01", "10:03"))
    assert [d.reason for _, d in out] == ["stopping"] * 3
    assert not [e for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "entry"]
    runner.close()
