"""The public crash-test controls: ``abandon()`` stops as a killed process would (no checkpoint,
the folder released, the appended events kept), ``has_pending`` says whether this run has logged
anything yet, and ``fresh_state()`` gives empty machines a fold of the log fills."""

from __future__ import annotations

from pathlib import Path

from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, long, make_runner

DAY = "2026-11-24"
SIM = config('[durability]\nmode = "simulation"\n')


def test_has_pending_until_the_first_clock_time(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(), sim, cfg=SIM)
    assert runner.has_pending
    drive(runner, sim, [bar_at(et(DAY, "10:00"))])
    assert not runner.has_pending
    runner.close()
    again = make_runner(tmp_path, Scripted(), sim, cfg=SIM)
    assert again.has_pending  # restarted: its STATE_RESTORED waits for its first clock time
    again.close()


def test_abandon_keeps_the_log_writes_no_checkpoint_and_releases_the_folder(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim, cfg=SIM)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    live = runner.bot_state().view()
    head = runner.events.head.seq
    runner.abandon()
    runner.abandon()  # idempotent
    runner.close()  # does nothing after abandon: no checkpoint
    assert not (tmp_path / "state" / "checkpoint.json").exists()
    assert [e.seq for _, e in iter_events(tmp_path / "events.jsonl")][-1] == head
    again = make_runner(tmp_path, Scripted(), sim, cfg=SIM)  # the folder is free again
    assert again.restored_from == "log"
    assert again.bot_state().view() == live
    state = again.fresh_state()
    Fold(state).apply_all(iter_events(tmp_path / "events.jsonl"))
    assert state.view() == live
    again.close()
