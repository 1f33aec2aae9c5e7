"""A CSV with weeks months apart: the summary names the sessions without data once."""

from __future__ import annotations

from pathlib import Path

from statebot.cli import main


def two_weeks_months_apart(tmp: Path) -> Path:
    first, second = tmp / "march.csv", tmp / "september.csv"
    assert main(["bars", "synthetic", "--start", "2026-03-02", "--end", "2026-03-06", "--out", str(first)]) == 0
    assert main(["bars", "synthetic", "--start", "2026-09-08", "--end", "2026-09-11", "--out", str(second),
                 "--start-price", "6100"]) == 0
    both = tmp / "gap.csv"
    rows = second.read_text().splitlines()[1:]  # the header once
    both.write_text(first.read_text().rstrip("\n") + "\n" + "\n".join(rows) + "\n")
    return both


def test_the_summary_names_the_sessions_without_data_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bars = two_weeks_months_apart(tmp_path)
    capsys.readouterr()
    assert main(["sim", "--bars", str(bars), "--tz", "America/New_York", "--report", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "sessions without data" in out and "(2026-03-09 .. 2026-09-04)" in out
    assert out.count("no session (holiday)") < 5  # not one line per weekday of the gap
    assert "LATE" not in out
