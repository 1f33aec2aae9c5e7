"""Prices a feed must not pass on: the check between a feed and the runner.

A ``Bar`` is already finite, positive and consistent (high >= open, close, low).
``PriceGuard.check(bar)`` adds what needs the instrument and the recent past:

- every price becomes whole ticks (``InstrumentSpec.to_ticks``): a price that
  is not finite, or that is not zero but rounds to 0 ticks (0.01 on MES), is
  refused (``bad_price``) whatever the settings say;
- a jump: the bar's farthest price (high or low) lies more than
  ``max_jump_ranges`` times the mean range of the last ``window`` accepted
  bars (at least one tick) from the previous accepted close. Checked once
  ``window // 4`` bars (at least 2) were accepted. ``on_jump`` says what
  happens: ``"refuse"`` (``price_jump``: the bar is not traded on) or
  ``"flag"`` (the bar is used, and the problem reported). A new level that
  holds is a real gap, not a bad print: a bar that jumps from the last
  accepted close but not from the refused bar before it is accepted, and the
  guard follows it.

The guard never changes a bar and holds a few ints per bar of ``window``; it
does not know about the runner or the event log. The caller decides what a
refused bar does (simulations and the live loop still advance the clock to its
end, so a data problem cannot keep a session from flattening).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Literal

import attrs

from statebot.core.instruments import InstrumentSpec
from statebot.core.time.clock import Bar
from statebot.errors import ConfigError, OffTickPrice

BAD_PRICE = "bad_price"
PRICE_JUMP = "price_jump"

JumpAction = Literal["refuse", "flag"]


@attrs.frozen(kw_only=True)
class PriceProblem:
    """Why a bar's prices are suspect: ``reason`` (``bad_price`` / ``price_jump``), ``detail`` for
    people, and whether the bar is ``refused`` (False: flagged, the bar is used)."""

    reason: str
    detail: str
    refused: bool


class PriceGuard:
    """Checks each bar of one instrument's stream in order; see the module docstring.

    ``max_jump_ranges`` > 0 (``None`` or 0: no jump check), ``window`` >= 1 bars.
    Bad settings raise ``ConfigError``.
    """

    def __init__(self, spec: InstrumentSpec, *, max_jump_ranges: Decimal | int | None = 50, window: int = 20,
                 on_jump: JumpAction = "refuse") -> None:
        if max_jump_ranges is not None and (isinstance(max_jump_ranges, bool) or Decimal(max_jump_ranges) < 0):
            raise ConfigError(f"max_jump_ranges {max_jump_ranges!r} must be >= 0 (0: no jump check)")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ConfigError(f"window {window!r} must be an integer >= 1")
        if on_jump not in ("refuse", "flag"):
            raise ConfigError(f"on_jump {on_jump!r} must be 'refuse' or 'flag'")
        self.spec = spec
        self.max_jump_ranges = Decimal(max_jump_ranges) if max_jump_ranges else None
        self.on_jump: JumpAction = on_jump
        self._max_jump = float(self.max_jump_ranges) if self.max_jump_ranges is not None else None
        self._per_tick = 1.0 / float(spec.tick_size)
        self._ranges: deque[int] = deque(maxlen=window)
        self._range_sum = 0
        self._warmup = max(2, window // 4)
        self._close: int | None = None
        self._refused_close: int | None = None
        self.refused = 0
        self.flagged = 0

    def check(self, bar: Bar) -> PriceProblem | None:
        """None when the bar may be used as it is; else what is wrong with it (counted in
        ``refused`` or ``flagged``)."""
        try:
            h, low, c = self._ticks(bar.high), self._ticks(bar.low), self._ticks(bar.close)
            self._ticks(bar.open)
        except OffTickPrice as exc:
            self.refused += 1
            return PriceProblem(reason=BAD_PRICE, detail=f"bar {bar.symbol} at {bar.end.isoformat()}: {exc}", refused=True)
        problem = self._jump(bar, h, low, c)
        if problem is None or not problem.refused:
            self._accept(h, low, c)
            self._refused_close = None
        else:
            self._refused_close = c
        return problem

    def _ticks(self, price: object) -> int:
        # a float clearly above one tick needs no exact Decimal conversion: a jump is judged at a
        # multiple of ranges, where a tick either way does not matter (the hot path of a simulation)
        if type(price) is float:
            ticks = price * self._per_tick
            if 1.0 < ticks < 1e15:
                return int(ticks + 0.5)
        return self.spec.to_ticks(price)  # type: ignore[arg-type]

    def _jump(self, bar: Bar, h: int, low: int, c: int) -> PriceProblem | None:
        last, limit = self._close, self._limit_ticks()
        if last is None or limit is None:
            return None
        distance = max(abs(h - last), abs(last - low))
        if distance <= limit:
            return None
        held = self._refused_close
        if held is not None and max(abs(h - held), abs(held - low)) <= limit:
            return None  # the new level held for a second bar: a gap, not a bad print
        detail = (f"bar {bar.symbol} at {bar.end.isoformat()}: {distance} ticks from the previous close "
                  f"{self.spec.from_ticks(last)}, more than {self.max_jump_ranges} x the recent mean range "
                  f"({limit} ticks)")
        if self.on_jump == "flag":
            self.flagged += 1
            return PriceProblem(reason=PRICE_JUMP, detail=detail, refused=False)
        self.refused += 1
        return PriceProblem(reason=PRICE_JUMP, detail=detail, refused=True)

    def _limit_ticks(self) -> int | None:
        n = len(self._ranges)
        if self._max_jump is None or n < self._warmup:
            return None
        return int(self._max_jump * max(1.0, self._range_sum / n))

    def _accept(self, h: int, low: int, c: int) -> None:
        ranges = self._ranges
        if len(ranges) == ranges.maxlen:
            self._range_sum -= ranges[0]
        ranges.append(h - low)
        self._range_sum += h - low
        self._close = c
