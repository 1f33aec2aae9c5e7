"""Durations as people write them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import ConfigError, parse_duration
from statebot.core.time.durations import format_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5m", dt.timedelta(minutes=5)), ("90s", dt.timedelta(seconds=90)), ("1h30m", dt.timedelta(minutes=90)), ("0", dt.timedelta(0)), ("2d", dt.timedelta(days=2)), ("250ms", dt.timedelta(milliseconds=250))],
)
def test_parses_common_forms(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "m5", "-5m", "5 m", "5mm", "1.5h", "five"])
def test_rejects_anything_else_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**7))
def test_format_then_parse_round_trips_whole_seconds(seconds: int) -> None:
    value = dt.timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value
