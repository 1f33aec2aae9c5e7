"""``[durability] mode``: live fsyncs state files; simulation skips fsync but never atomicity."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from statebot.store import persistence
from statebot.app import runner_state
from statebot.store.persistence import read_state_file
from statebot.app.runner_state import read_runner_state
from statebot.app.simrun import SimSetup
from tests.runner_helpers import (
    Scripted,
    bar_at,
    broker,
    config,
    drive,
    et,
    long,
    make_runner,
    short,
)

DAY = "2026-11-24"


def spy_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Record (file name, fsync) of every state file write, then write it."""
    writes: list[tuple[str, bool]] = []
    real = persistence.atomic_write

    def spy(path: Path, data: bytes, *, fsync: bool = True) -> None:
        writes.append((path.name, fsync))
        real(path, data, fsync=fsync)

    monkeypatch.setattr(persistence, "atomic_write", spy)
    monkeypatch.setattr(runner_state, "atomic_write", spy)
    return writes


def losing_round_trip(text: str, tmp_path: Path) -> Any:
    """A runner on config ``text`` through one losing long round trip (throttles with one loss)."""
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=config(text + "[throttle]\nmax_consecutive_losses = 1\n"))
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=3)] = None
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                        bar_at(t0 + dt.timedelta(minutes=2), 5999.5), bar_at(t0 + dt.timedelta(minutes=3), 5999.5)])
    return runner


def test_the_runner_fsyncs_both_state_files_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = spy_writes(monkeypatch)
    losing_round_trip("", tmp_path).close()
    assert {name for name, _ in writes} == {"learning_state.json", "runner_state.json"}
    assert all(fsync for _, fsync in writes)


def test_simulation_durability_reaches_both_state_writers_and_the_files_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = spy_writes(monkeypatch)
    runner = losing_round_trip('[durability]\nmode = "simulation"\n', tmp_path)
    assert runner.learning.fsync is False
    assert not runner.learning.allows_entry(runner.name)
    runner.close()
    assert {name for name, _ in writes} == {"learning_state.json", "runner_state.json"}
    assert not any(fsync for _, fsync in writes)
    learned = read_state_file(tmp_path / "state" / "learning_state.json")
    assert learned is not None and learned["strategies"]["scripted"]["throttle"]["state"] == "THROTTLED"
    assert read_runner_state(tmp_path / "state" / "runner_state.json") is not None


def test_atomic_write_without_fsync_never_fsyncs_and_replaces_the_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync"))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(f"replace {Path(a).parent == tmp_path}"), real_replace(a, b))[1])
    target = tmp_path / "f.json"
    target.write_bytes(b"old")
    persistence.atomic_write(target, b"new" * 10_000, fsync=False)
    assert calls == ["replace True"]  # a temp file beside it, renamed over it; no fsync at all
    assert target.read_bytes() == b"new" * 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_failed_write_without_fsync_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        persistence.atomic_write(target, b"new", fsync=False)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_simulations_save_state_without_fsync() -> None:
    assert SimSetup().build_config().durability.mode == "simulation"
