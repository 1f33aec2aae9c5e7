"""Reconciliation: mismatches are reported, never adopted; adoption only in OBSERVE mode."""

from __future__ import annotations

import pytest

from statebot import (
    OPEN,
    Adopted,
    ConfigError,
    InvalidTransition,
    Mismatch,
    PositionBook,
    PositionMismatch,
    SimBroker,
    adopt_broker_positions,
    check_positions,
    reconcile,
)
from tests.positions_helpers import T0, at, bar, fill, order


def test_equal_positions_have_no_mismatch_and_zero_equals_missing() -> None:
    assert reconcile({"MES": 2}, {"MES": 2, "ES": 0}) == ()


def test_each_differing_symbol_is_one_mismatch() -> None:
    assert reconcile({"MES": 2, "ES": -1}, {"MES": 1, "NQ": 3}) == (
        Mismatch(symbol="ES", expected=-1, actual=0),
        Mismatch(symbol="MES", expected=2, actual=1),
        Mismatch(symbol="NQ", expected=0, actual=3),
    )


@pytest.mark.invariant("a broker position the machines do not expect is reported, never adopted", machine="position")
def test_check_positions_raises_and_leaves_the_book_alone() -> None:
    book = PositionBook()
    sim = SimBroker(start=T0)
    sim.submit(order(1, strategy="outsider"))
    sim.on_bar(bar(1))
    with pytest.raises(PositionMismatch, match="MES expected 0 broker 1"):
        check_positions(book, sim)
    assert book.expected_positions() == {}


def test_book_sums_strategies_per_symbol() -> None:
    book = PositionBook()
    for strategy, qty in (("a", 2), ("b", -1)):
        m = book.machine(strategy, "MES")
        o = order(qty, strategy=strategy)
        m.submit_entry(o)
        m.on_fill(fill(o, qty))
    assert book.expected_positions() == {"MES": 1}


def test_adoption_is_refused_outside_observe_mode() -> None:
    with pytest.raises(ConfigError, match="OBSERVE"):
        adopt_broker_positions(PositionBook(), {"MES": 1}, strategy="s", prices_ticks={"MES": 1}, at=at(), mode="LIVE")


def test_adoption_in_observe_mode_opens_the_machines_and_reports_each() -> None:
    book = PositionBook()
    adopted = adopt_broker_positions(book, {"MES": -2, "ES": 0}, strategy="s", prices_ticks={"MES": 20000},
                                     at=at(), mode="OBSERVE")
    assert [(a.symbol, a.qty) for a in adopted] == [("MES", -2)]
    m = book.machine("s", "MES")
    assert (m.state, m.qty, m.avg_entry_ticks) == (OPEN, -2, 20000)
    assert reconcile(book.expected_positions(), {"MES": -2}) == ()


def test_adoption_needs_a_reference_price() -> None:
    with pytest.raises(ConfigError, match="reference price"):
        adopt_broker_positions(PositionBook(), {"MES": 1}, strategy="s", prices_ticks={}, at=at(), mode="OBSERVE")


def test_adoption_refused_for_one_symbol_adopts_nothing() -> None:
    book = PositionBook()
    with pytest.raises(ConfigError, match="no reference price"):
        adopt_broker_positions(book, {"ES": 1, "MES": -2}, strategy="s", prices_ticks={"ES": 24000}, at=T0,
                               mode="OBSERVE")
    assert book.expected_positions() == {} and all(m.state != OPEN for m in book.machines())


def test_adoption_refused_by_a_machine_already_holding_adopts_nothing() -> None:
    book = PositionBook()
    adopt_broker_positions(book, {"MES": 1}, strategy="s", prices_ticks={"MES": 20000}, at=T0, mode="OBSERVE")
    with pytest.raises(InvalidTransition):
        adopt_broker_positions(book, {"ES": 1, "MES": 1}, strategy="s", prices_ticks={"ES": 24000, "MES": 20000},
                               at=T0, mode="OBSERVE")
    assert book.expected_positions() == {"MES": 1}


def test_adoption_refused_by_a_holding_machine_names_the_machine_its_state_and_the_trigger() -> None:
    book = PositionBook()
    adopt_broker_positions(book, {"MES": 1}, strategy="s", prices_ticks={"MES": 20000}, at=T0, mode="OBSERVE")
    with pytest.raises(InvalidTransition) as refused:
        adopt_broker_positions(book, {"MES": 1}, strategy="s", prices_ticks={"MES": 20000}, at=T0, mode="OBSERVE")
    assert (refused.value.machine, refused.value.state, refused.value.trigger) == ("position", OPEN, "adopt")
    assert str(refused.value) == "position: trigger 'adopt' is not allowed in state OPEN"


def test_each_adoption_record_states_strategy_symbol_quantity_reference_price_and_time() -> None:
    book = PositionBook()
    adopted = adopt_broker_positions(book, {"MES": -2, "ES": 3}, strategy="observer",
                                     prices_ticks={"MES": 20000, "ES": 24000}, at=at(5), mode="OBSERVE")
    assert adopted == (
        Adopted(strategy="observer", symbol="ES", qty=3, price_ticks=24000, at=at(5)),
        Adopted(strategy="observer", symbol="MES", qty=-2, price_ticks=20000, at=at(5)),
    )


def test_an_adopted_position_is_held_since_the_adoption_time() -> None:
    book = PositionBook()
    adopt_broker_positions(book, {"MES": 1}, strategy="s", prices_ticks={"MES": 20000}, at=at(5), mode="OBSERVE")
    assert book.machine("s", "MES").opened_at == at(5)
