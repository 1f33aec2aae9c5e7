"""The bracket an entry records: read from its payload, priced at the fill, kept through a checkpoint."""

from __future__ import annotations

import types
from decimal import Decimal

import pytest

from statebot.core.engine.fold import Bracket, entry_bracket, update_bracket


def test_an_entry_without_a_stop_records_no_bracket() -> None:
    assert entry_bracket({"qty": 1}) is None and entry_bracket({"qty": 1, "stop_ticks": None}) is None


def test_a_long_entrys_bracket_reads_each_distance_as_an_integer_and_the_slippage_as_decimal() -> None:
    b = entry_bracket({"qty": 2, "stop_ticks": "8", "target_ticks": 12, "expected_slippage_ticks": "0.5",
                       "ref_ticks": "-20004"})
    assert b == Bracket(side=1, stop_ticks=8, target_ticks=12, expected_slippage_ticks=Decimal("0.5"),
                        entry_ref_ticks=-20004)


def test_a_one_lot_short_entrys_bracket_is_short_with_no_target_no_ref_and_no_slippage() -> None:
    assert entry_bracket({"qty": -1, "stop_ticks": 8}) == Bracket(
        side=-1, stop_ticks=8, target_ticks=None, expected_slippage_ticks=Decimal("0"), entry_ref_ticks=None)
    assert entry_bracket({"qty": 1, "stop_ticks": 8}).side == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("payload, message", [
    ({"qty": "two", "stop_ticks": 8}, "qty 'two' is not an integer"),
    ({"qty": True, "stop_ticks": 8}, "qty True is not an integer"),
    ({"qty": "X2", "stop_ticks": 8}, "qty 'X2' is not an integer"),
    ({"qty": 1, "stop_ticks": 8.5}, "stop_ticks 8.5 is not an integer"),
    ({"qty": 1, "stop_ticks": 8, "target_ticks": "x"}, "target_ticks 'x' is not an integer"),
    ({"qty": 1, "stop_ticks": 8, "ref_ticks": "1.5"}, "ref_ticks '1.5' is not an integer"),
])
def test_a_distance_that_is_not_an_integer_is_refused_naming_it(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        entry_bracket(payload)
    assert str(caught.value) == message


def test_prices_sit_the_stop_and_target_distances_either_side_of_the_entry() -> None:
    tick = Decimal("0.25")
    long = Bracket(side=1, stop_ticks=8, target_ticks=12, expected_slippage_ticks=Decimal(0), entry_ref_ticks=None)
    assert long.prices_at(Decimal("5000"), tick) == (Decimal("4998.00"), Decimal("5003.00"))
    short = attrs_evolve(long, side=-1, target_ticks=None)
    assert short.prices_at(Decimal("5000"), tick) == (Decimal("5002.00"), None)


def attrs_evolve(b: Bracket, **changes: object) -> Bracket:
    import attrs

    return attrs.evolve(b, **changes)


def machine(avg: int | None, qty: int) -> types.SimpleNamespace:
    return types.SimpleNamespace(avg_entry_ticks=avg, qty=qty, instrument=types.SimpleNamespace(tick_size=Decimal("0.25")))


def test_a_filled_bracket_is_priced_from_the_average_entry_in_ticks() -> None:
    b = Bracket(side=-1, stop_ticks=8, target_ticks=12, expected_slippage_ticks=Decimal(0), entry_ref_ticks=None)
    update_bracket(b, machine(20000, -2))
    assert (b.stop_price, b.target_price) == (5002.0, 4997.0)
    no_target = attrs_evolve(b, target_ticks=None, stop_price=None, target_price=None)
    update_bracket(no_target, machine(20000, 1))
    assert (no_target.stop_price, no_target.target_price) == (5002.0, None)


@pytest.mark.parametrize("avg, qty", [(None, 1), (20000, 0)])
def test_a_bracket_of_a_flat_or_unfilled_position_keeps_no_prices(avg: int | None, qty: int) -> None:
    b = Bracket(side=1, stop_ticks=8, target_ticks=12, expected_slippage_ticks=Decimal(0), entry_ref_ticks=None)
    update_bracket(b, machine(avg, qty))
    assert (b.stop_price, b.target_price) == (None, None)
    update_bracket(None, machine(20000, 1))  # no bracket: nothing to price


def test_a_bracket_survives_a_checkpoint_round_trip() -> None:
    b = Bracket(side=-1, stop_ticks=8, target_ticks=None, expected_slippage_ticks=Decimal("1.25"),
                entry_ref_ticks=20010, exit_ref_ticks=19990)
    d = b.to_dict("s1", "MES")
    assert d == {"strategy": "s1", "symbol": "MES", "side": -1, "stop_ticks": 8, "target_ticks": None,
                 "expected_slippage_ticks": "1.25", "entry_ref_ticks": 20010, "exit_ref_ticks": 19990}
    assert Bracket.from_dict({**d, "side": "-1", "stop_ticks": "8"}) == b
    with_target = attrs_evolve(b, target_ticks=12)
    assert Bracket.from_dict(with_target.to_dict("s1", "MES")) == with_target
