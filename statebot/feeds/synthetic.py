"""Seeded synthetic bars with an intraday volatility shape, on any calendar and bar size.

Bars cover each session from its open to its close (the last bar may be shorter
when the session length is not a multiple of the bar size, e.g. a 13:00 early
close with 7-minute bars). Prices follow a random walk on the instrument's
tick grid whose volatility is U-shaped over the session (busy at the open and
into the close, quiet at lunch), as equity index futures are. The same seed
always gives the same bars.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from decimal import Decimal

import attrs

from statebot.core.time.calendar import ExchangeCalendar, TradingCalendar
from statebot.core.time.clock import Bar
from statebot.errors import ConfigError


def _positive_duration(_inst: object, attribute: attrs.Attribute, value: dt.timedelta) -> None:  # type: ignore[type-arg]
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise ConfigError(f"synthetic bars: {attribute.name} must be a positive duration, got {value!r}")


def _positive(_inst: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if not (isinstance(value, (int, float, Decimal)) and value > 0 and math.isfinite(value)):
        raise ConfigError(f"synthetic bars: {attribute.name} must be a positive finite number, got {value!r}")


@attrs.frozen(kw_only=True)
class SyntheticBars:
    """A reproducible bar stream.

    ``daily_vol`` is the standard deviation of a whole session's return
    (0.01 = 1 %); ``u_shape`` how much busier the open and close are than
    midday (0 = flat). Iterating yields ``Bar`` objects with aware UTC end
    times in order.
    """

    start: dt.date
    end: dt.date
    symbol: str = "MES"
    calendar: TradingCalendar = attrs.field(factory=lambda: ExchangeCalendar("XNYS"))
    bar_size: dt.timedelta = attrs.field(default=dt.timedelta(minutes=1), validator=_positive_duration)
    seed: int = 0
    start_price: float = attrs.field(default=6000.0, validator=_positive)
    tick_size: Decimal = Decimal("0.25")
    daily_vol: float = attrs.field(default=0.01, validator=_positive)
    u_shape: float = 2.0
    base_volume: int = 1000

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"synthetic bars: end {self.end} is before start {self.start}")

    def __iter__(self) -> Iterator[Bar]:
        rng = random.Random(self.seed)
        tick = float(self.tick_size)
        price = round(self.start_price / tick) * tick
        symbol = self.symbol
        for session in self.calendar.sessions(self.start, self.end):
            length = (session.close - session.open).total_seconds()
            t = session.open
            while t < session.close:
                end = min(t + self.bar_size, session.close)
                seconds = (end - t).total_seconds()
                mid = ((t - session.open).total_seconds() + seconds / 2) / length  # 0..1 through the session
                shape = 1.0 + self.u_shape * (2.0 * mid - 1.0) ** 2
                # normalise the shape so a whole session still has daily_vol
                sigma = self.daily_vol * math.sqrt(seconds / length) * shape / math.sqrt(1.0 + self.u_shape * 0.8)
                open_ = price
                path = [open_]
                for _ in range(4):
                    path.append(path[-1] * math.exp(rng.gauss(0.0, sigma / 2.0)))
                close = max(tick, round(path[-1] / tick) * tick)
                high = max(round(max(path) / tick) * tick, open_, close)
                low = max(tick, min(round(min(path) / tick) * tick, open_, close))
                volume = int(self.base_volume * shape * (0.5 + rng.random()))
                yield Bar(symbol=symbol, end=end, open=open_, high=high, low=low, close=close, volume=volume)
                price = close
                t = end
