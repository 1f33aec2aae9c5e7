"""Bars in: the repo's sample file, `statebot bars synthetic`, and vendor layouts (split date/time, a timestamp format)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.feeds.csv import read_bars_csv

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"


def _summary(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The summary without its title line (which names the data)."""
    return capsys.readouterr().out.splitlines()[1:]


def test_the_sample_file_is_what_bars_synthetic_writes_with_its_defaults(tmp_path: Path) -> None:
    out = tmp_path / "bars.csv"
    assert main(["bars", "synthetic", "--out", str(out)]) == 0
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_the_sample_file_simulates_like_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim"]) == 0
    demo = _summary(capsys)
    assert main(["sim", "--bars", str(SAMPLE)]) == 0
    assert _summary(capsys) == demo


def test_bars_synthetic_writes_the_bars_sim_generates_for_the_same_settings(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "week.csv"
    settings = ["--start", "2026-03-02", "--end", "2026-03-04", "--seed", "3", "--bar-size", "5m"]
    assert main(["bars", "synthetic", *settings, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sim", *settings]) == 0
    generated = _summary(capsys)
    assert main(["sim", "--bars", str(out)]) == 0
    assert _summary(capsys) == generated


def test_bars_synthetic_to_stdout_has_the_header_and_exchange_time_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bars", "synthetic", "--start", "2026-11-27", "--end", "2026-11-27"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "timestamp,open,high,low,close,volume"
    assert lines[1].startswith("2026-11-27T09:30:00-05:00,") and lines[-1].startswith("2026-11-27T12:59:00-05:00,")
    assert len(lines) == 1 + 210  # the 13:00 early close


def test_a_bar_size_that_does_not_fit_the_sessions_is_one_line_and_exit_2(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bars", "synthetic", "--bar-size", "7m", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--bar-size 7m does not fit" in err
    assert list(tmp_path.iterdir()) == []


def _vendor_copy(target: Path) -> None:
    """The sample as a vendor writes it: split Date,Time columns, US dates, exchange time without offset."""
    rows = SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    out = ["Date,Time,Open,High,Low,Close,Volume"]
    for row in rows:
        stamp, rest = row.split(",", 1)
        t = dt.datetime.fromisoformat(stamp)
        out.append(f"{t:%m/%d/%Y},{t:%H:%M},{rest}")
    target.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_a_vendor_layout_reads_to_the_same_bars(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    vendor = tmp_path / "vendor.csv"
    _vendor_copy(vendor)
    read = list(read_bars_csv(vendor, tz=ZoneInfo("America/New_York"), timestamp_format="%m/%d/%Y %H:%M"))
    assert read == list(read_bars_csv(SAMPLE))


def test_sim_reads_a_vendor_layout_with_tz_and_timestamp_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vendor = tmp_path / "vendor.csv"
    _vendor_copy(vendor)
    assert main(["sim", "--bars", str(SAMPLE)]) == 0
    iso = _summary(capsys)
    assert main(["sim", "--bars", str(vendor), "--tz", "America/New_York", "--timestamp-format", "%m/%d/%Y %H:%M"]) == 0
    assert _summary(capsys) == iso


def test_a_timestamp_not_in_the_format_names_the_line_and_the_format(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    vendor = tmp_path / "vendor.csv"
    _vendor_copy(vendor)
    assert main(["sim", "--bars", str(vendor), "--tz", "America/New_York"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 2" in err and "--timestamp-format" in err
    assert main(["sim", "--bars", str(vendor), "--tz", "America/New_York", "--timestamp-format", "%Y-%m-%d %H:%M"]) == 2
    assert "does not match the timestamp format '%Y-%m-%d %H:%M'" in capsys.readouterr().err


def test_tz_on_the_command_line_applies_to_a_scenarios_bars_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vendor = tmp_path / "vendor.csv"
    _vendor_copy(vendor)
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[sim]\nbars = "vendor.csv"\ntimestamp_format = "%m/%d/%Y %H:%M"\n')
    assert main(["sim", str(scenario), "--tz", "America/New_York"]) == 0
    assert main(["sim", str(scenario)]) == 2  # naive timestamps need a zone
    assert "--tz" in capsys.readouterr().err


def _readme_line(containing: str) -> list[list[str]]:
    import shlex

    line = next(x for x in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if containing in x)
    return [shlex.split(part.split("#")[0]) for part in line.split("&&")]


def test_the_readme_sample_data_line_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (command,) = _readme_line("--bars data/sample-mes-1m.csv")
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out.json"
    assert main([a if a != "out.json" else str(out) for a in command[1:]]) == 0
    assert out.is_file()


def test_the_readme_new_strategy_line_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.chdir(tmp_path)
    try:
        for command in _readme_line("statebot new-strategy"):
            assert main(command[1:]) == 0
    finally:
        sys.modules.pop("my_idea", None)
