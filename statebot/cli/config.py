"""``statebot config``: check a configuration file, or print the default one.

``statebot config check FILE`` prints ``<config_hash>  FILE``, then the traded
contract's specification and the calendar whose close it flattens before, and
exits 0 when the file is valid and its instrument is built in or defined under
``[instrument.contracts.SYMBOL]``; otherwise one line on stderr naming the key
path and exit 2. ``statebot config default`` prints a commented TOML file with every
setting at its default (it passes ``check``).
"""

from __future__ import annotations

import argparse
from typing import Any

from statebot.config.model import default_toml, load_config
from statebot.core.time.durations import format_duration


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
    spec = config.instrument.spec()
    sessions = config.instrument.session_calendar(config.calendar.name)
    config.instrument.commission(config.commission)
    print(f"{config.config_hash}  {args.file}")
    print(spec.describe())
    print(f"  sessions: {sessions}, flatten {format_duration(config.calendar.flatten_lead)} before each close")
    return 0


def run_default(args: argparse.Namespace) -> int:
    print(default_toml(), end="")
    return 0
