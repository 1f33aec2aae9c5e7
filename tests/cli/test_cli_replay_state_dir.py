"""``statebot replay --state-dir``: the log must hold the head its checkpoint recorded."""

from __future__ import annotations

from pathlib import Path

from statebot.cli import main
from tests.runner_helpers import Scripted, bar_at, broker, et, long, make_runner


def a_day(tmp: Path) -> Path:
    sim = broker()
    runner = make_runner(tmp, Scripted(long()), sim)
    for minute in range(3):
        b = bar_at(et("2026-11-24", f"10:0{minute}"))
        sim.on_bar(b)
        runner.run_once(b)
    runner.close()
    return tmp / "events.jsonl"


def test_a_log_holding_its_checkpoints_head_verifies(tmp_path: Path) -> None:
    events = a_day(tmp_path)
    assert main(["replay", str(events), "--state-dir", str(tmp_path / "state")]) == 0


def test_a_log_whose_tail_was_cut_is_caught_with_the_checkpoint(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    events = a_day(tmp_path)
    lines = events.read_bytes().splitlines(keepends=True)
    events.write_bytes(b"".join(lines[:-2]))
    assert main(["replay", str(events)]) == 0  # the chain alone cannot see a cut tail
    capsys.readouterr()
    assert main(["replay", str(events), "--state-dir", str(tmp_path / "state")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the log was cut or replaced" in err
