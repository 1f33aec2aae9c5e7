"""A contract defined only in the config, on the calendar that fits it, simulates and reports correctly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from statebot.app.simrun import SimSetup, run_setup
from statebot.cli import main
from statebot.config.model import parse_config

CL_CONTRACT = """
[instrument.contracts.CL]
exchange = "NYMEX"
tick_size = "0.01"
multiplier = "1000"
calendar = "CME_GLOBEX_EQUITY"
fee_per_side = "2.10"

[sizing]
max_risk_per_trade = { default = "500" }
"""

def test_a_contract_defined_only_in_the_config_flattens_before_each_futures_close(tmp_path: Path) -> None:
    config = parse_config('[instrument]\nsymbol = "CL"\n' + CL_CONTRACT)
    report = run_setup(SimSetup(config=config, start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 25)), tmp_path)
    assert [s.session for s in report.sessions] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert {s.flatten_at for s in report.sessions} == {"15:55"}  # Chicago time: 5 minutes before the 16:00 CT halt
    assert report.late_flattens == 0 and report.flat_at_every_close and report.log_verifies
    assert report.trades > 0
    assert report.commission % Decimal("4.20") == 0  # its own fee, both sides of every contract
    assert report.gross_pnl % Decimal("10.00") == 0  # whole ticks of 0.01 x 1000


def test_sim_symbol_picks_a_contract_the_config_defines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cl.toml"
    f.write_text(CL_CONTRACT)
    code = main(["sim", "--config", str(f), "--symbol", "CL", "--start", "2026-11-24", "--end", "2026-11-24"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sma-cross on CL" in out and "2026-11-24     15:55  no    yes" in out


def test_the_cash_close_on_a_builtin_keeps_xnys_sessions(tmp_path: Path) -> None:
    config = parse_config('[instrument]\nsymbol = "ES"\n')
    report = run_setup(SimSetup(config=config, start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 27)), tmp_path)
    assert [(s.session, s.flatten_at) for s in report.sessions] == [("2026-11-25", "15:55"), ("2026-11-27", "12:55")]


def test_a_pandas_market_calendars_calendar_keeps_a_defined_contracts_sessions(tmp_path: Path) -> None:
    pytest.importorskip("pandas_market_calendars")
    config = parse_config('[instrument]\nsymbol = "CL"\n' + CL_CONTRACT.replace("CME_GLOBEX_EQUITY", "CMEGlobex_CL"))
    report = run_setup(SimSetup(config=config, start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 24)), tmp_path)
    assert [(s.session, s.flatten_at, s.late) for s in report.sessions] == [("2026-11-24", "15:55", False)]


def test_a_spec_given_in_code_to_the_runner_keeps_the_cash_close(tmp_path: Path) -> None:
    from statebot.core.instruments import InstrumentSpec
    from tests.runner_helpers import Scripted, broker, config, make_runner

    mcl = InstrumentSpec(symbol="MCL", tick_size="0.01", tick_value="1.00", multiplier="100")
    runner = make_runner(tmp_path, Scripted(), broker(instruments={"MCL": mcl}), cfg=config('[instrument]\nsymbol = "MCL"\n'),
                         instruments={"MCL": mcl})
    assert runner.instrument is mcl and runner.session.schedule.calendar.name == "XNYS"


def test_a_runner_keeps_the_cme_halt_when_its_instrument_flattens_before_the_futures_close(tmp_path: Path) -> None:
    from tests.runner_helpers import Scripted, broker, config, make_runner

    runner = make_runner(tmp_path, Scripted(), broker(), cfg=config('[instrument]\nflatten_before = "futures_close"\n'))
    assert runner.session.schedule.calendar.name == "CME_GLOBEX_EQUITY"
