"""Constructor checks shared by the demo strategies (errors are ``ConfigError``).

A bad parameter is refused when the strategy is built, naming it, never at the
first signal of a run (where it would stop the run) and never silently (a NaN
score would have every entry refused by the gates for the whole run).
"""

from __future__ import annotations

from decimal import Decimal

from statebot.errors import ConfigError


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} {value!r} must be an integer >= {minimum}")
    return value


def optional_positive_int(name: str, value: object) -> int | None:
    return None if value is None else positive_int(name, value)


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigError(f"{name} {value!r} must be a Decimal, int or decimal string")
    try:
        return Decimal(value)
    except ArithmeticError:
        raise ConfigError(f"{name} {value!r} is not a number") from None


def score(name: str, value: object) -> Decimal:
    """A data validity or execution quality score: finite, from 0 to 1 inclusive."""
    result = _decimal(name, value)
    if not result.is_finite() or not 0 <= result <= 1:
        raise ConfigError(f"{name} {value!r} must be a finite score between 0 and 1")
    return result


def slippage_ticks(name: str, value: object) -> Decimal:
    """An expected slippage in ticks: finite and >= 0 (as ``Signal`` requires)."""
    result = _decimal(name, value)
    if not result.is_finite() or result < 0:
        raise ConfigError(f"{name} {value!r} must be finite and >= 0")
    return result
