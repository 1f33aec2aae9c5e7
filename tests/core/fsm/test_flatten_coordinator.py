"""The flatten coordinator: a flatten ends only when the venue answered flat and the book holds nothing."""

from __future__ import annotations

import itertools

import pytest

from statebot.core.fsm.flatten import FLATTENING, IDLE, FlattenCoordinator
from statebot.errors import InvalidTransition


@pytest.mark.invariant("FLATTENING returns to IDLE only when the venue answered flat and no position machine holds anything",
                       machine="flatten")
@pytest.mark.parametrize(("venue_flat", "book_flat"), list(itertools.product((True, False), repeat=2)))
def test_a_flatten_ends_only_when_venue_and_book_are_flat(venue_flat: bool, book_flat: bool) -> None:
    f = FlattenCoordinator()
    f.start()
    ended = f.finish(venue_flat=venue_flat, book_flat=book_flat)
    assert ended is (venue_flat and book_flat)
    assert f.state == (IDLE if ended else FLATTENING)
    assert f.flattening is not ended


@pytest.mark.invariant("a flatten asked while one is under way is the same flatten", machine="flatten")
def test_asking_again_while_flattening_is_the_same_flatten() -> None:
    f = FlattenCoordinator()
    assert f.start() is True
    assert f.start() is False
    assert f.state == FLATTENING


def test_finishing_without_a_flatten_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition, match="flatten: trigger 'done' is not allowed in state IDLE"):
        FlattenCoordinator().finish(venue_flat=True, book_flat=True)
