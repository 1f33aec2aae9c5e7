"""SimBroker's reports are built without their validators: each must be what the validating constructor builds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from statebot import FaultPlan, Fill, OrderRequest, OrderStatus, SimBroker
from statebot.core.orders import BracketOrder
from statebot.core.time.clock import Bar
from statebot.errors import ConfigError
from tests.positions_helpers import T0


def _bars(n: int) -> list[Bar]:
    out = []
    for i in range(1, n + 1):
        mid = 5000.0 + (i % 7) - 3
        out.append(Bar(symbol="MES", end=T0 + dt.timedelta(minutes=i), open=mid, high=mid + 2.0, low=mid - 2.0, close=mid))
    return out


def test_every_report_equals_the_validated_report_of_the_same_fields() -> None:
    sim = SimBroker(start=T0, seed=5, faults=FaultPlan(partial_p=0.5, stale_status_p=0.5, duplicate_p=0.3))
    reports: list[object] = []
    for i, bar in enumerate(_bars(40)):
        if i % 5 == 0:
            entry = OrderRequest(client_order_id=f"e{i}", strategy="s", symbol="MES", qty=3 if i % 2 else -3)
            sim.submit_bracket(BracketOrder.around(entry, stop_ticks=20000 - 8 * entry.side,
                                                   target_ticks=20000 + 8 * entry.side))
        if i % 5 == 3:
            sim.cancel_all()
        sim.on_bar(bar)
        reports.extend(sim.drain())
    kinds = {type(r) for r in reports}
    assert kinds == {Fill, OrderStatus}
    assert {r.status for r in reports if isinstance(r, OrderStatus)} >= {"ACCEPTED", "FILLED", "CANCELLED"}
    for report in reports:
        rebuilt = attrs.evolve(report)  # through __init__: every validator and converter
        assert rebuilt == report and repr(rebuilt) == repr(report) and hash(rebuilt) == hash(report)


class IntCommission:
    """A commission model that returns whole dollars as an int (or a negative amount, when asked)."""

    def __init__(self, sign: int = 1) -> None:
        self.sign = sign

    def per_side(self, symbol: str, qty: int, *, month_volume: int = 0) -> int:
        return self.sign * qty


def test_a_commission_model_s_int_goes_through_the_fill_s_converter_and_a_negative_one_is_refused() -> None:
    sim = SimBroker(start=T0, commission=IntCommission())  # type: ignore[arg-type]
    sim.submit(OrderRequest(client_order_id="b", strategy="s", symbol="MES", qty=2))
    (fill,) = sim.on_bar(_bars(1)[0])
    assert fill.commission.__class__ is Decimal and fill.commission == Decimal(2)
    bad = SimBroker(start=T0, commission=IntCommission(-1))  # type: ignore[arg-type]
    bad.submit(OrderRequest(client_order_id="b", strategy="s", symbol="MES", qty=2))
    with pytest.raises(ConfigError, match="commission"):
        bad.on_bar(_bars(1)[0])
