"""How a price rounds to ticks: halves away from zero, the same for a float as for its Decimal."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from statebot import InstrumentSpec, OffTickPrice


def spec(**changes: Any) -> InstrumentSpec:
    fields: dict[str, Any] = dict(symbol="XYZ", tick_size="0.25", tick_value="1.25", multiplier="5")
    return InstrumentSpec(**(fields | changes))


def test_a_float_just_under_half_a_tick_is_no_tick_as_its_decimal_is() -> None:
    below = math.nextafter(0.125, 0.0)   # 0.12499999999999999: q + 0.5 rounds up to 1.0 in floats
    with pytest.raises(OffTickPrice, match=r"^XYZ price 0\.12499999999999999 is 0 ticks of 0\.25; XYZ prices are positive$"):
        spec().to_ticks(below)
    anywhere = spec(nonpositive_prices=True)
    assert anywhere.to_ticks(below) == 0 == anywhere.to_ticks(Decimal(repr(below)))
    assert anywhere.to_ticks(-below) == 0 == anywhere.to_ticks(Decimal(repr(-below)))
    assert anywhere.to_ticks(0.125) == 1 and anywhere.to_ticks(-0.125) == -1
