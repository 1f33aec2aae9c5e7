"""Configuration: one TOML file, validated, with errors that name the key path."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.errors import FileAccessError
from statebot.config.model import Config, config_hash, default_toml, load_config, parse_config
from statebot.core.costs import FixedCommission, IBKRFuturesCommission
from statebot.errors import ConfigError


def test_empty_file_is_all_defaults() -> None:
    c = parse_config("")
    assert c == Config()
    assert c.gates.dvs_threshold == Decimal("0.80") and c.gates.eqs_threshold == Decimal("0.75")
    assert c.sizing.equity_risk_fraction == Decimal("0.02") and c.sizing.max_stop_ticks == 12
    assert c.calendar.name == "XNYS" and c.calendar.flatten_lead == dt.timedelta(minutes=5)
    assert c.calendar.entry_cutoff is None


def test_values_are_read_exactly() -> None:
    c = parse_config(
        """
        [calendar]
        flatten_lead = "10m"
        entry_cutoff = "30m"
        [gates]
        dvs_threshold = 0.85
        eqs_threshold = "0.7"
        [sizing]
        max_contracts = 3
        [sizing.max_risk_per_trade]
        default = 10
        A = 15
        B = "7.50"
        [durability]
        mode = "simulation"
        """
    )
    assert c.gates.dvs_threshold == Decimal("0.85") and isinstance(c.gates.dvs_threshold, Decimal)
    assert c.calendar.entry_cutoff == dt.timedelta(minutes=30)
    assert c.sizing.max_risk_per_trade == {"default": Decimal("10"), "A": Decimal("15"), "B": Decimal("7.50")}
    assert c.sizing.max_risk_for("B") == Decimal("7.50")
    assert c.durability.mode == "simulation"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[gates]\ndvs_threshold = [1]", "gates.dvs_threshold: expected a decimal string or number, got list"),
        ("[gates]\ndvs_threshold = \"high\"", "gates.dvs_threshold: expected a decimal string or number, got string 'high'"),
        ("[gates]\ndvs_threshold = -0.1", "gates.dvs_threshold: must be between 0 and 1, got -0.1"),
        ("[gates]\neqs_treshold = 0.7", "gates.eqs_treshold: unknown key (known: dvs_threshold, eqs_threshold)"),
        ("[gatez]\nx = 1", "gatez: unknown key"),
        ("gates = 1", "gates: expected a table, got integer"),
        ("[sizing]\nmax_contracts = 2.5", "sizing.max_contracts: expected an integer, got number"),
        ("[sizing]\nmax_contracts = 0", "sizing.max_contracts: must be >= 1, got 0"),
        ("[sizing]\nmax_contracts = true", "sizing.max_contracts: expected an integer, got boolean"),
        ("[sizing.max_risk_per_trade]\nA = -5", "sizing.max_risk_per_trade: must not be negative, got -5"),
        ("[sizing.max_risk_per_trade]\nA = [1]", "sizing.max_risk_per_trade.A: expected a decimal string or number, got list"),
        ("[sizing]\nequity_risk_fraction = 0", "sizing.equity_risk_fraction: must be in (0, 1], got 0"),
        ("[calendar]\nflatten_lead = 5", 'calendar.flatten_lead: expected a duration string such as "5m", got integer'),
        ("[calendar]\nflatten_lead = \"5 minutes\"", "calendar.flatten_lead: invalid duration"),
        ("[calendar]\nname = \"NOPE\"", "calendar.name: unknown calendar 'NOPE'"),
        ("[commission]\nmodel = \"cheap\"", "commission.model: expected one of 'fixed', 'ibkr', got string 'cheap'"),
        ("[commission]\nper_contract_per_side = -1", "commission.per_contract_per_side: must not be negative"),
        ("[commission]\nmodel = \"ibkr\"\nper_contract_per_side = 2",
         'commission.per_contract_per_side: applies only to model = "fixed"'),
        ("[durability]\nmode = \"never\"", "durability.mode: expected one of 'live', 'simulation'"),
        ("[persistence]\nstate_dir = \"\"", "persistence.state_dir: must not be empty"),
        ("[gates\n", "invalid TOML"),
    ],
)
def test_errors_name_the_key_path_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


@pytest.mark.parametrize("key", ["event_log.fsync", "event_log.fsync_every_n", "persistence.fsync",
                                 "persistence.runner_snapshot"])
def test_a_replaced_durability_key_is_refused_naming_durability_mode(key: str) -> None:
    section, name = key.split(".")
    with pytest.raises(ConfigError) as info:
        parse_config(f"[{section}]\n{name} = 1\n")
    assert str(info.value) == f'{key}: no longer a setting; use durability.mode ("live" or "simulation")'


def test_config_check_refuses_a_replaced_fsync_key_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bot.toml"
    f.write_text("[persistence]\nfsync = false\n")
    assert main(["config", "check", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "persistence.fsync: no longer a setting; use durability.mode" in err


def test_durability_is_live_by_default_and_left_out_of_the_config_hash() -> None:
    """Every event carries the config hash: a log must have the same bytes under either mode."""
    assert Config().durability.mode == "live"
    assert config_hash(parse_config('[durability]\nmode = "simulation"')) == config_hash(Config())


def test_default_file_documents_the_durability_setting() -> None:
    text = default_toml()
    assert 'mode = "live"' in text.split("[durability]")[1]


def test_unknown_tier_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="no tier 'Z' \\(known: default\\)"):
        Config().sizing.max_risk_for("Z")


def test_commission_section_builds_its_model() -> None:
    assert parse_config("").commission.build() == FixedCommission(Decimal("1.25"))
    assert isinstance(parse_config('[commission]\nmodel = "ibkr"').commission.build(), IBKRFuturesCommission)


@pytest.mark.invariant("the config hash depends on the configuration's meaning, not how the file spells it", machine="runner")
def test_hash_is_the_same_for_the_same_meaning() -> None:
    a = parse_config('[gates]\ndvs_threshold = 0.8\n[calendar]\nflatten_lead = "300s"')
    b = parse_config('[calendar]\nflatten_lead = "5m"\n[gates]\ndvs_threshold = "0.80"')
    assert config_hash(a) == config_hash(b) == config_hash(Config()) == Config().config_hash


def test_hash_changes_with_any_value() -> None:
    assert config_hash(parse_config("[gates]\neqs_threshold = 0.76")) != config_hash(Config())
    assert config_hash(parse_config('[calendar]\nentry_cutoff = "15m"')) != config_hash(Config())


def test_default_hash_is_pinned() -> None:
    """A change of this hash means every existing event log's config_hash changes meaning: do it on purpose."""
    # changed on purpose when the throttle, kill_switch and runner_snapshot settings were added, the ibkr section,
    # persistence.fsync, instrument.flatten_before and instrument.contracts; when durability.mode
    # replaced the fsync settings and event_log.key_file/key_env came; the bar_checks section; and when
    # kill_switch.persistence_failures and persistence.save_every_trades went (the log is the write-ahead log);
    # kill_switch.max_strategy_errors (a strategy that keeps raising trips the switch); and the protection
    # section (protective orders held at the venue)
    assert config_hash(Config()) == "8891c248bd9dd752269085b5852aa1c2515ccecb09592aaa9c9663b7a9147537"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    f = tmp_path / "bot.toml"
    f.write_text('[event_log]\npath = "logs/e.jsonl"\n')
    c = load_config(f)
    assert c.resolve(c.event_log.path) == tmp_path / "logs" / "e.jsonl"
    assert c.resolve("/abs/x") == Path("/abs/x")


