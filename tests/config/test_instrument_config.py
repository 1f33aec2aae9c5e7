"""[instrument]: a built-in contract or one defined in the file, the close it flattens before, its fees."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from statebot import ConfigError
from statebot.cli import main
from statebot.config.model import parse_config
from statebot.core.costs import FixedCommission, IBKRFuturesCommission

CL = """
[instrument]
symbol = "CL"

[instrument.contracts.CL]
exchange = "NYMEX"
tick_size = "0.01"
tick_value = "10.00"
calendar = "CME_GLOBEX_EQUITY"
roll_months = "zfgh"
fee_per_side = "2.10"
ib_trading_class = "CL"
"""


def config_with(contract: str, head: str = '[instrument]\nsymbol = "CL"\n') -> str:
    return f"{head}[instrument.contracts.CL]\n{contract}\n"


def test_a_contract_defined_in_the_file_becomes_an_instrument_spec() -> None:
    spec = parse_config(CL).instrument.spec()
    assert (spec.symbol, spec.exchange, spec.tick_size, spec.tick_value) == ("CL", "NYMEX", Decimal("0.01"), Decimal("10.00"))
    assert spec.multiplier == 1000 and spec.roll_months == "FGHZ" and spec.ib_trading_class == "CL"
    assert spec.flatten_before == "futures_close"


def test_the_multiplier_alone_gives_the_tick_value() -> None:
    text = config_with('tick_size = "0.25"\nmultiplier = "5"\ncalendar = "CME_GLOBEX_EQUITY"')
    assert parse_config(text).instrument.spec().tick_value == Decimal("1.25")


def test_an_inconsistent_tick_value_is_one_line_naming_the_key() -> None:
    text = config_with('tick_size = "0.01"\ntick_value = "1"\nmultiplier = "1000"\ncalendar = "CME_GLOBEX_EQUITY"')
    with pytest.raises(ConfigError, match=r"^instrument\.contracts\.CL\.tick_value: 1 is not tick_size x multiplier = 0\.01 x 1000 = 10\.00$"):
        parse_config(text).instrument.spec()


@pytest.mark.parametrize(("contract", "key"), [
    ('tick_value = "10"\ncalendar = "CME_GLOBEX_EQUITY"', "instrument.contracts.CL.tick_size: required"),
    ('tick_size = "0.01"\ncalendar = "CME_GLOBEX_EQUITY"', "instrument.contracts.CL.tick_value: required"),
    ('tick_size = "0.01"\ntick_value = "10"', "instrument.contracts.CL.calendar: required"),
    ('tick_size = "0.01"\ntick_value = "10"\ncalendar = "NOPE"', "instrument.contracts.CL.calendar: unknown calendar 'NOPE'"),
    ('tick_size = "-0.01"\ntick_value = "10"\ncalendar = "CMES"', "instrument.contracts.CL.tick_size: must be positive"),
    ('tick_size = "0.01"\ntick_value = "10"\ncalendar = "CMES"\nroll_months = "HQ1"', "instrument.contracts.CL.roll_months:"),
    ('tick_size = "0.01"\ntick_value = "10"\ncalendar = "CMES"\nticks = 1', "instrument.contracts.CL.ticks: unknown key"),
])
def test_a_bad_contract_is_refused_naming_the_key(contract: str, key: str) -> None:
    with pytest.raises(ConfigError, match="^" + key.replace(".", r"\.").replace("(", r"\(")):
        parse_config(config_with(contract)).instrument.spec()


def test_an_unknown_symbol_says_where_to_define_it() -> None:
    with pytest.raises(ConfigError, match=r"instrument\.symbol: unknown instrument 'GC'.*\[instrument\.contracts\.GC\]"):
        parse_config('[instrument]\nsymbol = "GC"\n').instrument.spec()


def test_builtins_flatten_before_the_cash_close_on_the_calendar_section() -> None:
    config = parse_config('[instrument]\nsymbol = "ES"\n')
    assert config.instrument.spec().flatten_before == "cash_close"
    assert config.instrument.session_calendar(config.calendar.name) == "XNYS"


def test_futures_close_keeps_the_contracts_own_calendar() -> None:
    config = parse_config('[instrument]\nsymbol = "MES"\nflatten_before = "futures_close"\n')
    assert config.instrument.spec().flatten_before == "futures_close"
    assert config.instrument.session_calendar(config.calendar.name) == "CME_GLOBEX_EQUITY"


def test_a_calendar_name_unused_by_the_futures_close_is_refused() -> None:
    config = parse_config('[calendar]\nname = "CMES"\n[instrument]\nsymbol = "MES"\nflatten_before = "futures_close"\n')
    with pytest.raises(ConfigError, match=r"^calendar\.name: 'CMES' is unused"):
        config.instrument.session_calendar(config.calendar.name)


def test_a_contracts_own_fee_replaces_the_commission_section() -> None:
    config = parse_config(CL)
    assert config.instrument.commission(config.commission) == FixedCommission(Decimal("2.10"))


def test_the_ibkr_schedule_covers_every_builtin() -> None:
    for symbol in ("ES", "MES", "NQ", "MNQ", "RTY", "M2K", "YM", "MYM"):
        config = parse_config(f'[instrument]\nsymbol = "{symbol}"\n[commission]\nmodel = "ibkr"\n')
        model = config.instrument.commission(config.commission)
        assert isinstance(model, IBKRFuturesCommission) and model.per_side(symbol, 1) > 0


def test_the_ibkr_model_without_a_schedule_for_the_contract_is_refused() -> None:
    text = config_with('tick_size = "0.01"\ntick_value = "10"\ncalendar = "CMES"',
                       head='[commission]\nmodel = "ibkr"\n[instrument]\nsymbol = "CL"\n')
    config = parse_config(text)
    with pytest.raises(ConfigError, match=r'^commission\.model: "ibkr" has no fee schedule for CL.*fee_per_side'):
        config.instrument.commission(config.commission)


def test_config_check_prints_the_contract_specification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cl.toml"
    f.write_text(CL)
    assert main(["config", "check", str(f)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "CL on NYMEX (USD): tick 0.01 = 10.00 USD, multiplier 1000"
    assert lines[2] == "  calendar CME_GLOBEX_EQUITY, flatten before the futures close"
    assert lines[4] == "  fees: 2.10 USD per contract per side"
    assert lines[5] == "  sessions: CME_GLOBEX_EQUITY, flatten 5m before each close"


def test_cmes_for_an_equity_index_contract_is_refused_its_flatten_would_land_in_the_halt() -> None:
    config = parse_config('[calendar]\nname = "CMES"\n[instrument]\nsymbol = "MES"\n')
    with pytest.raises(ConfigError, match=r"^calendar\.name: CMES closes at 17:00 CT, inside MES's 16:00-17:00 CT daily halt"):
        config.instrument.session_calendar(config.calendar.name)


def test_cmes_stays_available_for_a_contract_that_trades_until_1700_ct() -> None:
    text = config_with('tick_size = "0.01"\ntick_value = "10"\ncalendar = "CMES"\nflatten_before = "cash_close"',
                       head='[calendar]\nname = "CMES"\n[instrument]\nsymbol = "CL"\n')
    config = parse_config(text)
    assert config.instrument.session_calendar(config.calendar.name) == "CMES"


def test_a_derived_multiplier_prints_as_a_plain_number() -> None:
    spec = parse_config(CL).instrument.spec()
    assert spec.describe().splitlines()[0] == "CL on NYMEX (USD): tick 0.01 = 10.00 USD, multiplier 1000"
