"""Every scenario in sims/ runs and its expectations hold; failed expectations exit 1; Monte Carlo merges."""

from __future__ import annotations

from pathlib import Path

import pytest

from statebot.cli import main
from statebot.app.simrun import (
    SimReport,
    check_expectations,
    load_scenario,
    run_seeds,
    seed_setup,
)

SIMS = Path(__file__).resolve().parents[2] / "sims"
SCENARIOS = sorted(p for p in SIMS.glob("*.toml"))
QUICK = [p for p in SCENARIOS if load_scenario(p).seeds and len(load_scenario(p).seeds) == 1]


def test_sims_folder_holds_the_issue_scenarios() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"thanksgiving-week", "dst-spring-2026", "dst-fall-2026", "data-outage-over-close", "broker-rejects-flatten",
            "throttle-cycle-with-restart", "monte-carlo", "bot-dies-with-open-position"} <= names


@pytest.mark.invariant("every scenario in sims/ meets its stated expectations (flat at each close, no late flatten, ...)",
                       machine="session")
@pytest.mark.parametrize("path", QUICK, ids=[p.stem for p in QUICK])
def test_scenario_expectations_hold(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", str(path)]) == 0, capsys.readouterr().err


def test_monte_carlo_holds_for_a_few_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", str(SIMS / "monte-carlo.toml"), "--seeds", "3"]) == 0, capsys.readouterr().err


@pytest.mark.slow
def test_monte_carlo_holds_for_200_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", str(SIMS / "monte-carlo.toml"), "--seeds", "200", "--jobs", "2"]) == 0, capsys.readouterr().err


def test_a_failed_expectation_exits_1_with_one_line_per_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "impossible.toml"
    scenario.write_text('[sim]\nend = 2026-11-24\n[expect]\nkill_switch_trips_min = 1\ntrades_min = 100000\n')
    assert main(["sim", str(scenario)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    err = [line for line in lines if "expectation failed" in line]
    assert len(err) == 2 and all(line.startswith("statebot sim: refused ") for line in lines if line not in err)
    assert "kill switch tripped 0 time(s)" in err[0] and "expected at least 100000" in err[1]


def test_an_unknown_expectation_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "typo.toml"
    scenario.write_text("[expect]\nflat_at_evry_close = true\n")
    assert main(["sim", str(scenario)]) == 2
    assert "flat_at_evry_close" in capsys.readouterr().err


def test_the_restart_scenario_goes_through_probation_back_to_active() -> None:
    scenario = load_scenario(SIMS / "throttle-cycle-with-restart.toml")
    assert scenario.setup.restart_after_bars == (700,)
    assert check_expectations(_run(scenario), scenario.expect) == []


def _run(scenario) -> SimReport:  # type: ignore[no-untyped-def]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return run_seeds([seed_setup(scenario, scenario.seeds[0])], tmp)[0]


def test_parallel_monte_carlo_equals_the_serial_run(tmp_path: Path) -> None:
    """Invariant: each seed's run depends only on its setup, so N seeds across processes,
    merged in seed order, give exactly the serial result."""
    scenario = load_scenario(SIMS / "monte-carlo.toml")
    setups = [seed_setup(scenario, s) for s in scenario.seeds[:4]]
    serial = run_seeds(setups, tmp_path / "serial", jobs=1)
    parallel = run_seeds(setups, tmp_path / "parallel", jobs=2)
    assert [r.seed for r in parallel] == [s.seed for s in setups]
    assert [r.as_dict(detail=True) for r in parallel] == [r.as_dict(detail=True) for r in serial]


def test_random_faults_are_drawn_from_the_seed() -> None:
    scenario = load_scenario(SIMS / "monte-carlo.toml")
    assert seed_setup(scenario, 5).faults == seed_setup(scenario, 5).faults
    assert seed_setup(scenario, 5).faults != seed_setup(scenario, 6).faults


def test_a_bot_killed_holding_a_position_is_closed_by_its_venue_stop_while_down() -> None:
    scenario = load_scenario(SIMS / "bot-dies-with-open-position.toml")
    assert (scenario.setup.kill_after_bars, scenario.setup.down_bars) == (75, 45)
    report = _run(scenario)
    assert report.killed_holding == 1 and [oid.endswith("-stop") for oid in report.fills_while_down] == [True]
    assert check_expectations(report, scenario.expect) == []