def test_missing_file_is_a_file_access_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="cannot read config .*nope.toml"):
        load_config(tmp_path / "nope.toml")


def test_default_file_loads_to_the_defaults() -> None:
    assert parse_config(default_toml()) == Config()


# -- CLI ---------------------------------------------------------------------


def test_cli_default_file_passes_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "default"]) == 0
    text = capsys.readouterr().out
    assert text.count("# ") > 10 and "[sizing.max_risk_per_trade]" in text
    f = tmp_path / "default.toml"
    f.write_text(text)
    assert main(["config", "check", str(f)]) == 0
    assert capsys.readouterr().out.startswith(f"{config_hash(Config())}  {f}\nMES on CME (USD)")


def test_cli_check_error_is_one_line_naming_the_key_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[gates]\ndvs_threshold = [0.8]\n")
    r = subprocess.run([sys.executable, "-m", "statebot", "config", "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "statebot config: error: gates.dvs_threshold: expected a decimal string or number, got list\n"


def test_cli_check_of_a_file_it_cannot_read_exits_3_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "none.toml")]) == 3
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_a_new_section_needs_only_its_attrs_class() -> None:
    """Throttle rules and kill-switch limits will be added this way."""
    import attrs

    from statebot.config.model import at_least, from_data, setting

    @attrs.frozen(kw_only=True)
    class ThrottleRules:
        """Throttle rules."""

        consecutive_losses: int = setting(3, doc="throttle after this many losses in a row", check=at_least(1))
        max_drawdown_usd: Decimal = setting(Decimal("100"), doc="throttle beyond this drawdown")
        cooldown: dt.timedelta | None = setting(None, doc="cooldown", example="next_session")

    rules = from_data(ThrottleRules, {"consecutive_losses": 5, "cooldown": "30m"}, "throttle")
    assert rules == ThrottleRules(consecutive_losses=5, cooldown=dt.timedelta(minutes=30))
    with pytest.raises(ConfigError, match="throttle.consecutive_losses: must be >= 1, got 0"):
        from_data(ThrottleRules, {"consecutive_losses": 0}, "throttle")


def test_cli_check_refuses_an_instrument_neither_built_in_nor_defined(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[instrument]\nsymbol = "ZZZ"\n')
    r = subprocess.run([sys.executable, "-m", "statebot", "config", "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("statebot config: error: instrument.symbol: unknown instrument 'ZZZ'; "
                        "known: ES, M2K, MES, MNQ, MYM, NQ, RTY, YM; define it under [instrument.contracts.ZZZ]\n")
