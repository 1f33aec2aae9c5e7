"""Every value an order, a status, a fill or a bracket refuses, each with the message that names it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import attrs
import pytest

from statebot.core.orders import (
    ORDER_KINDS,
    GTC,
    LIMIT,
    PROTECT,
    STOP,
    BracketOrder,
    Fill,
    OrderRequest,
    OrderStatus,
    _exactly,
    _one_of,
)
from statebot.errors import BarRejected, ConfigError

AT = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)


class IntLike(int):
    """An int subclass: not the exact type the validators' fast path accepts."""


class StrLike(str):
    pass


def order(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = dict(client_order_id="o1", strategy="s", symbol="MES", qty=1)
    return OrderRequest(**(fields | changes))


def status(**changes: Any) -> OrderStatus:
    fields: dict[str, Any] = dict(order_id="o1", status="ACCEPTED", filled=0, remaining=1, at=AT)
    return OrderStatus(**(fields | changes))


def fill(**changes: Any) -> Fill:
    fields: dict[str, Any] = dict(exec_id="e1", order_id="o1", strategy="s", symbol="MES", qty=1,
                                  price_ticks=24000, commission=Decimal("0.62"), at=AT)
    return Fill(**(fields | changes))


def refused(match: str) -> Any:
    return pytest.raises(ConfigError, match="^" + re.escape(match) + "$")


# -- the fields ---------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, True, 1.0, "1", None])
def test_an_order_qty_must_be_a_non_zero_int(qty: object) -> None:
    with refused(f"qty {qty!r} must be a non-zero signed integer (buy > 0, sell < 0)"):
        order(qty=qty)


@pytest.mark.parametrize("qty", [IntLike(2), IntLike(-3)])
def test_an_int_subclass_qty_is_accepted(qty: int) -> None:
    assert order(qty=qty).qty == qty


def test_an_int_subclass_zero_qty_is_refused() -> None:
    with refused("qty 0 must be a non-zero signed integer (buy > 0, sell < 0)"):
        order(qty=IntLike(0))


@pytest.mark.parametrize("key", ["client_order_id", "symbol"])
@pytest.mark.parametrize("value", ["", None, 7])
def test_an_id_or_symbol_must_be_a_non_empty_string(key: str, value: object) -> None:
    with refused(f"{key} {value!r} must be a non-empty string"):
        order(**{key: value})


def test_a_str_subclass_id_is_accepted_and_an_empty_one_is_not() -> None:
    assert order(client_order_id=StrLike("x")).client_order_id == "x"
    with refused("client_order_id '' must be a non-empty string"):
        order(client_order_id=StrLike(""))


def test_the_strategy_may_be_empty_but_must_be_a_string() -> None:
    assert order(strategy="").strategy == ""
    with pytest.raises(TypeError, match="'strategy' must be <class 'str'>"):
        order(strategy=3)


@pytest.mark.parametrize("key", ["limit_ticks", "stop_ticks"])
@pytest.mark.parametrize("value", [True, 1.5, "10"])
def test_a_price_must_be_an_integer_number_of_ticks(key: str, value: object) -> None:
    with refused(f"{key} {value!r} must be an integer number of ticks"):
        order(**{key: value}, kind=LIMIT if key == "limit_ticks" else STOP)


@pytest.mark.parametrize(("key", "value"), [("kind", "STOP_LIMIT"), ("purpose", "hedge"), ("tif", "IOC"), ("kind", "market")])
def test_kind_purpose_and_tif_are_one_of_theirs(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"'{key}' must be in"):
        order(**{key: value})


@pytest.mark.parametrize("key", ["parent_id", "oca_group"])
def test_a_parent_or_oca_group_is_none_or_a_non_empty_string(key: str) -> None:
    with refused(f"{key} '' must be a non-empty string"):
        order(**{key: ""}, purpose=PROTECT, kind=STOP, stop_ticks=1)


# -- the combinations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(purpose=PROTECT), "protective order 'o1' must be a STOP or a LIMIT, not MARKET"),
        (dict(parent_id="p"), "order 'o1' has a parent; only protective orders do"),
        (dict(kind=LIMIT), "LIMIT order 'o1' needs limit_ticks"),
        (dict(kind=STOP), "STOP order 'o1' needs stop_ticks"),
        (dict(limit_ticks=5), "MARKET order 'o1' takes no limit or stop price"),
        (dict(stop_ticks=5), "MARKET order 'o1' takes no limit or stop price"),
        (dict(kind=LIMIT, limit_ticks=5, stop_ticks=4), "LIMIT order 'o1' takes no stop_ticks (stop-limit is not supported)"),
        (dict(kind=STOP, stop_ticks=5, limit_ticks=6),
         "STOP order 'o1' takes no limit_ticks (stop-limit is not supported; it would be filled as a stop-market)"),
    ],
)
def test_an_order_refuses_fields_its_kind_or_purpose_cannot_use(changes: dict[str, Any], message: str) -> None:
    with refused(message):
        order(**changes)


