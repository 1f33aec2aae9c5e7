"""Simulations refuse bars with impossible prices, still advance the clock on them, and say how many."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statebot.app.simrun import SIM_DEFAULTS, SimSetup, run_setup, summary_table
from statebot.config.model import Config, from_data
from statebot.feeds import SyntheticBars

DAY = dt.date(2026, 11, 24)
NY = ZoneInfo("America/New_York")


def write_day(path: Path, spoil: dict[str, tuple[str, str]]) -> None:
    """One synthetic session as a start-labelled CSV; ``spoil[HH:MM bar start, New York] = (column, value)``."""
    lines = ["timestamp,open,high,low,close,volume"]
    for bar in SyntheticBars(start=DAY, end=DAY, seed=3):
        start = bar.end - dt.timedelta(minutes=1)
        row = {"open": str(bar.open), "high": str(bar.high), "low": str(bar.low), "close": str(bar.close)}
        column, value = spoil.get(start.astimezone(NY).strftime("%H:%M"), ("", ""))
        if column:
            row[column] = value
        lines.append(f"{start.isoformat()},{row['open']},{row['high']},{row['low']},{row['close']},{bar.volume}")
    path.write_text("\n".join(lines) + "\n")


def event_types(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize(("spoiled", "reason"), [(("high", "60000"), "price_jump"), (("high", "1e300"), "price_jump"),
                                                 (("low", "0.01"), "bad_price")])
def test_a_bar_with_an_impossible_price_is_refused_counted_and_never_traded(
        tmp_path: Path, spoiled: tuple[str, str], reason: str) -> None:
    bars = tmp_path / "bars.csv"
    write_day(bars, {"11:00": spoiled})
    report = run_setup(SimSetup(bars_csv=bars, event_log=tmp_path / "e.jsonl"), tmp_path)
    assert report.bars_rejected == 1 and report.rejected_reasons == {reason: 1}
    assert f"(1 rejected: {reason} 1)" in summary_table(report)
    events = event_types(tmp_path / "e.jsonl")
    (rejected,) = [e for e in events if e["type"] == "BAR_REJECTED"]
    assert rejected["payload"]["reason"] == reason  # type: ignore[index]
    prices = [float(str(e["payload"]["price"])) for e in events if e["type"] == "FILL"]  # type: ignore[index]
    assert all(1000 < p < 10000 for p in prices)
    assert report.slippage_ticks_mean is None or abs(report.slippage_ticks_mean) < 50


def test_a_refused_bar_at_the_flatten_time_still_starts_the_flatten_on_time(tmp_path: Path) -> None:
    """The bar ending 15:55 New York (the flatten) is refused: the clock still moves to its end."""
    bars = tmp_path / "bars.csv"
    write_day(bars, {"15:54": ("high", "60000")})
    report = run_setup(SimSetup(bars_csv=bars), tmp_path)
    assert report.rejected_reasons == {"price_jump": 1}
    assert [(s.flatten_at, s.late) for s in report.sessions] == [("15:55", False)]


def test_jumps_can_be_flagged_instead_of_refused_in_a_simulation(tmp_path: Path) -> None:
    bars = tmp_path / "bars.csv"
    write_day(bars, {"11:00": ("high", "60000")})
    config = from_data(Config, {**SIM_DEFAULTS, "bar_checks": {"on_jump": "flag"}})
    report = run_setup(SimSetup(bars_csv=bars, config=config), tmp_path)
    assert report.bars_rejected == 0 and report.bars_flagged == 1
    assert "(1 flagged)" in summary_table(report)
