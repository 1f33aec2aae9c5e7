"""Quality gates: trade only on good data (DVS) and a healthy execution path (EQS).

A score passes when it is a finite number at or above its threshold. Anything
else (below, missing, NaN, infinite, not a number) is a SKIP that names the
gate, the value and the threshold: the gates fail closed. Pure.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from statebot.errors import ConfigError

DVS = "DVS"
"""Data validity score gate (is the market data trustworthy?)."""
EQS = "EQS"
"""Execution quality score gate (are fills and the venue behaving?)."""

DEFAULT_DVS_THRESHOLD = Decimal("0.80")
DEFAULT_EQS_THRESHOLD = Decimal("0.75")

# Why a gate skipped (``GateResult.reason``).
BELOW_THRESHOLD = "below_threshold"
MISSING = "missing"
NOT_FINITE = "not_finite"
NOT_A_NUMBER = "not_a_number"


def threshold(value: object, what: str = "threshold") -> Decimal:
    """A gate threshold as a Decimal in [0, 1]; ``ConfigError`` otherwise (floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigError(f"{what} {value!r} must be a Decimal, int or decimal string")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ConfigError(f"{what} {value!r} is not a number") from None
    if not result.is_finite() or not 0 <= result <= 1:
        raise ConfigError(f"{what} {value!r} must be between 0 and 1")
    return result


@attrs.frozen(kw_only=True)
class GateResult:
    """The outcome of one gate. ``passed`` False means SKIP.

    ``value`` is the score as given, for the record (None when missing);
    ``reason`` is None when passed, else ``below_threshold``, ``missing``,
    ``not_finite`` or ``not_a_number``.
    """

    gate: str
    passed: bool
    value: object
    threshold: Decimal
    reason: str | None = None

    def payload(self) -> dict[str, Any]:
        """The ``GATE_SKIP`` event payload: gate, value (string or None), threshold, reason."""
        return {"gate": self.gate, "value": None if self.value is None else str(self.value),
                "threshold": self.threshold, "reason": self.reason}


def _score(value: object) -> tuple[Decimal | None, str | None]:
    if value is None:
        return None, MISSING
    if isinstance(value, bool):
        return None, NOT_A_NUMBER
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, NOT_FINITE
        # the shortest repr is the decimal the producer meant: 0.8 -> 0.8
        return Decimal(repr(value)), None
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, Decimal):
        return (value, None) if value.is_finite() else (None, NOT_FINITE)
    return None, NOT_A_NUMBER


def check_gate(gate: str, value: object, limit: Decimal | int | str) -> GateResult:
    """Pass when ``value`` (Decimal, int or float score) is finite and >= ``limit``.

    Raises ``ConfigError`` only for a bad ``limit``; a bad ``value`` is a SKIP.
    """
    limit_d = threshold(limit, f"{gate} threshold")
    score, reason = _score(value)
    if score is not None and score < limit_d:
        reason = BELOW_THRESHOLD
    return GateResult(gate=gate, passed=reason is None, value=value, threshold=limit_d, reason=reason)


def check_quality(
    dvs: object,
    eqs: object,
    *,
    dvs_threshold: Decimal | int | str = DEFAULT_DVS_THRESHOLD,
    eqs_threshold: Decimal | int | str = DEFAULT_EQS_THRESHOLD,
) -> GateResult:
    """DVS first, then EQS: the first failing gate's result, else EQS's pass."""
    first = check_gate(DVS, dvs, dvs_threshold)
    if not first.passed:
        return first
    return check_gate(EQS, eqs, eqs_threshold)