@pytest.mark.parametrize(("qty", "side"), [(1, 1), (7, 1), (-1, -1), (-4, -1)])
def test_side_is_the_sign_of_qty(qty: int, side: int) -> None:
    assert order(qty=qty).side == side


# -- status and fill -----------------------------------------------------------


@pytest.mark.parametrize("key", ["filled", "remaining"])
@pytest.mark.parametrize("value", [-1, True, 1.0, None])
def test_status_counts_are_ints_at_least_0(key: str, value: object) -> None:
    with refused(f"{key} {value!r} must be an integer >= 0"):
        status(**{key: value})


def test_a_status_count_may_be_0_or_an_int_subclass() -> None:
    assert status(filled=IntLike(0), remaining=0).filled == 0


def test_a_status_time_must_be_aware() -> None:
    with pytest.raises(Exception, match="naive"):
        status(at=AT.replace(tzinfo=None))


def test_a_status_must_be_a_known_one() -> None:
    with pytest.raises(ValueError, match="'status' must be in"):
        status(status="accepted")


@pytest.mark.parametrize(("name", "terminal"), [("SUBMITTED", False), ("ACCEPTED", False), ("PARTIALLY_FILLED", False),
                                                ("FILLED", True), ("CANCELLED", True), ("REJECTED", True)])
def test_terminal_statuses(name: str, terminal: bool) -> None:
    assert status(status=name).terminal is terminal


