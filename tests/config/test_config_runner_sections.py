"""Config sections the runner reads: throttle rules, kill-switch limits, snapshot policy; errors name the key path."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from statebot.config.model import Config, config_hash, default_toml, parse_config
from statebot.errors import ConfigError
from statebot.core.fsm.throttle import NEXT_SESSION


def test_defaults_build_the_library_defaults() -> None:
    c = Config()
    rules = c.throttle.rules()
    assert rules.max_consecutive_losses == 4 and rules.cooldown == NEXT_SESSION and rules.probation_size_cap == 1
    ks = c.kill_switch.build()
    assert ks.daily_loss_limit == Decimal(500) and ks.max_consecutive_rejects == 3
    assert ks.backoff.first == dt.timedelta(seconds=5) and ks.backoff.cap == dt.timedelta(minutes=1)


def test_default_file_lists_both_sections_and_loads_to_defaults() -> None:
    text = default_toml()
    assert "[throttle]" in text and "[kill_switch]" in text
    assert parse_config(text) == Config()


def test_zero_disables_a_limit() -> None:
    c = parse_config("[throttle]\nmax_consecutive_losses = 0\nmax_drawdown_usd = 0\n[kill_switch]\ndaily_loss_limit_usd = 0\nmax_consecutive_rejects = 0\n")
    assert c.throttle.rules().max_consecutive_losses is None and c.throttle.rules().max_drawdown_usd is None
    ks = c.kill_switch.build()
    assert ks.daily_loss_limit is None and ks.max_consecutive_rejects is None


def test_cooldown_accepts_a_duration() -> None:
    c = parse_config('[throttle]\ncooldown = "45m"\n')
    assert c.throttle.rules().cooldown == dt.timedelta(minutes=45)


def test_the_new_sections_are_part_of_the_hash() -> None:
    assert config_hash(parse_config("[kill_switch]\ndaily_loss_limit_usd = 499\n")) != config_hash(Config())
    assert config_hash(parse_config("[throttle]\nprobation_size_cap = 2\n")) != config_hash(Config())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[throttle]\nmax_consecutive_losses = -1", "throttle.max_consecutive_losses: must be >= 0, got -1"),
        ("[throttle]\nmax_drawdown_usd = -5", "throttle.max_drawdown_usd: must not be negative, got -5"),
        ("[throttle]\nmin_win_rate = 1.5", "throttle.min_win_rate: must be between 0 and 1, got 1.5"),
        ("[throttle]\ncooldown = \"soon\"", "throttle.cooldown: must be \"next_session\" or a duration such as \"30m\", got 'soon'"),
        ("[throttle]\nprobation_size_cap = \"1\"", "throttle.probation_size_cap: expected an integer, got string '1'"),
        ("[throttle]\ncool_down = \"1h\"", "throttle.cool_down: unknown key"),
        ("[kill_switch]\ndaily_loss_limit_usd = -100", "kill_switch.daily_loss_limit_usd: must not be negative, got -100"),
        ("[kill_switch]\nmax_consecutive_rejects = -2", "kill_switch.max_consecutive_rejects: must be >= 0, got -2"),
        ("[kill_switch]\npersistence_failures = 3", "kill_switch.persistence_failures: no longer a setting; a failed write "
         "to the event log or the checkpoint stops the bot at once (exit 3)"),
        ("[persistence]\nsave_every_trades = 10", "persistence.save_every_trades: no longer a setting; learning is in the "
         "event log"),
        ("[kill_switch]\nflatten_backoff_first = \"0\"", "kill_switch.flatten_backoff_first: must be a positive duration"),
        ("[kill_switch]\nflatten_backoff_cap = 60", "kill_switch.flatten_backoff_cap: expected a duration string"),
        ("[kill_switch]\ndaily_loss = 5", "kill_switch.daily_loss: unknown key"),
    ],
)
def test_errors_name_the_key_path(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[kill_switch]\nmystery = 1\n", "kill_switch.mystery"),
        ("[throttle]\nwindow = \"twenty\"\n", "throttle.window"),
        ("[kill_switch]\ndaily_loss_limit_usd = -1\n", "kill_switch.daily_loss_limit_usd"),
    ],
)
def test_cli_check_exits_2_naming_the_key_path(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "bot.toml"
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "statebot", "config", "check", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert path in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


