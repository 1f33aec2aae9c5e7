"""Order, status and fill values: validated at construction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statebot import BarRejected, ConfigError, Fill, OrderRequest, OrderStatus
from tests.positions_helpers import at


def test_zero_or_fractional_quantity_is_refused() -> None:
    for qty in (0, 1.0, True):
        with pytest.raises(ConfigError, match="qty"):
            OrderRequest(client_order_id="o", strategy="s", symbol="MES", qty=qty)  # type: ignore[arg-type]


def test_limit_order_needs_a_limit_and_market_order_takes_none() -> None:
    with pytest.raises(ConfigError, match="limit_ticks"):
        OrderRequest(client_order_id="o", strategy="s", symbol="MES", qty=1, kind="LIMIT")
    with pytest.raises(ConfigError, match="MARKET"):
        OrderRequest(client_order_id="o", strategy="s", symbol="MES", qty=1, stop_ticks=5)


def test_unknown_purpose_is_refused() -> None:
    with pytest.raises(ValueError):
        OrderRequest(client_order_id="o", strategy="s", symbol="MES", qty=1, purpose="hedge")


def test_sell_side_is_minus_one() -> None:
    assert OrderRequest(client_order_id="o", strategy="s", symbol="MES", qty=-2).side == -1


def test_fill_refuses_a_naive_time_and_a_float_commission() -> None:
    kw = {"exec_id": "x", "order_id": "o", "strategy": "s", "symbol": "MES", "qty": 1, "price_ticks": 1}
    with pytest.raises(BarRejected, match="naive"):
        Fill(**kw, commission=Decimal("0.57"), at=dt.datetime(2026, 11, 24, 15, 0))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="float"):
        Fill(**kw, commission=0.57, at=at())  # type: ignore[arg-type]


def test_terminal_statuses_are_filled_cancelled_rejected() -> None:
    def s(name: str) -> OrderStatus:
        return OrderStatus(order_id="o", status=name, filled=0, remaining=1, at=at())

    assert [n for n in ("SUBMITTED", "ACCEPTED", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED")
            if s(n).terminal] == ["FILLED", "CANCELLED", "REJECTED"]


@pytest.mark.parametrize("kind, prices", [("STOP", {"stop_ticks": 20004, "limit_ticks": 20004}),
                                          ("LIMIT", {"limit_ticks": 20004, "stop_ticks": 20000})])
def test_an_order_refuses_a_price_field_its_kind_does_not_use(kind: str, prices: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="takes no"):
        OrderRequest(client_order_id="a", strategy="s", symbol="MES", qty=1, kind=kind, **prices)  # type: ignore[arg-type]
