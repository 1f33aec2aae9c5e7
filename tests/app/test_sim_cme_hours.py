"""The CME-hours scenario flattens before every halt that an independent calendar gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.app.simrun import load_scenario, run_seeds, seed_setup

SCENARIO = Path(__file__).resolve().parents[2] / "sims" / "cme-hours-thanksgiving.toml"


def test_every_flatten_is_five_minutes_before_pandas_market_calendars_cme_globex_equity_close(tmp_path: Path) -> None:
    mcal = pytest.importorskip("pandas_market_calendars")
    scenario = load_scenario(SCENARIO)
    (report,) = run_seeds([seed_setup(scenario, scenario.seeds[0])], tmp_path)
    ref = mcal.get_calendar("CME Globex Equity").schedule(start_date="2026-11-23", end_date="2026-11-27", tz="America/Chicago")
    expected = [(label.date().isoformat(), (close - dt.timedelta(minutes=5)).strftime("%H:%M"))
                for label, close in zip(ref.index, ref["market_close"])]
    assert [(s.session, s.flatten_at) for s in report.sessions] == expected
    assert all(not s.late and s.flat_at_close for s in report.sessions)
