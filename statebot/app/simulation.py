"""A tiny simulation loop: bars through a ``SimBroker`` and a ``BotRunner``, and a summary.

``simulate(bars, runner, broker)`` feeds each bar to the venue first
(``broker.on_bar``: orders sent on earlier bars fill at this bar's prices) and
then to the runner (``run_once``). The summary is read back from the runner's
own event log (only the events this call wrote) through the one fold
(``summarize``), so it says exactly what a risk reviewer would find there; the
decisions, which log nothing when they change nothing, are counted as they are made.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from statebot.venues.sim import SimBroker
from statebot.core.time.clock import Bar
from statebot.errors import EventLogError
from statebot.journal.log import KILL_SWITCH, THROTTLE_TRANSITION
from statebot.journal.replay import run_record
from statebot.app.runner import ENTER, SKIP, BotRunner
from statebot.app.simstats import Trade, TradeStats, trade_stats
from statebot.core.engine.fold import outcome_from_payload
from statebot.core.learning.outcomes import TradeOutcome


@attrs.frozen(kw_only=True)
class SessionFlatten:
    """One session's flatten: when it happened (clock time), the session date, lateness."""

    at: dt.datetime
    session: str
    late: bool
    minutes_remaining: Decimal
    positions: Mapping[str, int]


@attrs.frozen(kw_only=True)
class SimulationResult:
    """What a simulation did. Money is Decimal USD.

    ``trades``: every closed trade as a ``TradeOutcome`` (read from the
    ``TRADE_CLOSED`` events by the fold's ``outcome_from_payload``); ``net_pnl`` =
    ``gross_pnl`` - ``commission``, summed over them; ``max_drawdown`` is the largest
    fall of cumulative net P&L from its running peak (trade by trade, >= 0); ``stats``
    the statistics of the trades (``statebot.app.simstats.TradeStats``).
    ``decisions`` counts (action, reason) pairs; entries are counted under
    ("ENTER", "signal"), as the signal's free-text reason is kept in the event log;
    ``refusals`` the SKIPs among them by reason, as ``statebot sim`` prints them.
    ``closes`` maps each session that closed during the run (ISO date) to whether the bot
    was flat at its close: False when the runner's check at that close found a position
    held (by the machines or at the venue) and tripped the kill switch.
    """

    bars: int
    decisions: Mapping[tuple[str, str], int]
    trades: tuple[TradeOutcome, ...]
    gross_pnl: Decimal
    commission: Decimal
    net_pnl: Decimal
    max_drawdown: Decimal
    flattens: tuple[SessionFlatten, ...]
    throttle_events: tuple[Mapping[str, object], ...]
    kill_switch_events: tuple[Mapping[str, object], ...]
    final_equity: Decimal
    events: int
    stats: TradeStats
    closes: Mapping[str, bool] = attrs.field(factory=dict)

    @property
    def refusals(self) -> dict[str, int]:
        """The refused entries (SKIP decisions) by reason, largest first, ties by reason."""
        skipped = [(reason, n) for (action, reason), n in self.decisions.items() if action == SKIP]
        return dict(sorted(skipped, key=lambda kv: (-kv[1], kv[0])))


def simulate(bars: Iterable[Bar], runner: BotRunner, broker: SimBroker) -> SimulationResult:
    """Run every bar through ``broker`` then ``runner``; return the summary.

    The runner must trade through ``broker``. Nothing is closed: call
    ``runner.close()`` when done (or restart it on the same folder and go on).
    """
    start_seq = runner.events.head.seq
    decisions: Counter[tuple[str, str]] = Counter()
    count = 0
    for bar in bars:
        broker.on_bar(bar)
        decision = runner.run_once(bar)
        decisions[(decision.action, "signal" if decision.action == ENTER else decision.reason)] += 1
        count += 1
    runner.events.sync()
    return summarize(runner.events.path, after_seq=start_seq, bars=count, decisions=decisions, equity=runner.equity)


def summarize(path: str | os.PathLike[str], *, after_seq: int = 0, bars: int = 0,
              decisions: Mapping[tuple[str, str], int] | None = None,
              equity: Decimal | None = None) -> SimulationResult:
    """The summary of the run the event log at ``path`` records after ``after_seq`` (its head
    when the run began), from the one fold (``run_record``): trades, flattens, throttle and kill
    switch events and the final equity are the fold's. ``bars`` and ``decisions`` are what the
    log does not hold (a HOLD or a throttled SKIP logs nothing): the caller's counts; ``equity``
    is the final equity when the log records none (a run that never reached a clock time).
    Raises ``EventLogError`` (or ``ChainBroken``) for a log that does not verify."""
    record = run_record(path, after_seq=after_seq)
    if record.error:
        raise EventLogError(f"event log {os.fspath(path)}: {record.error}")
    history = record.history
    trades = [p for _, p in history.trades]
    flattens = tuple(
        SessionFlatten(at=ts, session=str(p.get("session", "")), late=bool(p["late"]),
                       minutes_remaining=Decimal(p["minutes_remaining"]),
                       positions={str(k): int(v) for k, v in dict(p["positions"]).items()})
        for ts, p in history.flattens
    )
    gross, commission, drawdown = trade_totals(trades)
    typed = [Trade(outcome=outcome_from_payload(p), session=str(p.get("session") or "")) for p in trades]
    final = record.state.equity if record.state.equity is not None else equity
    return SimulationResult(
        bars=bars, decisions=dict(decisions or {}), trades=tuple(t.outcome for t in typed), gross_pnl=gross,
        commission=commission, net_pnl=gross - commission, max_drawdown=drawdown, flattens=flattens,
        throttle_events=tuple({**p, "at": ts} for ts, p in history.of_type(THROTTLE_TRANSITION)),
        kill_switch_events=tuple({**p, "at": ts} for ts, p in history.of_type(KILL_SWITCH)),
        final_equity=final if final is not None else Decimal(0), events=history.events, stats=trade_stats(typed),
        closes=dict(history.closes),
    )


def trade_totals(trades: Iterable[Mapping[str, Any]]) -> tuple[Decimal, Decimal, Decimal]:
    """(gross P&L, commission, max drawdown of cumulative net P&L) over TRADE_CLOSED payloads, in order."""
    gross = commission = peak = cumulative = drawdown = Decimal(0)
    for t in trades:
        gross += Decimal(str(t["gross_pnl"]))
        commission += Decimal(str(t["commission"]))
        cumulative += Decimal(str(t["net_pnl"]))
        peak = max(peak, cumulative)
        drawdown = max(drawdown, peak - cumulative)
    return gross, commission, drawdown
