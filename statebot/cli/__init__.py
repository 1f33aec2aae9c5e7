"""The ``statebot`` command line.

Each sub-command lives in its own module with ``register(subparsers)``; this
module only dispatches. Any ``StatebotError`` (and any usage error) becomes one
line on stderr and exit status 2; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from statebot.cli.exit_codes import EXIT_USAGE
from statebot.errors import StatebotError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not the usage text plus a line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    from statebot.cli import sessions
    from statebot.cli import config, replay
    from statebot.cli import state as state_cli

    # risk-review docs
    from statebot.cli import diagrams

    # live trading on Interactive Brokers
    from statebot.cli import run as run_cli

    # simulations
    from statebot.cli import sim

    parser = Parser(prog="statebot", description="Explicit, tested lifecycles for intraday trading bots.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in (sessions, sim, run_cli, replay, config, state_cli, diagrams):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (the table in ``statebot.cli.exit_codes``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except StatebotError as exc:
        print(f"statebot {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
