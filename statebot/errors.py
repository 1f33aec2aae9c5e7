"""Exception types raised by statebot.

Every error names the offending value and the rule it broke. The CLI turns any
``StatebotError`` into one line on stderr and a non-zero exit status.

Under ``StatebotError`` sit the policy bases, named by what happens next, so a
caller catches by policy rather than by a list of types:

- ``StopsBot``: the process must stop (after flattening what it can, live):
  the bot can no longer keep the promises it makes, e.g. a journal write failed.
- ``TripsKillSwitch``: trading stops until a person looks; the loop goes on.
- ``Retryable``: nothing took effect; the same call may succeed later.
- ``SkipsInput``: this input (a bar, a row, a signal, an order request) is
  refused, nothing changed, the loop goes on with the next one.

Errors of bad input given before anything runs (``ConfigError``...) need no
policy base: the command refuses in one line. Each specific type also
subclasses the matching builtin (``ValueError``, ``OSError``...).
"""

from __future__ import annotations

import errno as _errno
import os


class StatebotError(Exception):
    """Base class of every error statebot raises on purpose."""


# -- policy bases: what happens next -----------------------------------------


class StopsBot(StatebotError):
    """The process must stop: live, it flattens what it can first; the CLI exits non-zero."""


class TripsKillSwitch(StatebotError):
    """The kill switch trips: no entries, everything flattened, until a person re-arms it."""


class Retryable(StatebotError):
    """Nothing took effect; the caller may try the same thing again later."""


class SkipsInput(StatebotError):
    """The input is refused and nothing changed; the loop goes on with the next one."""


class JournalWriteFailed(StopsBot, OSError):
    """An event could not be written to (or synced in) the event log at ``filename``.

    Carries the OS error's ``errno`` and ``strerror``; ``str()`` is one line,
    ``cannot write FILE: [Errno 28] No space left on device``. The bot must stop:
    an event that is not in the log did not happen, and no effect may follow it.
    """

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        code = cause.errno if cause.errno is not None else _errno.EIO
        super().__init__(code, cause.strerror or str(cause), os.fspath(path))

    def __str__(self) -> str:
        return f"cannot write {self.filename}: [Errno {self.errno}] {self.strerror}"


