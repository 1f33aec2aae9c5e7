"""Each point is a full, deterministic simulation; the journal makes a sweep resumable and safe to stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statebot.app.sweep import load_sweep, run_sweep
from statebot.errors import ConfigError
from statebot.journal.log import iter_events
from tests.app.sweep_helpers import write_sweep


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """The tiny 2 x 2 x 1-seed sweep run in this process: the reference the other ways of running must match."""
    folder = tmp_path_factory.mktemp("serial")
    run = run_sweep(load_sweep(write_sweep(folder)), folder / "out")
    return folder, [r.outcome() for r in run.results]


def test_every_point_runs_the_real_runner_and_records_its_log_head(serial: tuple[Path, list[dict[str, object]]]) -> None:
    folder, outcomes = serial
    assert len(outcomes) == 4 and all(o["status"] == "ok" and o["log_verifies"] for o in outcomes)
    for outcome in outcomes:
        events = [event for _, event in iter_events(folder / "out" / "logs" / str(outcome["id"]) / "events.jsonl")]
        assert outcome["log_hash"] == events[-1].hash
        assert outcome["trades"] == sum(1 for e in events if e.type == "TRADE_CLOSED")


def test_local_processes_give_the_same_results_point_for_point(serial: tuple[Path, list[dict[str, object]]],
                                                               tmp_path: Path) -> None:
    folder, outcomes = serial
    run = run_sweep(load_sweep(folder / "tiny.toml"), tmp_path / "out", jobs=2, chunk=1)
    assert [r.outcome() for r in run.results] == outcomes


def test_a_rerun_skips_the_finished_points(serial: tuple[Path, list[dict[str, object]]]) -> None:
    folder, outcomes = serial
    run = run_sweep(load_sweep(folder / "tiny.toml"), folder / "out")
    assert (run.ran, run.skipped) == (0, 4)
    assert [r.outcome() for r in run.results] == outcomes


def test_a_stopped_sweep_leaves_a_whole_journal_and_resumes_to_the_same_results(
        serial: tuple[Path, list[dict[str, object]]], tmp_path: Path) -> None:
    folder, outcomes = serial
    spec = load_sweep(folder / "tiny.toml")
    calls = []

    def stop_after_one() -> bool:
        calls.append(1)
        return len(calls) > 1

    first = run_sweep(spec, tmp_path / "out", stop=stop_after_one)
    assert first.stopped and len(first.results) == 1
    lines = (tmp_path / "out" / "sweep.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    second = run_sweep(spec, tmp_path / "out", jobs=2)
    assert (second.ran, second.skipped, second.stopped) == (3, 1, False)
    assert [r.outcome() for r in second.results] == outcomes


def test_a_torn_last_line_is_cut_off_and_its_point_runs_again(serial: tuple[Path, list[dict[str, object]]],
                                                              tmp_path: Path) -> None:
    folder, outcomes = serial
    spec = load_sweep(folder / "tiny.toml")
    run_sweep(spec, tmp_path / "out", stop=iter([False, True]).__next__)
    journal = tmp_path / "out" / "sweep.jsonl"
    with open(journal, "ab") as f:
        f.write(b'{"key": "half a li')
    again = run_sweep(spec, tmp_path / "out")
    assert again.cut_bytes == len(b'{"key": "half a li') and again.ran == 3
    assert [r.outcome() for r in again.results] == outcomes
    assert all(json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines())


def test_a_journal_of_another_sweep_base_is_refused(serial: tuple[Path, list[dict[str, object]]], tmp_path: Path) -> None:
    folder, _ = serial
    run_sweep(load_sweep(folder / "tiny.toml"), tmp_path / "out", stop=iter([False, True]).__next__)
    other = write_sweep(tmp_path, name="other.toml")
    other.write_text(other.read_text(encoding="utf-8").replace("seed = 1", "seed = 1\ndaily_vol = 0.02"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"written for another sweep base.*--fresh"):
        run_sweep(load_sweep(other), tmp_path / "out")
    assert run_sweep(load_sweep(other), tmp_path / "out", fresh=True, stop=iter([False, True]).__next__).ran == 1


def test_a_failed_point_is_reported_with_its_error_and_the_others_run(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, fast="[5, 25]"))
    run = run_sweep(spec, tmp_path / "out")
    assert [r.status for r in run.results] == ["ok", "ok", "failed", "ok"]
    assert run.failed[0].error == ("ConfigError: strategy 'sma-cross': bad parameters {'fast': 25, 'slow': 20} "
                                    "(sma-cross fast 25 must be less than slow 20)")
    assert run.failed[0].params == {"fast": 25, "slow": 20}


def test_a_failed_point_is_tried_again_by_a_rerun(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, fast="[25]"))
    run_sweep(spec, tmp_path / "out")
    again = run_sweep(spec, tmp_path / "out")
    assert (again.ran, again.skipped) == (1, 1)


def test_a_point_starts_from_an_empty_folder_whatever_an_earlier_attempt_left(
        serial: tuple[Path, list[dict[str, object]]], tmp_path: Path) -> None:
    folder, outcomes = serial
    spec = load_sweep(folder / "tiny.toml")
    first = spec.points()[0]
    leftover = tmp_path / "out" / "logs" / first.id
    leftover.mkdir(parents=True)
    (leftover / "events.jsonl").write_text("not a log\n", encoding="utf-8")
    run = run_sweep(spec, tmp_path / "out", stop=iter([False, True]).__next__)
    assert run.results[0].outcome() == outcomes[0]


def test_a_dead_worker_process_fails_the_points_it_took_down_and_the_sweep_returns(tmp_path: Path) -> None:
    path = tmp_path / "exit.toml"
    path.write_text('[sim]\nstart = 2026-11-23\nend = 2026-11-23\nstrategy = "tests.app.sweep_helpers:ExitingStrategy"\n'
                    '[sweep]\n[sweep.params]\nexit_now = [true, false]\nn = [1, 2, 3]\n', encoding="utf-8")
    run = run_sweep(load_sweep(path), tmp_path / "out", jobs=2, chunk=1)
    assert len(run.results) == 6 and not run.stopped
    assert run.results[0].status == "failed" and run.results[0].error.startswith("BrokenProcessPool")
    assert all(r.error.startswith("BrokenProcessPool") for r in run.failed)
