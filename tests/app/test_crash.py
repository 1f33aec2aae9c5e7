"""SIGKILL the learning state's writer at random moments; the state on disk must hold.

Each trial starts ``tests/crash_driver.py`` in a fresh folder, lets it feed
trades for a random time, kills it with SIGKILL and reloads the folder. The
driver prints ``ACK n`` only after step n returned, so everything up to step n
must be on disk; step n + 1 may or may not be. The same script replayed in
memory gives the exact state expected after each step. Each trial then resumes
from the disk with the unacknowledged steps, as a runner replaying fills would.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from statebot import DurableLearningLoop
from statebot.store.persistence import read_state_file
from tests import crash_driver
from tests.processes import sigkill_after_ready

STEPS = 3000  # more than any trial reaches before its kill
KILL_WINDOW_S = 0.25
RESUMED_STEPS = 20


def run_trial(folder: Path, seed: int, delay: float) -> tuple[int, bool]:
    """Start the driver, kill it ``delay`` seconds after READY; return (last ACK, finished)."""
    lines = sigkill_after_ready("tests.crash_driver", str(folder), str(seed), str(STEPS), delay=delay)
    acked = [int(n) for word, n in zip(lines, lines[1:]) if word == "ACK"]
    return (max(acked) if acked else -1), "DONE" in lines


def check_folder(folder: Path, seed: int, last_ack: int) -> None:
    plan = crash_driver.script(seed, STEPS)
    loaded = read_state_file(folder / "learning_state.json")  # raises StateCorrupt if torn
    acked_state = crash_driver.expected_after(plan, last_ack + 1)
    next_state = crash_driver.expected_after(plan, last_ack + 2)
    if loaded is None:
        assert last_ack == -1, f"seed {seed}: no state file although step {last_ack} (a trade) was acknowledged"
        return
    acked_trades = sum(1 for step in plan[: last_ack + 1] if step[0] == "trade")
    on_disk_trades = sum(s["metrics"]["trades"] for s in loaded["strategies"].values())
    assert on_disk_trades >= acked_trades, f"seed {seed}: {acked_trades} trades acknowledged, {on_disk_trades} on disk"
    for name, entry in acked_state["strategies"].items():
        state_on_disk = loaded["strategies"][name]["throttle"]["state"]
        allowed = {entry["throttle"]["state"], next_state["strategies"][name]["throttle"]["state"]}
        assert state_on_disk in allowed, f"seed {seed}: {name} is {state_on_disk} on disk, acknowledged {allowed}"
    assert loaded in (acked_state, next_state), f"seed {seed}: state on disk is neither after step {last_ack} nor the next"
    with DurableLearningLoop.open(folder, crash_driver.T0, rules=crash_driver.RULES, strategies=crash_driver.STRATEGIES) as again:
        assert again.startup_error is None
        assert not list(folder.glob(".*.tmp")), "a stale temp file survived the restart"
        # resume as a runner would: replay every step not acknowledged; a trade that did reach
        # the disk is recognised by its trade_id and not counted twice
        resume_to = last_ack + 1 + RESUMED_STEPS
        for step in plan[last_ack + 1 : resume_to]:
            crash_driver.apply(again, step)
        assert again.loop.export_to_dict() == crash_driver.expected_after(plan, resume_to), (
            f"seed {seed}: resuming after step {last_ack} did not reach the uninterrupted state"
        )


def crash_trials(tmp_path: Path, trials: int, rng: random.Random) -> None:
    finished = 0
    acks = []
    for i in range(trials):
        seed = rng.randrange(10**6)
        folder = tmp_path / f"trial{i}"
        last_ack, done = run_trial(folder, seed, rng.uniform(0, KILL_WINDOW_S))
        finished += done
        acks.append(last_ack)
        check_folder(folder, seed, last_ack)
    assert finished == 0, "some drivers finished before the kill: raise STEPS"
    assert max(acks) > 20, f"kills came too early to test much: {acks}"


@pytest.mark.invariant("the learning state file always loads after a SIGKILL at any moment (never torn)", machine="throttle")
@pytest.mark.invariant("a throttle transition acknowledged before a crash is in force after restart", machine="throttle")
@pytest.mark.invariant("no acknowledged trade is missing from the metrics after a crash", machine="throttle")
@pytest.mark.invariant("resuming after a crash and replaying unacknowledged trades counts none twice", machine="throttle")
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """50 SIGKILLs at random moments: the file loads, equals the state after the last
    acknowledged step or the one after it (which may have reached the disk before the kill),
    and resuming from it with the unacknowledged steps reaches the uninterrupted state."""
    crash_trials(tmp_path, 50, random.Random())


@pytest.mark.slow
def test_sigkill_many_more_times(tmp_path: Path) -> None:
    """500 SIGKILLs, same checks."""
    crash_trials(tmp_path, 500, random.Random())
