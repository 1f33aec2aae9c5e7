"""Constructor checks shared by the demo strategies (errors are ``ConfigError``)."""

from __future__ import annotations

from decimal import Decimal

from statebot.errors import ConfigError


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} {value!r} must be an integer >= {minimum}")
    return value


def optional_positive_int(name: str, value: object) -> int | None:
    return None if value is None else positive_int(name, value)


def score(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigError(f"{name} {value!r} must be a Decimal, int or decimal string")
    try:
        return Decimal(value)
    except ArithmeticError:
        raise ConfigError(f"{name} {value!r} is not a number") from None
