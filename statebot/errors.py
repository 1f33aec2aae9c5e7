"""Exception types raised by statebot.

Every error names the offending value and the rule it broke. The CLI turns any
``StatebotError`` into one line on stderr and a non-zero exit status.
"""

from __future__ import annotations


class StatebotError(Exception):
    """Base class of every error statebot raises on purpose."""


class ConfigError(StatebotError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class CalendarError(StatebotError, ValueError):
    """An unknown calendar name or a date outside what the calendar covers."""


class BarRejected(StatebotError, ValueError):
    """A bar or clock time was refused; nothing changed.

    ``reason`` is a short machine-readable code (``naive_datetime``,
    ``not_after_previous``, ``high_below_open_close``, ``low_above_open_close``,
    ``bad_price``, ``negative_volume``); the message says it for people.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidTransition(StatebotError):
    """A trigger was fired in a state whose transition table does not allow it."""

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(f"{machine}: trigger {trigger!r} is not allowed in state {state}")
        self.machine = machine
        self.state = state
        self.trigger = trigger


class StateCorrupt(StatebotError):
    """A persisted state file is truncated, altered or of an unknown schema."""


class DocsError(StatebotError):
    """The risk-review docs cannot be generated truthfully (a declared invariant
    has no test, a marker names an unknown machine, a marked test is not
    collected, a state source cannot be read)."""
