"""SIGKILL the runner at random moments: the log keeps everything acknowledged, and a restart
equals the fold of the log.

Each trial runs ``tests/runner_crash_driver.py`` (a deterministic week of bars, live
durability) in a fresh folder and SIGKILLs it at a random moment. The driver prints
``ACK n seq`` only after bar n was handled. Then:

- the log verifies (a line torn by the kill is moved aside on reopening, recorded);
- the log holds every acknowledged event: it reaches the acknowledged head, and the fold of
  the log up to that head equals the uninterrupted run's state after bar n;
- a restarted runner on the folder holds exactly the fold of the whole log (checkpoint + tail
  or the log alone), with no anomaly.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from tests import runner_crash_driver as driver
from tests.processes import sigkill_after_ready

KILL_WINDOW_S = 1.0


def run_trial(folder: Path, seed: int, delay: float) -> tuple[int, int, bool]:
    """Start the driver, kill it ``delay`` s after READY; return (last ACK bar, its seq, finished)."""
    words = sigkill_after_ready("tests.runner_crash_driver", str(folder), str(seed), delay=delay)
    acks = [(int(words[i + 1]), int(words[i + 2])) for i, w in enumerate(words) if w == "ACK"]
    last = acks[-1] if acks else (-1, 0)
    return last[0], last[1], "DONE" in words


def check(folder: Path, seed: int, bar: int, seq: int, expected: list) -> None:  # type: ignore[type-arg]
    venue = driver.broker(seed)
    again = driver.open_runner(folder, venue)  # reopening moves a torn tail aside
    try:
        assert again.events.head.seq >= seq, f"seed {seed}: acknowledged seq {seq}, the log ends at {again.events.head.seq}"
        assert again.fold_anomalies == ()
        prefix = [(n, e) for n, e in iter_events(again.events.path) if e.seq <= seq]
        state = again.fresh_state()
        Fold(state).apply_all(prefix)
        if bar >= 0:
            assert expected[bar][0] == seq, f"seed {seed}: bar {bar} ended at seq {expected[bar][0]}, acknowledged {seq}"
            assert state.view() == expected[bar][1], f"seed {seed}: the log up to bar {bar} folds to another state"
        whole = again.fresh_state()
        Fold(whole).apply_all(iter_events(again.events.path))
        if whole.events:  # an empty log (killed before the first bar's events) holds no equity yet
            assert again.bot_state().view() == whole.view(), f"seed {seed}: the restarted runner differs from the fold"
    finally:
        again.close()


def crash_trials(tmp_path: Path, trials: int, rng: random.Random) -> None:
    expected: dict[int, list] = {}  # type: ignore[type-arg]
    acked = []
    for i in range(trials):
        seed = rng.choice([1, 2, 3])
        if seed not in expected:
            expected[seed] = driver.views(tmp_path / f"uninterrupted-{seed}", seed)
        folder = tmp_path / f"trial{i}"
        bar, seq, done = run_trial(folder, seed, rng.uniform(0.0, KILL_WINDOW_S))
        assert not done, "the driver finished before the kill: lengthen its run"
        acked.append(bar)
        check(folder, seed, bar, seq, expected[seed])
    assert sum(bar > 0 for bar in acked) >= trials // 2, f"kills came too early to test much: {acked}"


@pytest.mark.invariant("after a SIGKILL at any moment the log holds every acknowledged step and a restart equals its fold",
                       machine="runner")
def test_sigkill_of_the_runner_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    crash_trials(tmp_path, 12, random.Random())


@pytest.mark.slow
@pytest.mark.timeout(3600)  # about 2.5 s a kill: the driver's start, the kill window, the restart and two folds
def test_sigkill_of_the_runner_500_times(tmp_path: Path) -> None:
    crash_trials(tmp_path, 500, random.Random())
