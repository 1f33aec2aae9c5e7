"""Builders for the runner tests: a scripted strategy, bars on the XNYS clock, a runner on tmp folders."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from statebot import Bar, BotRunner, Signal, SimBroker, StrategyContext
from statebot.config.model import Config, parse_config
from statebot.core.costs import FixedCommission

NY = ZoneInfo("America/New_York")


def et(day: str, hhmm: str) -> dt.datetime:
    """An aware New York time, e.g. ``et("2026-11-27", "12:55")``."""
    h, m = hhmm.split(":")
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(int(h), int(m)), tzinfo=NY)


def bar_at(end: dt.datetime, price: float = 6000.0, *, high: float | None = None, low: float | None = None,
           close: float | None = None) -> Bar:
    c = price if close is None else close
    return Bar(symbol="MES", end=end, open=price, high=max(price, c) + 0.5 if high is None else high,
               low=min(price, c) - 0.5 if low is None else low, close=c, volume=100)


def minute_bars(day: str, start: str = "09:31", end: str = "16:00", price: float = 6000.0) -> Iterator[Bar]:
    """Flat one-minute bars ending from ``start`` to ``end`` (inclusive), New York time."""
    t, stop = et(day, start), et(day, end)
    while t <= stop:
        yield bar_at(t, price)
        t += dt.timedelta(minutes=1)


class Scripted:
    """A strategy that says what it is told: ``want`` (a Signal or None) on every bar,
    or ``plan[bar_end] = Signal`` for particular bars. Records every context it saw."""

    name = "scripted"

    def __init__(self, want: Signal | None = None, name: str = "scripted") -> None:
        self.want = want
        self.plan: dict[dt.datetime, Signal | None] = {}
        self.name = name
        self.seen: list[StrategyContext] = []

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Signal | None:
        self.seen.append(ctx)
        if bar.end in self.plan:
            return self.plan[bar.end]
        return self.want


def long(stop_ticks: int = 4, **kw: Any) -> Signal:
    return Signal(side="LONG", stop_ticks=stop_ticks, dvs=Decimal(1), eqs=Decimal(1), **kw)


def short(stop_ticks: int = 4, **kw: Any) -> Signal:
    return Signal(side="SHORT", stop_ticks=stop_ticks, dvs=Decimal(1), eqs=Decimal(1), **kw)


def config(text: str = "") -> Config:
    return parse_config(text)


def make_runner(tmp: Path, strategy: Any, broker: SimBroker, *, equity: str = "10000", cfg: Config | None = None,
                **kw: Any) -> BotRunner:
    kw.setdefault("state_dir", tmp / "state")
    kw.setdefault("event_log", tmp / "events.jsonl")
    return BotRunner(strategy, broker, equity=Decimal(equity), config=cfg or Config(), **kw)


def broker(**kw: Any) -> SimBroker:
    kw.setdefault("commission", FixedCommission("1.25"))
    return SimBroker(**kw)


def drive(runner: BotRunner, sim: SimBroker, bars: Any) -> list[Any]:
    out = []
    for b in bars:
        sim.on_bar(b)
        out.append((b, runner.run_once(b)))
    return out


def events(tmp: Path, *types: str) -> list[dict[str, Any]]:
    out = []
    for line in (tmp / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if not types or e["type"] in types:
            out.append(e)
    return out
