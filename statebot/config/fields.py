"""The building blocks of config sections: a setting with its doc and check, a section, common checks."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from statebot.errors import ConfigError

Check = Callable[[Any], "str | None"]


# -- field helpers -----------------------------------------------------------


def setting(default: Any, *, doc: str, check: Check | None = None, example: str | None = None) -> Any:
    """An attrs field for a config setting: its default, one-line ``doc`` (printed in
    ``statebot config default``), an optional ``check`` returning an error text or
    None, and for optional settings an ``example`` shown commented out."""
    def validate(instance: Any, attribute: attrs.Attribute, value: Any) -> None:  # type: ignore[type-arg]
        problem = check(value) if check is not None and value is not None else None
        if problem:
            raise ConfigError(f"{attribute.name}: {problem}")

    kwargs: dict[str, Any] = {"metadata": {"doc": doc, "check": check, "example": example}, "validator": validate}
    if isinstance(default, dict):
        frozen = dict(default)
        return attrs.field(factory=lambda: dict(frozen), **kwargs)
    return attrs.field(default=default, **kwargs)


def section(cls: type, doc: str) -> Any:
    """A ``Config`` field holding the section ``cls`` (all defaults when absent)."""
    return attrs.field(factory=cls, metadata={"doc": doc, "section": True})


def at_least(minimum: int | Decimal) -> Check:
    return lambda v: None if v >= minimum else f"must be >= {minimum}, got {v}"


def non_negative(v: Any) -> str | None:
    values = list(v.values()) if isinstance(v, dict) else [v]
    bad = [x for x in values if x < 0]
    return f"must not be negative, got {bad[0]}" if bad else None


def fraction(v: Decimal) -> str | None:
    return None if 0 < v <= 1 else f"must be in (0, 1], got {v}"


def unit_interval(v: Decimal) -> str | None:
    return None if 0 <= v <= 1 else f"must be between 0 and 1, got {v}"


def not_empty(v: str) -> str | None:
    return None if v.strip() else "must not be empty"
