"""MES/ES front month: quarterly months, third-Friday expiry, roll on the second Thursday before it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.venues.ibkr.contracts import (
    QUARTERLY_MONTHS,
    front_month,
    last_trade_date,
    quarterly_contract,
    third_friday,
)
from statebot.errors import ConfigError

session_dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))


def test_third_fridays_of_the_2026_quarters() -> None:
    assert [third_friday(2026, m) for m in QUARTERLY_MONTHS] == [
        dt.date(2026, 3, 20),
        dt.date(2026, 6, 19),
        dt.date(2026, 9, 18),
        dt.date(2026, 12, 18),
    ]


def test_the_day_before_the_roll_trades_the_expiring_contract() -> None:
    assert front_month("MES", dt.date(2026, 12, 9)).local_symbol == "MESZ6"


def test_the_roll_is_the_second_thursday_before_the_third_friday() -> None:
    contract = front_month("MES", dt.date(2026, 12, 10))
    assert contract.local_symbol == "MESH7"
    assert quarterly_contract("MES", 2026, 12).roll_date == dt.date(2026, 12, 10)
    assert dt.date(2026, 12, 10).weekday() == 3


def test_juneteenth_2026_moves_the_june_expiry_to_thursday() -> None:
    assert last_trade_date(2026, 6) == dt.date(2026, 6, 18)
    assert quarterly_contract("ES", 2026, 6).roll_date == dt.date(2026, 6, 11)


def test_good_friday_2008_moved_the_march_expiry_to_thursday() -> None:
    assert last_trade_date(2008, 3) == dt.date(2008, 3, 20)


def test_an_ordinary_quarter_expires_on_its_third_friday() -> None:
    assert last_trade_date(2026, 9) == dt.date(2026, 9, 18)


def test_ib_names_of_the_december_2026_micro() -> None:
    contract = front_month("MES", dt.date(2026, 11, 24))
    assert (contract.local_symbol, contract.contract_month, contract.month_code, contract.exchange) == ("MESZ6", "202612", "Z", "CME")


def test_a_roll_of_zero_days_trades_the_contract_until_its_last_day() -> None:
    assert front_month("MES", dt.date(2026, 12, 17), roll_days=0).local_symbol == "MESZ6"
    assert front_month("MES", dt.date(2026, 12, 18), roll_days=0).local_symbol == "MESH7"


@pytest.mark.parametrize(
    "call",
    [
        lambda: front_month("CL", dt.date(2026, 11, 24)),
        lambda: front_month("MES", dt.date(2026, 11, 24), roll_days=-1),
        lambda: front_month("MES", dt.datetime(2026, 11, 24, 15, tzinfo=dt.timezone.utc)),  # type: ignore[arg-type]
        lambda: quarterly_contract("MES", 2026, 11),
    ],
    ids=["unknown symbol", "negative roll", "datetime not date", "monthly contract"],
)
def test_bad_input_is_a_config_error(call: object) -> None:
    with pytest.raises(ConfigError):
        call()  # type: ignore[operator]


@given(session_dates, st.sampled_from(["MES", "ES"]), st.integers(min_value=0, max_value=30))
def test_the_front_month_is_the_nearest_contract_not_yet_rolled(on: dt.date, symbol: str, roll_days: int) -> None:
    """The chosen contract's roll date is after ``on``; the quarter before it has rolled on or before ``on``;
    the chosen contract still trades after ``on``."""
    contract = front_month(symbol, on, roll_days=roll_days)
    assert contract.month in QUARTERLY_MONTHS
    assert contract.roll_date > on
    assert contract.last_trade_date >= on
    prev_year, prev_month = (contract.year - 1, 12) if contract.month == 3 else (contract.year, contract.month - 3)
    assert third_friday(prev_year, prev_month) - dt.timedelta(days=roll_days) <= on


@given(session_dates, st.integers(min_value=1, max_value=120))
def test_the_front_month_never_goes_back_in_time(on: dt.date, days: int) -> None:
    """Later dates never select an earlier contract."""
    earlier, later = front_month("MES", on), front_month("MES", on + dt.timedelta(days=days))
    assert (earlier.year, earlier.month) <= (later.year, later.month)
