"""Errors are named by what happens next: every specific error sits under one policy base or is bad input."""

from __future__ import annotations

import errno

import pytest

from statebot import errors
from statebot.errors import (
    AdapterUnavailable,
    BarRejected,
    ConfigError,
    JournalWriteFailed,
    OverFill,
    Retryable,
    SkipsInput,
    StatebotError,
    StopsBot,
    TripsKillSwitch,
)


@pytest.mark.parametrize(("error", "policy"), [
    (JournalWriteFailed, StopsBot), (OverFill, TripsKillSwitch), (AdapterUnavailable, Retryable),
    (BarRejected, SkipsInput),
])
def test_specific_errors_sit_under_their_policy_base(error: type, policy: type) -> None:
    assert issubclass(error, policy) and issubclass(policy, StatebotError)


def test_specific_errors_keep_their_builtin_bases() -> None:
    assert issubclass(BarRejected, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(JournalWriteFailed, OSError)


def test_journal_write_failed_names_the_file_and_the_os_error_in_one_line() -> None:
    exc = JournalWriteFailed("/var/bot/events.jsonl", OSError(errno.ENOSPC, "No space left on device"))
    assert str(exc) == "cannot write /var/bot/events.jsonl: [Errno 28] No space left on device"
    assert exc.errno == errno.ENOSPC and exc.filename == "/var/bot/events.jsonl"


def test_policy_bases_are_disjoint() -> None:
    bases = (StopsBot, TripsKillSwitch, Retryable, SkipsInput)
    for name in dir(errors):
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, StatebotError):
            assert sum(issubclass(value, base) for base in bases) <= 1, name
