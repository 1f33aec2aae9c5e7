"""``orb`` trades with the defaults it ships with, inside statebot's default risk limits.

The opening range of the demo data and of the sample CSV is 124 to 220 ticks wide: a stop at
the range's far side is wider than ``[sizing] max_stop_ticks`` (12 by default), and sizing
refused every entry (``stop_ticks_above_max``). orb caps its stop at its own
``max_stop_ticks`` (12) instead; statebot's risk defaults stay as they are.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.app.simrun import SimSetup, run_setup
from statebot.cli import main
from statebot.config.model import Config
from statebot.journal.log import ORDER_SUBMITTED, iter_events

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"


def entry_stops(log: Path) -> list[int]:
    """The ``stop_ticks`` of every entry order the log records."""
    return [int(e.payload["stop_ticks"]) for _, e in iter_events(log)
            if e.type == ORDER_SUBMITTED and e.payload.get("purpose") == "entry"]


@pytest.mark.parametrize("bars_csv", [None, SAMPLE], ids=["demo-data", "sample-csv"])
def test_orb_with_its_defaults_trades_within_the_default_max_stop(bars_csv: Path | None, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    report = run_setup(SimSetup(strategy="orb", bars_csv=bars_csv, event_log=log), tmp_path)
    assert report.trades >= 3, report.skips  # one breakout a session, four sessions
    assert "stop_ticks_above_max" not in report.skips
    stops = entry_stops(log)
    assert len(stops) >= report.trades
    assert all(1 <= s <= Config().sizing.max_stop_ticks for s in stops), stops


def test_the_dry_run_with_run_s_default_strategy_trades_on_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "events.jsonl"
    # no --strategy: statebot run's default, orb, with its default parameters
    assert main(["run", "--adapter", "sim", "--bars", str(SAMPLE), "--events", str(log)]) == 0
    out = capsys.readouterr().out
    assert "(orb on MES)" in out
    trades = next(line for line in out.splitlines() if line.startswith("trades "))
    assert int(trades.split()[1]) >= 3, out
    stops = entry_stops(log)
    assert stops and all(s <= Config().sizing.max_stop_ticks for s in stops), stops


def test_the_orb_cap_can_be_lifted_and_sizing_then_refuses_the_wide_stops(tmp_path: Path) -> None:
    """The cap is orb's own parameter: without it the far-side stop is back, and the risk limit refuses it."""
    report = run_setup(SimSetup(strategy="orb", strategy_params={"max_stop_ticks": None}, start=dt.date(2026, 11, 23),
                                end=dt.date(2026, 11, 24)), tmp_path)
    assert report.trades == 0 and report.skips.get("stop_ticks_above_max", 0) >= 1
