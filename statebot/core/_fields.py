"""Strict readers for persisted state: every wrong type or value is a ``StateCorrupt``.

State files are read back field by field; nothing is coerced silently (a float
where a Decimal string belongs, a naive time, a negative count are all refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from statebot.errors import StateCorrupt


def mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise StateCorrupt(f"{what} must be a JSON object, found {type(value).__name__}", reason="malformed")
    return value


def field(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise StateCorrupt(f"{what} lacks {key!r}", reason="malformed")
    return data[key]


def count(data: Mapping[str, Any], key: str, what: str, minimum: int = 0) -> int:
    value = field(data, key, what)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise StateCorrupt(f"{what}.{key} {value!r} must be an int >= {minimum}", reason="malformed")
    return value


def decimal(data: Mapping[str, Any], key: str, what: str) -> Decimal:
    value = field(data, key, what)
    if not isinstance(value, str):
        raise StateCorrupt(f"{what}.{key} {value!r} must be a decimal string", reason="malformed")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise StateCorrupt(f"{what}.{key} {value!r} is not a number", reason="malformed") from None
    if not result.is_finite():
        raise StateCorrupt(f"{what}.{key} {value!r} must be finite", reason="malformed")
    return result


def text(data: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    value = field(data, key, what)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise StateCorrupt(f"{what}.{key} {value!r} must be a string", reason="malformed")
    return value


def time(data: Mapping[str, Any], key: str, what: str) -> dt.datetime | None:
    value = text(data, key, what, optional=True)
    if value is None:
        return None
    try:
        result = dt.datetime.fromisoformat(value)
    except ValueError:
        raise StateCorrupt(f"{what}.{key} {value!r} is not an ISO-8601 time", reason="malformed") from None
    if result.tzinfo is None or result.utcoffset() is None:
        raise StateCorrupt(f"{what}.{key} {value!r} is naive; stored times carry an offset", reason="malformed")
    return result


def date(data: Mapping[str, Any], key: str, what: str) -> dt.date | None:
    value = text(data, key, what, optional=True)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise StateCorrupt(f"{what}.{key} {value!r} is not an ISO date", reason="malformed") from None


def iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