class ConfigError(StatebotError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class CalendarError(StatebotError, ValueError):
    """An unknown calendar name or a date outside what the calendar covers."""


class BarRejected(SkipsInput, ValueError):
    """A bar or clock time was refused; nothing changed.

    ``reason`` is a short machine-readable code (``naive_datetime``,
    ``not_after_previous``, ``high_below_open_close``, ``low_above_open_close``,
    ``bad_price``, ``negative_volume``); the message says it for people.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidTransition(SkipsInput):
    """A trigger was fired in a state whose transition table does not allow it."""

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(f"{machine}: trigger {trigger!r} is not allowed in state {state}")
        self.machine = machine
        self.state = state
        self.trigger = trigger


class StateCorrupt(StatebotError):
    """A persisted state file is truncated, altered or of an unknown schema.

    ``reason`` is a short code (``empty``, ``not_json``, ``wrong_type``,
    ``unknown_schema``, ``unknown_version``, ``checksum_mismatch``, ``malformed``);
    ``path`` the file read; ``moved_to`` where it was moved aside, once it was.
    """

    def __init__(self, message: str, *, reason: str = "malformed", path: str | None = None, moved_to: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path
        self.moved_to = moved_to


# -- event log, sizing, strategies ------------------------------------------


class EventLogError(StatebotError):
    """An event could not be written, or an event log could not be read or trusted.

    ``line`` is the 1-based line number of the offending line when there is one.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class ChainBroken(EventLogError):
    """An event log's hash chain or sequence does not verify at ``line``:
    a line was modified, removed, reordered or is not a valid event."""


class TornTail(EventLogError):
    """An event log ends in a partial line (a write interrupted by a crash).

    ``line`` (also ``torn_line``) is the torn line's number, ``offset`` the byte offset where it
    starts (everything before it is complete lines).
    """

    def __init__(self, message: str, *, line: int, offset: int) -> None:
        super().__init__(message, line=line)
        self.torn_line = line
        self.offset = offset


class InvalidEvent(EventLogError, ValueError):
    """An event's type is unknown, a required payload key is missing, or a
    payload value cannot be stored exactly (a float, a naive datetime, ...)."""


class SizingError(StatebotError, ValueError):
    """An argument of position sizing is of the wrong type or out of range."""


class SignalError(SkipsInput, ValueError):
    """A strategy produced an invalid ``Signal`` (wrong side, non-integer ticks, ...)."""

# --- positions, orders, adapters --------------------------------------------


class UnknownInstrument(ConfigError):
    """A symbol with no ``InstrumentSpec`` (built in or registered)."""


class OffTickPrice(StatebotError, ValueError):
    """A price is not on the instrument's tick grid (strict conversion only)."""


class AdapterUnavailable(Retryable):
    """The broker adapter cannot be reached (disconnected, not logged in).

    Raised by adapter calls that need the venue; nothing was sent. The caller
    retries later; it must never assume the call took effect.
    """


class OverFill(TripsKillSwitch):
    """A fill exceeds what its order asked for, or belongs to no known order.

    Raised by ``PositionMachine.on_fill`` AFTER the fill was applied: the venue
    holds those contracts, so the position follows them. ``kind`` is
    ``over_fill`` (more than the order's quantity, or a closing order's fill
    from zero or away from zero), ``through_zero`` (a closing fill reversed the
    position), ``unknown_order`` or ``unexpected_fill`` (an outcome the
    position table has no row for). The runner turns it into
    an event, trips the kill switch and flattens.
    """

    def __init__(self, kind: str, message: str, fill: object = None, closed: object = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.fill = fill
        self.closed = closed


class EntryRefused(SkipsInput):
    """An entry was asked for where none may be sent (a position is held or an
    order is still live, the kill switch is tripped, the session forbids it)."""


class PositionMismatch(TripsKillSwitch):
    """The positions statebot expects differ from the broker's; nothing adopted (a kill switch
    reset given mismatches raises it too, and stays TRIPPED).

    ``mismatches`` holds one ``statebot.core.positions.reconcile.Mismatch`` per symbol.
    """

    def __init__(self, mismatches: tuple[object, ...]) -> None:
        text = "; ".join(str(m) for m in mismatches)
        super().__init__(f"positions differ from the broker's: {text}")
        self.mismatches = mismatches



# -- learning: trade outcomes, crash-safe state ---------------------------------


class InvalidOutcome(StatebotError, ValueError):
    """A closed trade's figures are inconsistent or of the wrong type (naive time,
    exit before entry, float money, zero quantity, a price off the tick grid)."""


class StateSaveFailed(TripsKillSwitch):
    """The learning state could not be saved durably several times in a row and no
    ``on_persistent_failure`` callback was given to trip the kill switch."""


class StrategyFailed(StatebotError):
    """The user's strategy raised and the run was asked to stop on it (``statebot sim``
    without ``--keep-going``). ``error`` is the strategy's own exception (also the
    ``__cause__``), ``at`` the bar's end time. The CLI prints the traceback of the user's
    frames (statebot's trimmed) and exits 5."""

    def __init__(self, strategy: str, at: object, error: BaseException) -> None:
        super().__init__(f"strategy {strategy!r} raised {type(error).__name__} at the bar ending {at}: {error}")
        self.strategy = strategy
        self.at = at
        self.error = error

    def __reduce__(self) -> tuple[object, ...]:  # crosses process boundaries in a Monte Carlo (without the traceback)
        return (StrategyFailed, (self.strategy, self.at, self.error))


class StateInUse(StatebotError):
    """Another process holds the state folder's lock (a running bot, or a second CLI)."""


class MissingDependency(StatebotError, ImportError):
    """An optional dependency (an extra such as ``ibkr``) is not installed; the message says how to install it."""

class DocsError(StatebotError):
    """The risk-review docs cannot be generated truthfully (a declared invariant
    has no test, a marker names an unknown machine, a marked test is not
    collected, a state source cannot be read)."""


class FileAccessError(StatebotError, OSError):
    """A file or folder statebot must read or write cannot be used (missing, permission,
    not a folder, read-only, full); the message names it and the reason. The CLI exits 3."""
