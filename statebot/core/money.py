"""Money is Decimal: converters that refuse floats and non-finite values."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from statebot.errors import ConfigError


def to_money(value: object, what: str = "amount") -> Decimal:
    """``value`` as a finite Decimal. Accepts Decimal, int and numeric strings.

    Floats are refused (``0.1`` is not one tenth in binary); so are NaN and
    infinities. Raises ``ConfigError`` naming ``what``.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ConfigError(f"{what} {value!r} must be a Decimal, int or string, not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ConfigError(f"{what} {value!r} is not a number") from None
    else:
        raise ConfigError(f"{what} {value!r} is not a number")
    if not result.is_finite():
        raise ConfigError(f"{what} {value!r} must be finite")
    return result


def non_negative_money(value: object, what: str = "amount") -> Decimal:
    result = to_money(value, what)
    if result < 0:
        raise ConfigError(f"{what} {value!r} must not be negative")
    return result
