"""``statebot config``: check a configuration file, or print the default one.

``statebot config check FILE`` prints ``<config_hash>  FILE`` and exits 0
when the file is valid and its instrument is a built-in one (the CLI trades
nothing else); otherwise one line on stderr naming the key path and
exit 2. ``statebot config default`` prints a commented TOML file with every
setting at its default (it passes ``check``).
"""

from __future__ import annotations

import argparse
from typing import Any

from statebot.config.model import default_toml, load_config
from statebot.errors import ConfigError, UnknownInstrument
from statebot.core.instruments import instrument


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="check a configuration file or print the default one",
                       description="Validate a statebot TOML configuration file, or print the default file.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    check = actions.add_parser("check", help="validate FILE and print its config hash")
    check.add_argument("file", metavar="FILE", help="the TOML configuration file")
    check.set_defaults(run=run_check)
    default = actions.add_parser("default", help="print a commented default configuration file")
    default.set_defaults(run=run_default)


def run_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    try:
        instrument(config.instrument.symbol)
    except UnknownInstrument as exc:
        # the CLI knows the built-in contracts only; a custom one is given to BotRunner(instruments=...)
        raise ConfigError(f"instrument.symbol: {exc}") from None
    print(f"{config.config_hash}  {args.file}")
    return 0


def run_default(args: argparse.Namespace) -> int:
    print(default_toml(), end="")
    return 0
