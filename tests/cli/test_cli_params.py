"""Strategy parameters and config overrides from the command line: -p NAME=VALUE, [strategy], --set."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.cli.run import strategy_choice
from statebot.config.model import Config, config_hash, default_toml, parse_config


def _report(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "report.json"
    assert main(["sim", *args, "--report", str(out)]) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def _title(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.splitlines()[0]


def test_p_sets_a_strategy_parameter_and_changes_the_run(tmp_path: Path) -> None:
    default = _report(tmp_path)
    tuned = _report(tmp_path, "-p", "fast=5", "-p", "slow=20")
    assert tuned["trades"] != default["trades"]


def test_p_values_are_toml_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "-p", "fast=five"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad parameters" in err and "'five'" in err


@pytest.mark.parametrize("bad", ["fast", "=5"])
def test_a_p_without_name_and_value_is_one_line_and_exit_2(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "-p", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NAME=VALUE" in err


def test_the_config_strategy_section_names_the_strategy_and_its_params(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[strategy]\nname = "sma-cross"\n[strategy.params]\nfast = 5\nslow = 20\n')
    from_file = _report(tmp_path, "--config", str(cfg))
    assert from_file["trades"] == _report(tmp_path, "-p", "fast=5", "-p", "slow=20")["trades"]
    capsys.readouterr()
    assert main(["sim", "--config", str(cfg), "-p", "fast=x"]) == 2  # -p goes over the file's params
    assert "'fast': 'x'" in capsys.readouterr().err


def test_another_strategy_on_the_command_line_does_not_get_the_configs_params(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[strategy]\nname = "sma-cross"\n[strategy.params]\nfast = 5\n')
    assert main(["sim", "--config", str(cfg), "--strategy", "orb"]) == 0
    assert "(orb on MES)" in _title(capsys)


def test_a_bad_strategy_section_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[strategy]\nnam = "orb"\n')
    assert main(["sim", "--config", str(cfg)]) == 2
    assert "strategy.nam: unknown key" in capsys.readouterr().err


def test_an_unnamed_strategy_section_keeps_the_config_hash() -> None:
    assert config_hash(parse_config("[strategy]\n")) == config_hash(Config())
    assert config_hash(parse_config('[strategy]\nname = "orb"\n')) != config_hash(Config())
    assert parse_config(default_toml()) == Config()


def test_set_overrides_a_config_key_and_is_checked_like_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--set", "sizing.max_risk_per_trade.default=0"]) == 0
    assert "trades                0" in capsys.readouterr().out
    assert main(["sim", "--set", "sizing.max_stop_ticks=many"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sizing.max_stop_ticks: expected an integer" in err
    assert main(["sim", "--set", "sizing.nope=1"]) == 2
    assert "sizing.nope: unknown key" in capsys.readouterr().err


def test_set_goes_over_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("[sizing]\nmax_stop_ticks = 12\n")
    config = parse_config(cfg.read_text(), overrides=["sizing.max_stop_ticks=20", "calendar.flatten_lead=10m"])
    assert config.sizing.max_stop_ticks == 20 and config.calendar.flatten_lead.total_seconds() == 600


def test_set_applies_to_a_scenarios_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[config.sizing]\nmax_stop_ticks = 12\n[expect]\ntrades_min = 1\n')
    assert main(["sim", str(scenario)]) == 0
    assert main(["sim", str(scenario), "--set", "sizing.max_risk_per_trade.default=0"]) == 1
    assert "0 trade(s), expected at least 1" in capsys.readouterr().err



def test_run_takes_the_configs_strategy_and_p_over_its_params() -> None:
    config = parse_config('[strategy]\nname = "sma-cross"\n[strategy.params]\nfast = 5\nslow = 20\n')
    args = argparse.Namespace(strategy=None, param=["slow=40", "dvs=0.9"])
    assert strategy_choice(config, args) == ("sma-cross", {"fast": 5, "slow": 40, "dvs": Decimal("0.9")})
    assert strategy_choice(Config(), argparse.Namespace(strategy=None, param=[])) == ("orb", {})
    assert strategy_choice(config, argparse.Namespace(strategy="orb", param=[])) == ("orb", {})


def test_run_refuses_bad_parameters_before_connecting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text("")
    assert main(["run", "--adapter", "ibkr", "--mode", "OBSERVE", "--config", str(cfg), "-p", "nope=1"]) == 2
    assert "bad parameters" in capsys.readouterr().err
    assert main(["run", "--adapter", "ibkr", "--mode", "OBSERVE", "--config", str(cfg), "--set", "gates.x=1"]) == 2
    assert "gates.x: unknown key" in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def test_a_second_run_on_the_same_state_folder_says_every_bar_was_rejected(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert main(["sim", "--state-dir", str(state)]) == 0
    capsys.readouterr()
    assert main(["sim", "--state-dir", str(state)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "every one of the 1380 bars was rejected (not_after_previous 1380)" in err and str(state) in err
