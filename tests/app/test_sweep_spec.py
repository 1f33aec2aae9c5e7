"""A sweep file becomes points: grids and random samples over parameters and config keys, x periods x seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.app.sweep import load_sweep
from statebot.errors import ConfigError
from tests.app.sweep_helpers import write_sweep


def test_a_grid_is_every_combination_times_periods_times_seeds_in_a_fixed_order(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, seeds="2"))
    points = spec.points()
    assert [(dict(p.params)["fast"], dict(p.params)["slow"], p.seed) for p in points] == [
        (5, 20, 1), (5, 20, 2), (5, 30, 1), (5, 30, 2), (10, 20, 1), (10, 20, 2), (10, 30, 1), (10, 30, 2)]
    assert len({p.id for p in points}) == 8
    assert [p.id for p in load_sweep(tmp_path / "tiny.toml").points()] == [p.id for p in points]


def test_periods_multiply_the_points_and_set_the_bars(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[sim]\nstart = 2026-11-23\nend = 2026-11-24\n[sweep]\n'
                    'periods = [{start = 2026-11-23, end = 2026-11-24}, {start = 2026-11-30, end = 2026-12-01}]\n'
                    '[sweep.params]\nfast = [5]\n', encoding="utf-8")
    spec = load_sweep(path)
    points = spec.points()
    assert [p.period for p in points] == ["2026-11-23..2026-11-24", "2026-11-30..2026-12-01"]
    setup = spec.setup(points[1])
    assert (setup.start, setup.end, setup.bars_csv) == (dt.date(2026, 11, 30), dt.date(2026, 12, 1), None)
    assert setup.strategy_params == {"fast": 5}


def test_bar_files_are_periods_read_relative_to_the_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("timestamp,open,high,low,close,volume\n", encoding="utf-8")
    path = tmp_path / "b.toml"
    path.write_text('[sweep]\nbars = ["a.csv"]\n[sweep.params]\nfast = [5]\n', encoding="utf-8")
    spec = load_sweep(path)
    assert spec.setup(spec.points()[0]).bars_csv == tmp_path / "a.csv"


def test_a_bar_file_that_changes_changes_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("timestamp,open,high,low,close,volume\n", encoding="utf-8")
    path = tmp_path / "b.toml"
    path.write_text('[sweep]\nbars = ["a.csv"]\n[sweep.params]\nfast = [5]\n', encoding="utf-8")
    before = load_sweep(path).fingerprint
    (tmp_path / "a.csv").write_text("timestamp,open,high,low,close,volume\n2026-11-23 09:30,1,1,1,1,1\n", encoding="utf-8")
    assert load_sweep(path).fingerprint != before


def test_a_range_with_a_step_includes_both_ends(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, fast="{min = 4, max = 12, step = 4}"))
    assert spec.dimensions[0].values == (4, 8, 12)


def test_config_keys_are_swept_by_their_dotted_name(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, extra='[sweep.config]\n"calendar.flatten_lead" = ["5m", "10m"]\n'))
    points = spec.points()
    assert len(points) == 8
    leads = [spec.setup(p).build_config().calendar.flatten_lead for p in points[:2]]
    assert leads == [dt.timedelta(minutes=5), dt.timedelta(minutes=10)]
    assert spec.setup(points[0]).build_config().durability.mode == "simulation"


def test_a_bad_config_value_is_refused_at_load_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sweep.config 'calendar.flatten_lead' = 'soon'.*invalid duration"):
        load_sweep(write_sweep(tmp_path, extra='[sweep.config]\n"calendar.flatten_lead" = ["5m", "soon"]\n'))


def test_an_unknown_config_key_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"calendar.flaten_lead: unknown key \(known: .*flatten_lead"):
        load_sweep(write_sweep(tmp_path, extra='[sweep.config]\n"calendar.flaten_lead" = ["5m"]\n'))


@pytest.mark.parametrize(("extra", "message"), [
    ("bogus = 1\n", r"unknown \[sweep\] key\(s\) bogus"),
    ('mode = "annealing"\n', r"sweep.mode 'annealing'"),
    ('mode = "random"\n', r"random mode needs samples"),
])
def test_a_bad_sweep_table_is_one_clear_error(tmp_path: Path, extra: str, message: str) -> None:
    text = write_sweep(tmp_path).read_text(encoding="utf-8").replace("[sweep]\n", "[sweep]\n" + extra)
    (tmp_path / "tiny.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_sweep(tmp_path / "tiny.toml")


def test_a_grid_range_without_a_step_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sweep.params.fast: a grid range needs a step"):
        load_sweep(write_sweep(tmp_path, fast="{min = 4, max = 12}"))


def test_a_file_without_a_sweep_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text("[sim]\nseed = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[sweep\] table"):
        load_sweep(tmp_path / "s.toml")


def test_a_random_sample_is_drawn_from_its_seed_within_the_ranges(tmp_path: Path) -> None:
    def sample(seed: int) -> list[tuple[object, ...]]:
        (tmp_path / "r.toml").write_text(
            f'[sweep]\nmode = "random"\nsamples = 6\nsample_seed = {seed}\n'
            '[sweep.params]\nfast = {min = 2, max = 9}\nslow = [20, 30, 40]\n', encoding="utf-8")
        return [tuple(dict(p.params).values()) for p in load_sweep(tmp_path / "r.toml").points()]

    first = sample(1)
    assert first == sample(1)
    assert first != sample(2)
    assert all(2 <= fast <= 9 and isinstance(fast, int) and slow in (20, 30, 40) for fast, slow in first)  # type: ignore[operator]
    assert len(set(first)) == len(first)


def test_the_example_in_docs_sweeps_md_loads(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "sweeps.md").read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.toml").write_text(example, encoding="utf-8")
    spec = load_sweep(tmp_path / "example.toml")
    assert len(spec.points()) == 3 * 3 * 2 * 2 * 2 * 3  # fast x slow x lead x contracts x periods x seeds


def test_the_shipped_month_sweep_is_the_documented_100_points() -> None:
    spec = load_sweep(Path(__file__).resolve().parents[2] / "sims" / "sweeps" / "sma-cross-month.toml")
    assert len(spec.points()) == 100 and {p.period for p in spec.points()} == {"2026-11-02..2026-11-27"}
