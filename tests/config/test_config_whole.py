"""``config check`` judges the whole config as the runner will use it, not each key alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statebot.cli import main
from statebot.config.model import load_config, parse_config
from statebot.errors import ConfigError, StatebotError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sizing.max_risk_per_trade]\nA = 15\n",
         "sizing.max_risk_per_trade: no 'default' tier, which a signal uses unless it names one (tiers: A)"),
        ('[kill_switch]\nflatten_backoff_first = "30s"\nflatten_backoff_cap = "10s"\n',
         "kill_switch.flatten_backoff_cap: 10s is below kill_switch.flatten_backoff_first 30s"),
        ('[calendar]\nflatten_lead = "0m"\n', "calendar.flatten_lead: must be a positive duration"),
        ('[calendar]\nflatten_lead = "7h"\n', "calendar.flatten_lead: 7h is at least as long as a whole XNYS session (3h30m, "
                                                 "the shortest in the past year)"),
        ('[calendar]\nflatten_lead = "4h"\n', "calendar.flatten_lead: 4h is at least as long as a whole XNYS session"),
        ('[calendar]\nentry_cutoff = "6h30m"\n', "calendar.entry_cutoff: 6h30m is at least as long as a whole XNYS session"),
    ],
)
def test_a_config_the_runner_cannot_trade_with_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(text)
    assert message in str(refused.value)


def test_config_check_refuses_it_in_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("[sizing.max_risk_per_trade]\nA = 15\n")
    assert main(["config", "check", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sizing.max_risk_per_trade" in err


def test_sim_refuses_such_a_config_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("[sizing.max_risk_per_trade]\nA = 15\n")
    assert main(["sim", "--config", str(cfg)]) == 2
    assert capsys.readouterr().out == ""


def test_a_scenario_config_table_is_checked_as_a_whole_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[config.kill_switch]\nflatten_backoff_first = "30s"\nflatten_backoff_cap = "10s"\n')
    assert main(["sim", str(scenario)]) == 2
    assert "kill_switch.flatten_backoff_cap" in capsys.readouterr().err


def test_a_lead_shorter_than_any_session_and_a_default_tier_pass(tmp_path: Path) -> None:
    config = parse_config('[calendar]\nflatten_lead = "15m"\nentry_cutoff = "1h"\n[sizing.max_risk_per_trade]\ndefault = 20\nA = 30\n')
    assert config.sizing.max_risk_per_trade["default"] == 20


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.lists(st.sampled_from(["[calendar]", "[sizing.max_risk_per_trade]", "[kill_switch]", "[sizing]", "[event_log]",
                              'flatten_lead = "0m"', 'flatten_lead = "99999999999d"', "default = 1e400", "A = nan",
                              'name = "XNYS"', 'name = ""', "max_contracts = 0", 'flatten_backoff_cap = "1s"',
                              "fsync = 3", "x = [1, {a = 2}]", 'entry_cutoff = "-5m"', "= broken", "\x00"]), max_size=12)
    .map(lambda lines: "\n".join(lines).encode()),
))
def test_any_bytes_give_a_config_or_one_statebot_error(tmp_path: Path, data: bytes) -> None:
    """Whatever the file holds, loading it yields a ``Config`` or raises one ``StatebotError``; never another exception."""
    cfg = tmp_path / "fuzz.toml"
    cfg.write_bytes(data)
    try:
        load_config(cfg)
    except StatebotError:
        pass
