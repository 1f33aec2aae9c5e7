"""Restart from the event log: the log is the single source of truth, the checkpoint its cache.

Each test is a repro of a fail-open or inconsistent restart of the two-file design: a
deleted state file re-armed a tripped kill switch or un-throttled a strategy, a log reused
with a new state folder let time go backwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from statebot import replay
from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, events, long, make_runner, short

DAY = "2026-11-24"


def trip_on_rejects(tmp: Path):  # type: ignore[no-untyped-def]
    """A runner whose kill switch tripped on consecutive rejects (3 by default), then closed."""
    sim = broker()
    runner = make_runner(tmp, Scripted(long()), sim)
    sim.reject_next(10)
    drive(runner, sim, [bar_at(et(DAY, f"10:0{i}")) for i in range(5)])
    assert runner.killswitch_state == "TRIPPED"
    runner.close()
    return sim


@pytest.mark.invariant("a tripped kill switch stays tripped when the checkpoint is lost: the log says so", machine="killswitch")
def test_a_deleted_checkpoint_keeps_a_tripped_kill_switch_tripped(tmp_path: Path) -> None:
    sim = trip_on_rejects(tmp_path)
    (tmp_path / "state" / "checkpoint.json").unlink()
    again = make_runner(tmp_path, Scripted(long()), sim)
    assert again.killswitch_state == "TRIPPED"
    assert again.killswitch.trips[0].reason == "consecutive_rejects"
    ((_, d),) = drive(again, sim, [bar_at(et(DAY, "10:30"))])
    assert d.reason == "kill_switch"
    assert events(tmp_path, "STATE_RESTORED")[-1]["payload"]["from"] == "log"
    again.close()


@pytest.mark.invariant("a throttled strategy stays throttled when the checkpoint is lost: the log says so", machine="throttle")
def test_a_deleted_checkpoint_keeps_a_throttled_strategy_throttled(tmp_path: Path) -> None:
    cfg = config("[throttle]\nmax_consecutive_losses = 1\n")
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    strat.want = short()  # a reversal at the same price: the round trip loses its commission
    drive(runner, sim, [bar_at(et(DAY, "10:02")), bar_at(et(DAY, "10:03"))])
    assert runner.throttle_state == "THROTTLED"
    learned = runner.learning.export_to_dict()
    runner.close()
    (tmp_path / "state" / "checkpoint.json").unlink()
    again = make_runner(tmp_path, Scripted(long()), sim, cfg=cfg)
    assert again.throttle_state == "THROTTLED"
    assert again.learning.export_to_dict() == learned  # metrics and the cooldown, not only the state
    again.close()


def test_a_log_reused_with_a_new_state_folder_continues_from_the_log(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    held = runner.position_qty
    runner.close()
    again = make_runner(tmp_path, Scripted(), sim, state_dir=tmp_path / "another-state")
    assert again.restored_from == "log"
    assert again.position_qty == held
    ((_, d),) = drive(again, sim, [bar_at(et(DAY, "09:45"))])  # before the log's last time
    assert d.reason == "bar_rejected"
    again.close()
    result = replay(tmp_path / "events.jsonl")
    assert not [a for a in result.anomalies if "before the previous" in a.message]


def test_a_restart_logs_what_it_loaded(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, [bar_at(et(DAY, "10:00"))])
    runner.close()
    head = runner.events.head
    again = make_runner(tmp_path, Scripted(), sim)
    drive(again, sim, [bar_at(et(DAY, "10:01"))])
    again.close()
    first, second = events(tmp_path, "STATE_RESTORED")
    assert first["payload"]["from"] == "none" and first["payload"]["equity"] == "10000"
    assert second["payload"]["from"] == "checkpoint"
    assert second["payload"]["head"] == {"seq": head.seq, "hash": head.hash}
    assert second["payload"]["run"] == 2


@pytest.mark.invariant("a restart after a crash equals the fold of the log (checkpoint + tail)", machine="runner")
def test_a_crash_between_a_trade_and_the_checkpoint_restarts_to_the_fold(tmp_path: Path) -> None:
    cfg = config("[throttle]\nmax_consecutive_losses = 1\n[durability]\nmode = \"simulation\"\n")
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    strat.want = short()
    drive(runner, sim, [bar_at(et(DAY, "10:02")), bar_at(et(DAY, "10:03"))])
    live = runner.bot_state().view()
    # the process dies: the log holds every event, no checkpoint was written since the start
    runner.abandon()
    again = make_runner(tmp_path, Scripted(), sim, cfg=cfg)
    assert again.bot_state().view() == live
    assert again.throttle_state == "THROTTLED"
    assert again.fold_anomalies == ()
    again.close()


def test_the_fold_of_a_log_names_an_event_that_contradicts_it(tmp_path: Path) -> None:
    trip_on_rejects(tmp_path)
    runner = make_runner(tmp_path, Scripted(), broker())
    state = runner.fresh_state()
    runner.close()
    fold = Fold(state)
    evs = list(iter_events(tmp_path / "events.jsonl"))
    line, trip = next((n, e) for n, e in evs if e.type == "KILL_SWITCH")
    forged = trip.__class__.make(seq=trip.seq, ts=trip.ts, type=trip.type, config_hash=trip.config_hash,
                                 prev_hash=trip.prev_hash, payload={**trip.payload, "from": "TRIPPED"})
    fold.apply_all([(n, forged if n == line else e) for n, e in evs])
    assert [a.line for a in fold.anomalies] == [line]
