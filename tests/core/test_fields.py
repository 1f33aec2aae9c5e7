"""The strict readers of persisted state: what each accepts as it is, and the one line each refusal says."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from statebot.core import _fields as f
from statebot.errors import StateCorrupt

W = "position[MES]"


def corrupt(message: str) -> Any:
    return pytest.raises(StateCorrupt, match="^" + re.escape(message) + "$")


def test_mapping_accepts_a_dict_and_names_any_other_type() -> None:
    data = {"a": 1}
    assert f.mapping(data, W) is data
    for value, kind in [([1], "list"), ("x", "str"), (None, "NoneType"), (3, "int")]:
        with corrupt(f"{W} must be a JSON object, found {kind}") as caught:
            f.mapping(value, W)
        assert caught.value.reason == "malformed"


def test_field_names_the_missing_key() -> None:
    assert f.field({"k": None}, "k", W) is None
    with corrupt(f"{W} lacks 'k'"):
        f.field({"K": 1}, "k", W)


@pytest.mark.parametrize(("value", "minimum"), [(0, 0), (5, 0), (1, 1), (10, 10)])
def test_count_accepts_ints_at_or_above_the_minimum(value: int, minimum: int) -> None:
    assert f.count({"n": value}, "n", W, minimum) == value


@pytest.mark.parametrize(("value", "minimum"), [(-1, 0), (0, 1), (9, 10), (True, 0), (False, 0), (1.0, 0), ("1", 0), (None, 0)])
def test_count_refuses_anything_else(value: object, minimum: int) -> None:
    with corrupt(f"{W}.n {value!r} must be an int >= {minimum}"):
        f.count({"n": value}, "n", W, minimum)


def test_count_requires_the_key() -> None:
    with corrupt(f"{W} lacks 'n'"):
        f.count({}, "n", W)


@pytest.mark.parametrize(("text", "expected"), [("0", Decimal(0)), ("-12.50", Decimal("-12.50")), ("1E+2", Decimal(100))])
def test_decimal_reads_a_decimal_string_exactly(text: str, expected: Decimal) -> None:
    result = f.decimal({"d": text}, "d", W)
    assert result == expected and str(result) == text


@pytest.mark.parametrize(("value", "message"), [
    (1.5, "must be a decimal string"),
    (3, "must be a decimal string"),
    (None, "must be a decimal string"),
    ("abc", "is not a number"),
    ("", "is not a number"),
    ("NaN", "must be finite"),
    ("-Infinity", "must be finite"),
    ("sNaN", "must be finite"),
])
def test_decimal_refuses_what_is_not_a_finite_decimal_string(value: object, message: str) -> None:
    with corrupt(f"{W}.d {value!r} {message}"):
        f.decimal({"d": value}, "d", W)


def test_text_reads_a_string_and_none_only_when_optional() -> None:
    assert f.text({"t": ""}, "t", W) == ""
    assert f.text({"t": None}, "t", W, optional=True) is None
    with corrupt(f"{W}.t None must be a string"):
        f.text({"t": None}, "t", W)
    with corrupt(f"{W}.t 4 must be a string"):
        f.text({"t": 4}, "t", W, optional=True)


def test_time_reads_an_aware_iso_time_and_keeps_its_offset() -> None:
    value = f.time({"at": "2026-11-24T16:00:00-05:00"}, "at", W)
    assert value == dt.datetime(2026, 11, 24, 21, tzinfo=dt.timezone.utc)
    assert value is not None and value.utcoffset() == dt.timedelta(hours=-5)
    assert f.time({"at": None}, "at", W) is None


@pytest.mark.parametrize(("value", "message"), [
    ("2026-11-24T16:00:00", "is naive; stored times carry an offset"),
    ("2026-11-24", "is naive; stored times carry an offset"),
    ("yesterday", "is not an ISO-8601 time"),
    ("2026-13-01T00:00:00+00:00", "is not an ISO-8601 time"),
])
def test_time_refuses_a_naive_or_unreadable_time(value: str, message: str) -> None:
    with corrupt(f"{W}.at {value!r} {message}"):
        f.time({"at": value}, "at", W)


def test_time_refuses_a_number() -> None:
    with corrupt(f"{W}.at 1700000000 must be a string"):
        f.time({"at": 1700000000}, "at", W)


def test_date_reads_an_iso_date_or_none() -> None:
    assert f.date({"d": "2026-11-24"}, "d", W) == dt.date(2026, 11, 24)
    assert f.date({"d": None}, "d", W) is None
    for value in ["24/11/2026", "2026-02-30", "soon"]:
        with corrupt(f"{W}.d {value!r} is not an ISO date"):
            f.date({"d": value}, "d", W)


def test_iso_writes_what_the_readers_read_back() -> None:
    at = dt.datetime(2026, 11, 24, 16, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert f.iso(at) == "2026-11-24T16:00:00-05:00"
    assert f.time({"at": f.iso(at)}, "at", W) == at
    assert f.iso(dt.date(2026, 11, 24)) == "2026-11-24"
    assert f.iso(None) is None


def test_count_has_no_minimum_unless_given() -> None:
    assert f.count({"n": 0}, "n", W) == 0


@pytest.mark.parametrize("read", [f.decimal, f.text, f.time, f.date])
def test_every_reader_names_what_lacks_the_key(read: Any) -> None:
    with corrupt(f"{W} lacks 'k'"):
        read({}, "k", W)


def test_date_names_the_field_that_is_not_a_string() -> None:
    with corrupt(f"{W}.d 20261124 must be a string"):
        f.date({"d": 20261124}, "d", W)


@pytest.mark.parametrize(("read", "data"), [
    (lambda d: f.mapping(d, W), [1]),
    (lambda d: f.field(d, "k", W), {}),
    (lambda d: f.count(d, "k", W), {"k": -1}),
    (lambda d: f.decimal(d, "k", W), {"k": 1}),
    (lambda d: f.decimal(d, "k", W), {"k": "x"}),
    (lambda d: f.decimal(d, "k", W), {"k": "NaN"}),
    (lambda d: f.text(d, "k", W), {"k": 1}),
    (lambda d: f.time(d, "k", W), {"k": "yesterday"}),
    (lambda d: f.time(d, "k", W), {"k": "2026-11-24T16:00:00"}),
    (lambda d: f.date(d, "k", W), {"k": "soon"}),
], ids=["mapping", "field", "count", "decimal-type", "decimal-number", "decimal-finite", "text", "time-iso", "time-naive", "date"])
def test_every_refusal_is_malformed(read: Any, data: object) -> None:
    with pytest.raises(StateCorrupt) as caught:
        read(data)
    assert caught.value.reason == "malformed"
