"""Durations written the way people write them: ``5m``, ``90s``, ``1h30m``, ``0``."""

from __future__ import annotations

import datetime as dt
import re

from statebot.errors import ConfigError

_PART = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """``"5m"`` -> 5 minutes. Units: ms, s, m, h, d, combinable (``1h30m``); ``"0"`` is zero.

    Raises ``ConfigError`` naming the text for anything else, including negatives.
    """
    raw = text.strip() if isinstance(text, str) else text
    if raw == "0":
        return dt.timedelta(0)
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"invalid duration {text!r} (use e.g. 5m, 90s, 1h30m)")
    pos, seconds = 0, 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(raw):
        raise ConfigError(f"invalid duration {text!r} (use e.g. 5m, 90s, 1h30m)")
    return dt.timedelta(seconds=seconds)


def format_duration(value: dt.timedelta) -> str:
    """The inverse of ``parse_duration`` for whole seconds: 5 minutes -> ``"5m"``."""
    total = int(value.total_seconds())
    if total == 0:
        return "0"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, total = divmod(total, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)
