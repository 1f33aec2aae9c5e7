"""Argument types shared by the sub-commands: bad values become one-line usage errors."""

from __future__ import annotations

import argparse
import datetime as dt

from statebot.core.time.durations import parse_duration
from statebot.errors import ConfigError


def duration_arg(text: str) -> dt.timedelta:
    """``5m`` -> 5 minutes, for ``type=``; anything else is an argparse error naming it."""
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_duration_arg(text: str) -> dt.timedelta:
    """Like ``duration_arg``, but zero is refused too."""
    value = duration_arg(text)
    if value <= dt.timedelta(0):
        raise argparse.ArgumentTypeError(f"duration {text!r} must be positive")
    return value
