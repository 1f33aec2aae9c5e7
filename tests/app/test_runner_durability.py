"""Durability modes and failing writes as the runner sees them: same bytes, output commit, a loud stop."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from statebot.errors import JournalWriteFailed, StopsBot
from statebot.journal.replay import verify
from tests.disk_faults import fill_disk_mid_write
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, long, make_runner, minute_bars, short

DAY = "2026-11-24"
SIMULATION = config('[durability]\nmode = "simulation"\n')


def trading_day(tmp: Path, cfg: Any) -> bytes:
    """A day with two round trips (entries, exits, the session's flatten), closed; the log's bytes."""
    sim, strat = broker(seed=3), Scripted()
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=8)
    strat.plan[t0 + dt.timedelta(minutes=5)] = short(stop_ticks=8)
    strat.plan[t0 + dt.timedelta(minutes=30)] = short(stop_ticks=8)
    runner = make_runner(tmp, strat, sim, cfg=cfg, start=et(DAY, "09:00"))
    drive(runner, sim, minute_bars(DAY))
    runner.close()
    return (tmp / "events.jsonl").read_bytes()


@pytest.mark.invariant("a run writes the same log bytes under live and simulation durability", machine="eventlog")
def test_a_runner_run_writes_the_same_log_bytes_under_live_and_simulation(tmp_path: Path) -> None:
    live = trading_day(tmp_path / "live", config(""))
    simulated = trading_day(tmp_path / "simulation", SIMULATION)
    assert b'"ORDER_SUBMITTED"' in live and b'"TRADE_CLOSED"' in live
    assert live == simulated


@pytest.mark.invariant("under live durability every event before an order is fsynced before the order leaves", machine="eventlog")
def test_live_durability_fsyncs_the_log_before_each_order_leaves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim, start=et(DAY, "09:00"))
    seen: list[tuple[str, int]] = []
    real_fsync, real_submit = os.fsync, sim.submit

    def fsync(fd: int) -> None:
        seen.append(("fsync", runner.events.head.seq))
        real_fsync(fd)

    def submit(order: Any) -> None:
        seen.append(("submit", runner.events.head.seq))
        real_submit(order)

    monkeypatch.setattr("statebot.journal.log.os.fsync", fsync)
    monkeypatch.setattr(sim, "submit", submit)
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=8)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=8)
    drive(runner, sim, minute_bars(DAY, "09:31", "10:05"))
    submits = [i for i, (what, _) in enumerate(seen) if what == "submit"]
    assert len(submits) >= 2
    for i in submits:
        # the ORDER_SUBMITTED of this order and everything before it was fsynced first (a bracket's
        # orders leave together after one fsync of all their ORDER_SUBMITTED)
        last_fsync = next(seq for what, seq in reversed(seen[:i]) if what == "fsync")
        assert last_fsync == seen[i][1]
    runner.close()


def test_simulation_durability_does_not_fsync_per_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=SIMULATION, start=et(DAY, "09:00"))
    calls: list[int] = []
    monkeypatch.setattr("statebot.journal.log.os.fsync", lambda fd: calls.append(fd))
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=8)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=8)
    drive(runner, sim, minute_bars(DAY, "09:31", "10:05"))
    assert calls == [] and not (tmp_path / "events.jsonl").read_bytes()
    runner.close()
    assert verify(tmp_path / "events.jsonl").events > 0


@pytest.mark.invariant("a failed append stops the runner loudly; it never lives on as in-memory state", machine="eventlog")
def test_a_failed_append_stops_the_runner_instead_of_tripping_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, strat = broker(), Scripted()
    # the runner's own stop check exits at the 5990 bar (a position change to log); a venue-held stop would
    # have closed the position at the venue already
    runner = make_runner(tmp_path, strat, sim, start=et(DAY, "09:00"), cfg=config("[protection]\nenabled = false\n"))
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=8)
    drive(runner, sim, minute_bars(DAY, "09:31", "10:01"))
    assert sim.book == {"MES": 1}
    fill_disk_mid_write(monkeypatch)
    with pytest.raises(JournalWriteFailed) as info:
        drive(runner, sim, [bar_at(t0 + dt.timedelta(minutes=2), 5990.0)])  # a position change to log
    assert isinstance(info.value, StopsBot) and info.value.errno == errno.ENOSPC
    assert str(info.value) == f"cannot write {tmp_path / 'events.jsonl'}: [Errno 28] No space left on device"
    assert not runner.killswitch.allows_entries
    monkeypatch.undo()
    # live durability: one flatten step was tried on the way out
    assert [o.purpose for o in sim.open_orders()] == ["flatten"]
    runner.close()
    verify(tmp_path / "events.jsonl")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EACCES, errno.EROFS])
def test_every_kind_of_failed_write_is_journal_write_failed_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(), sim, start=et(DAY, "09:00"))
    drive(runner, sim, minute_bars(DAY, "09:31", "09:32"))

    def refuse(fd: int, data: bytes) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("statebot.journal.log.os.write", refuse)
    with pytest.raises(JournalWriteFailed, match=rf"cannot write .*events.jsonl: \[Errno {code}\]"):
        runner.flatten_now("operator", et(DAY, "09:33"))
    monkeypatch.undo()
    runner.close()
