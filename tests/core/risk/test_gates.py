"""Quality gates fail closed: only a finite score at or above its threshold passes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.errors import ConfigError
from statebot.core.risk.gates import (
    BELOW_THRESHOLD,
    DVS,
    EQS,
    MISSING,
    NOT_A_NUMBER,
    NOT_FINITE,
    check_gate,
    check_quality,
)


def test_default_thresholds_are_the_seeds() -> None:
    assert check_quality(Decimal("0.80"), Decimal("0.75")).passed
    r = check_quality(Decimal("0.79"), Decimal("0.99"))
    assert (r.gate, r.passed, r.threshold, r.reason) == (DVS, False, Decimal("0.80"), BELOW_THRESHOLD)
    r = check_quality(Decimal("0.99"), Decimal("0.74"))
    assert (r.gate, r.passed, r.threshold) == (EQS, False, Decimal("0.75"))


def test_score_equal_to_threshold_passes() -> None:
    assert check_gate(DVS, Decimal("0.8"), "0.80").passed


def test_float_scores_are_read_as_the_decimal_they_print_as() -> None:
    assert check_gate(DVS, 0.8, "0.8").passed
    assert not check_gate(DVS, 0.7999, "0.8").passed


@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, MISSING), (float("nan"), NOT_FINITE), (float("inf"), NOT_FINITE), (Decimal("NaN"), NOT_FINITE),
     (Decimal("Infinity"), NOT_FINITE), ("0.9", NOT_A_NUMBER), (True, NOT_A_NUMBER), ([0.9], NOT_A_NUMBER)],
)
def test_missing_or_unusable_scores_skip(value: object, reason: str) -> None:
    r = check_gate(EQS, value, "0.75")
    assert (r.passed, r.reason) == (False, reason)


def test_skip_payload_names_gate_value_and_threshold() -> None:
    assert check_gate(DVS, Decimal("0.5"), "0.80").payload() == {
        "gate": "DVS", "value": "0.5", "threshold": Decimal("0.80"), "reason": BELOW_THRESHOLD}
    assert check_gate(EQS, None, "0.75").payload()["value"] is None


@pytest.mark.parametrize("bad", ["-0.1", "1.5", 0.8, "x", Decimal("NaN")])
def test_bad_threshold_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError):
        check_gate(DVS, Decimal("0.9"), bad)  # type: ignore[arg-type]


@pytest.mark.invariant("the quality gates fail closed: an entry passes only with finite DVS and EQS at or above their thresholds", machine="runner")
@given(
    dvs=st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.decimals(allow_nan=True, allow_infinity=True),
    eqs=st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.decimals(allow_nan=True, allow_infinity=True),
)
def test_pass_only_when_both_scores_are_finite_and_high_enough(dvs: object, eqs: object) -> None:
    """Invariant: check_quality passes iff both scores are finite and >= their thresholds."""
    def ok(v: object, t: str) -> bool:
        if v is None:
            return False
        d = Decimal(repr(v)) if isinstance(v, float) else v
        return bool(d.is_finite() and d >= Decimal(t))  # type: ignore[union-attr]
    assert check_quality(dvs, eqs).passed == (ok(dvs, "0.80") and ok(eqs, "0.75"))


def test_integer_scores_are_whole_numbers() -> None:
    assert check_gate(DVS, 1, "0.80").passed
    r = check_gate(DVS, 0, "0.80")
    assert (r.passed, r.reason, r.value) == (False, BELOW_THRESHOLD, 0)


def test_thresholds_of_zero_and_one_are_allowed() -> None:
    assert check_gate(EQS, Decimal("0"), 0).passed
    assert check_gate(EQS, Decimal("1"), 1).passed
    assert not check_gate(EQS, Decimal("0.999"), "1").passed


@pytest.mark.parametrize(
    ("bad", "message"),
    [("1.5", "DVS threshold '1.5' must be between 0 and 1"),
     ("-0.1", "DVS threshold '-0.1' must be between 0 and 1"),
     (Decimal("NaN"), "DVS threshold Decimal('NaN') must be between 0 and 1"),
     ("x", "DVS threshold 'x' is not a number"),
     (0.8, "DVS threshold 0.8 must be a Decimal, int or decimal string"),
     (True, "DVS threshold True must be a Decimal, int or decimal string")],
)
def test_a_bad_threshold_is_refused_in_one_line_naming_the_gate_and_the_value(bad: object, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_gate(DVS, Decimal("0.9"), bad)  # type: ignore[arg-type]
    assert str(refused.value) == message
