"""The ``statebot`` command line.

Each sub-command lives in its own module with ``register(subparsers)``; this
module only dispatches, and is the one place where errors become exit statuses
(``statebot.cli.exit_codes``): any ``StatebotError`` or OS error that reaches it
becomes one line on stderr naming the file, line or key; no traceback of
statebot's own reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from statebot.cli.exit_codes import EPILOG, EXIT_OK, EXIT_USAGE, exit_code_for, one_line
from statebot.errors import StatebotError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not the usage text plus a line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    from statebot.cli import sessions
    from statebot.cli import config, replay
    from statebot.cli import check
    from statebot.cli import state as state_cli

    # risk-review docs
    from statebot.cli import diagrams

    # live trading on Interactive Brokers
    from statebot.cli import run as run_cli

    # simulations, sweeps of them, their bars and writing strategies
    from statebot.cli import bars, new_strategy, sim, sweep

    parser = Parser(prog="statebot", description="Explicit, tested lifecycles for intraday trading bots.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in (sessions, sim, sweep, bars, new_strategy, run_cli, replay, check, config, state_cli, diagrams):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (the table in ``statebot.cli.exit_codes``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or EXIT_OK)
    except BrokenPipeError:
        return EXIT_OK
    except (StatebotError, OSError) as exc:
        print(f"statebot {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
