"""The exit status of every ``statebot`` command: one table, used by all of them.

=====  ==============================================================================
code   meaning
=====  ==============================================================================
0      done: the command did what was asked (a sim ran to its end, a log verified)
1      done, but an expectation failed: a scenario's expectation, a log that does not
       verify or replay, a live run that ended not flat, a sim whose every bar was rejected
2      bad input, nothing changed: a usage error, a bad config key, a bad CSV row, a
       strategy reference that is not a strategy; one line names the file, line or key
3      the environment failed: a file or folder could not be read or written (disk full,
       permission, read-only), the state folder is in use; one line names the file and
       the OS error. A run stopped this way flushed what it could and flattened first
4      the venue failed: the broker could not be reached or refused the session
5      the strategy raised (``statebot sim`` without ``--keep-going``): its traceback,
       with statebot's own frames trimmed, then one line naming the bar
130    interrupted by SIGINT (Ctrl-C): the log was flushed and a checkpoint written
143    ended by SIGTERM: the same clean shutdown as SIGINT
=====  ==============================================================================

No command lets a traceback of statebot's own reach the user; a user's strategy that
raises shows its own frames (the engine's are trimmed).
"""

from __future__ import annotations

import os

import traceback
from pathlib import Path

from statebot.errors import AdapterUnavailable, StateInUse, StatebotError, StrategyFailed

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_VENUE = 4
EXIT_STRATEGY_FAILED = 5
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

EPILOG = """exit status (every command):
  0    done
  1    done, but an expectation failed (a scenario's [expect], a log that does
       not verify, a live run that stopped not flat, a sim that rejected every bar)
  2    bad input, nothing changed (usage, config key, CSV row, strategy)
  3    the environment failed: a file or folder could not be read or written,
       or the state folder is in use
  4    the venue failed: the broker could not be reached
  5    the strategy raised (sim; --keep-going skips such bars instead)
  130  interrupted by Ctrl-C (SIGINT); 143 ended by SIGTERM
errors are one line on stderr naming the file, line or key."""


def exit_code_for(exc: StatebotError | OSError) -> int:
    """The status for an error that reached the command line: the table above."""
    if isinstance(exc, AdapterUnavailable):
        return EXIT_VENUE
    if isinstance(exc, StrategyFailed):
        return EXIT_STRATEGY_FAILED
    if isinstance(exc, (OSError, StateInUse)):
        return EXIT_ENVIRONMENT
    return EXIT_USAGE


def one_line(exc: BaseException) -> str:
    """The error as one line: an OS error names its file(s) and the reason, without errno noise."""
    if isinstance(exc, OSError) and exc.strerror:
        files = [os.fsdecode(f) if isinstance(f, (str, bytes, os.PathLike)) else str(f)
                 for f in (exc.filename, exc.filename2) if f is not None]
        text = f"{' -> '.join(files)}: {exc.strerror}" if files else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


_PACKAGE = Path(__file__).resolve().parent.parent


def user_traceback(exc: BaseException) -> str:
    """``exc``'s traceback with statebot's own frames left out: what the user's code did."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not Path(f.filename).resolve().is_relative_to(_PACKAGE)]
    head = "Traceback of the strategy (statebot's frames trimmed):\n" if frames else ""
    return head + "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(exc))


__all__ = ["EPILOG", "exit_code_for", "one_line", "user_traceback", "EXIT_STRATEGY_FAILED", "EXIT_ENVIRONMENT", "EXIT_EXPECTATION_FAILED", "EXIT_OK", "EXIT_SIGINT", "EXIT_SIGTERM", "EXIT_USAGE",
           "EXIT_VENUE"]