@pytest.mark.parametrize("commission", [Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity")])
def test_a_fill_commission_must_be_finite_and_not_negative(commission: Decimal) -> None:
    with pytest.raises(ConfigError, match="commission"):
        fill(commission=commission)


def test_a_fill_commission_is_kept_exactly() -> None:
    assert fill(commission=Decimal("0.6200")).commission == Decimal("0.6200")
    assert fill(commission=0).commission == Decimal(0)


def test_a_fill_price_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="'price_ticks' must be <class 'int'>"):
        fill(price_ticks=24000.0)
    assert fill(price_ticks=IntLike(5)).price_ticks == 5


# -- brackets -------------------------------------------------------------------


def entry(qty: int = 2) -> OrderRequest:
    return order(client_order_id="e", qty=qty)


def test_around_builds_the_children_it_documents() -> None:
    b = BracketOrder.around(entry(2), stop_ticks=90, target_ticks=120)
    assert [o.client_order_id for o in b.orders] == ["e", "e-stop", "e-target"]
    for child in b.protectors:
        assert (child.qty, child.purpose, child.tif, child.parent_id, child.oca_group) == (-2, PROTECT, GTC, "e", "oca-e")
    assert (b.stop.kind, b.stop.stop_ticks, b.stop.limit_ticks) == (STOP, 90, None)
    assert (b.target is not None and (b.target.kind, b.target.limit_ticks, b.target.stop_ticks)) == (LIMIT, 120, None)
    assert BracketOrder.around(entry(2), stop_ticks=90).protectors == (BracketOrder.around(entry(2), stop_ticks=90).stop,)


def child(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = dict(client_order_id="e-stop", qty=-2, kind=STOP, stop_ticks=90, purpose=PROTECT,
                                  tif=GTC, parent_id="e", oca_group="oca-e")
    return order(**(fields | changes))


@pytest.mark.parametrize(
    "changes",
    [dict(qty=-1), dict(qty=2), dict(symbol="ES"), dict(strategy="other"), dict(tif="DAY"), dict(parent_id="x")],
)
def test_a_bracket_child_must_close_exactly_what_its_entry_opens(changes: dict[str, Any]) -> None:
    with refused("bracket 'e': child 'e-stop' must be a GTC protective order of s/MES for -2, parent 'e'"):
        BracketOrder(entry=entry(2), stop=child(**changes))


def test_a_bracket_entry_must_be_an_entry() -> None:
    with refused("bracket entry 'e' must be an entry order without a parent"):
        BracketOrder(entry=order(client_order_id="e", qty=2, purpose="exit"), stop=child())


def test_a_bracket_stop_must_be_a_stop_and_its_target_a_limit() -> None:
    with refused("bracket 'e': the stop must be a STOP and the target a LIMIT"):
        BracketOrder(entry=entry(), stop=child(kind=LIMIT, stop_ticks=None, limit_ticks=90))
    with refused("bracket 'e': the stop must be a STOP and the target a LIMIT"):
        BracketOrder(entry=entry(), stop=child(), target=child(client_order_id="e-t"))


@pytest.mark.parametrize("groups", [(None, None), ("oca-e", "other"), (None, "oca-e")])
def test_a_bracket_stop_and_target_share_one_oca_group(groups: tuple[str | None, str | None]) -> None:
    with refused("bracket 'e': the stop and target must share one OCA group"):
        BracketOrder(entry=entry(), stop=child(oca_group=groups[0]),
                     target=child(client_order_id="e-t", kind=LIMIT, stop_ticks=None, limit_ticks=120, oca_group=groups[1]))


@pytest.mark.parametrize("ids", [("e", "e-t"), ("e-s", "e-s")])
def test_a_bracket_uses_each_order_id_once(ids: tuple[str, str]) -> None:
    with refused(f"bracket 'e': order id {ids[1] if ids[0] != 'e' else 'e'!r} is used twice"):
        BracketOrder(entry=entry(), stop=child(client_order_id=ids[0]),
                     target=child(client_order_id=ids[1], kind=LIMIT, stop_ticks=None, limit_ticks=120))


@pytest.mark.parametrize(("qty", "stop", "target", "ok"), [
    (2, 90, 120, True), (2, 90, 91, True), (2, 90, 90, False), (2, 90, 80, False),
    (-2, 110, 80, True), (-2, 110, 109, True), (-2, 110, 110, False), (-2, 110, 120, False),
])
def test_a_bracket_target_lies_on_the_winning_side_of_its_stop(qty: int, stop: int, target: int, ok: bool) -> None:
    if ok:
        assert BracketOrder.around(entry(qty), stop_ticks=stop, target_ticks=target).target is not None
    else:
        with refused(f"bracket 'e': the target {target} must lie on the winning side of the stop {stop}"):
            BracketOrder.around(entry(qty), stop_ticks=stop, target_ticks=target)


# -- the times and the commission, by name ----------------------------------------


class NoOffset(dt.tzinfo):
    """A zone that gives no offset: a time in it is as naive as one with no zone."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None


@pytest.mark.parametrize("make", [status, fill])
def test_a_time_in_a_zone_without_an_offset_is_naive(make: Any) -> None:
    with pytest.raises(BarRejected, match=re.escape("at 2026-11-24T15:00:00 is naive; statebot needs timezone-aware times") + "$"):
        make(at=AT.replace(tzinfo=NoOffset()))


@pytest.mark.parametrize("make", [status, fill])
def test_an_aware_clock_time_is_not_a_datetime(make: Any) -> None:
    value = dt.time(15, tzinfo=dt.timezone.utc)
    with pytest.raises(BarRejected, match=re.escape(f"at {value!r} is not a datetime") + "$"):
        make(at=value)


def test_a_fill_commission_refusal_names_the_commission() -> None:
    with refused("commission Decimal('-0.01') must not be negative"):
        fill(commission=Decimal("-0.01"))
    with refused("commission 'x' is not a number"):
        fill(commission="x")


# -- the validator factories (run when the classes are built), called afresh ---------


def test_exactly_skips_its_check_only_for_the_exact_type() -> None:
    calls: list[tuple[object, object, object]] = []
    validate = _exactly(int, lambda instance, attribute, value: calls.append((instance, attribute, value)))
    validate("self", "attr", 3)
    assert calls == []
    for value in [IntLike(3), True, "3"]:
        validate("self", "attr", value)
    assert calls == [("self", "attr", IntLike(3)), ("self", "attr", True), ("self", "attr", "3")]


def test_one_of_refuses_with_the_attrs_error_what_is_not_exactly_an_option() -> None:
    kind = attrs.fields(OrderRequest).kind
    validate = _one_of(ORDER_KINDS)
    validate(None, kind, "LIMIT")
    validate(None, kind, StrLike("LIMIT"))
    for value in ["LIMT", StrLike("limit"), 5, None]:
        message = f"'kind' must be in ('MARKET', 'LIMIT', 'STOP') (got {value!r})"
        with pytest.raises(ValueError) as caught:
            validate(None, kind, value)
        assert caught.value.args[0] == message
