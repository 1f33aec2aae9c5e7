"""What a quant reads off a run: statistics of its closed trades, as typed values.

Computed from the run's ``TRADE_CLOSED`` events turned into ``TradeOutcome``s by the
fold's ``outcome_from_payload`` (the same reading of a trade the learning loop and a
restart use). Money is ``Decimal`` (USD, net of commission unless named gross);
ratios that have no value on the data (no losing trade, fewer than two days) are None.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from statebot.core.learning.outcomes import TradeOutcome

TRADING_DAYS_PER_YEAR = 252
_CENT = Decimal("0.01")

TRADE_COLUMNS = ("trade_id", "strategy", "symbol", "side", "quantity", "entry_time", "exit_time", "entry_price",
                 "exit_price", "gross_pnl", "commission", "net_pnl", "slippage_ticks", "session", "stop_price",
                 "target_price")
"""The columns of the trade list (JSON keys and CSV header)."""


@attrs.frozen(kw_only=True)
class Trade:
    """One closed trade of the run: its outcome, the session it belongs to (exchange date) and
    the protective stop and target its entry named (None: none named, or a trade the log
    recorded without its entry, such as the flattener closing a position it did not own)."""

    outcome: TradeOutcome
    session: str
    stop_price: Decimal | None = None
    target_price: Decimal | None = None

    def row(self) -> dict[str, str | int | None]:
        o = self.outcome
        return {"trade_id": o.trade_id, "strategy": o.strategy, "symbol": o.symbol, "side": o.side,
                "quantity": o.quantity, "entry_time": o.entry_time.isoformat(), "exit_time": o.exit_time.isoformat(),
                "entry_price": str(o.entry_price), "exit_price": str(o.exit_price), "gross_pnl": str(o.gross_pnl_usd),
                "commission": str(o.commission_usd), "net_pnl": str(o.net_pnl_usd),
                "slippage_ticks": str(o.slippage_ticks), "session": self.session,
                "stop_price": _s(self.stop_price), "target_price": _s(self.target_price)}


@attrs.frozen(kw_only=True)
class TradeStats:
    """Statistics of a run's closed trades.

    ``win_rate``: winners (net > 0) / trades; ``profit_factor``: gross wins / gross losses
    of net P&L (None without a losing trade); ``average_win`` / ``average_loss`` (the
    loss negative); ``expectancy``: mean net P&L per trade; ``sharpe`` / ``sortino``:
    of daily net P&L over the run's sessions (a session without trades counts 0),
    annualised by sqrt(252), no risk-free rate; ``max_drawdown``: the largest fall of
    cumulative net P&L from a peak, trade by trade, with ``drawdown_peak`` and
    ``drawdown_trough`` the exit times (ISO) of the trades at the peak (None: the start)
    and the trough; ``commission_share``: commission / gross P&L of the winning trades
    (how much of what the wins made the broker took; None without a winner);
    ``session_pnl``: net P&L by session date; ``exposure``: the share of the run's market time
    (bars traded on x bar size) with a position open, from each trade's entry to its exit
    (overlapping trades count once; None without market time).
    """

    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    expectancy: Decimal | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: Decimal
    drawdown_peak: str | None
    drawdown_trough: str | None
    commission_share: Decimal | None
    session_pnl: Mapping[str, Decimal]
    exposure: Decimal | None = None

    def as_dict(self) -> dict[str, object]:
        def s(v: object) -> object:
            return str(v) if isinstance(v, Decimal) else (round(v, 3) if isinstance(v, float) else v)

        data = {f.name: s(getattr(self, f.name)) for f in attrs.fields(TradeStats) if f.name != "session_pnl"}
        data["session_pnl"] = {k: str(v) for k, v in self.session_pnl.items()}
        return data


def _ratio(a: Decimal, b: Decimal, places: Decimal = _CENT) -> Decimal | None:
    return (a / b).quantize(places) if b else None


def trade_stats(trades: Sequence[Trade], sessions: Iterable[str] = (), *,
                market_time: dt.timedelta = dt.timedelta(0)) -> TradeStats:
    """The statistics of ``trades`` (in exit order); ``sessions``: every session the run
    covered, so that days without a trade count in the daily ratios; ``market_time``: the
    time the bars of the run cover (bars x bar size), the denominator of ``exposure``."""
    nets = [t.outcome.net_pnl_usd for t in trades]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n <= 0]
    gross_wins = sum(wins, Decimal(0))
    gross_losses = -sum(losses, Decimal(0))
    commission = sum((t.outcome.commission_usd for t in trades), Decimal(0))
    winners_gross = sum((t.outcome.gross_pnl_usd for t in trades if t.outcome.net_pnl_usd > 0), Decimal(0))
    per_session: dict[str, Decimal] = {s: Decimal(0) for s in sessions}
    for t in trades:
        per_session[t.session] = per_session.get(t.session, Decimal(0)) + t.outcome.net_pnl_usd
    per_session = dict(sorted(per_session.items()))
    peak = cumulative = drawdown = Decimal(0)
    peak_at: str | None = None
    worst: tuple[str | None, str | None] = (None, None)
    for t, net in zip(trades, nets):
        cumulative += net
        at = t.outcome.exit_time.isoformat()
        if cumulative > peak:
            peak, peak_at = cumulative, at
        elif peak - cumulative > drawdown:
            drawdown, worst = peak - cumulative, (peak_at, at)
    n = len(nets)
    return TradeStats(
        trades=n, wins=len(wins), losses=len(losses),
        win_rate=_ratio(Decimal(len(wins)), Decimal(n), Decimal("0.0001")),
        profit_factor=_ratio(gross_wins, gross_losses),
        average_win=_ratio(gross_wins, Decimal(len(wins))), average_loss=_ratio(-gross_losses, Decimal(len(losses))),
        expectancy=_ratio(sum(nets, Decimal(0)), Decimal(n)),
        sharpe=_annualised(list(per_session.values()), downside=False),
        sortino=_annualised(list(per_session.values()), downside=True),
        max_drawdown=drawdown, drawdown_peak=worst[0], drawdown_trough=worst[1],
        commission_share=_ratio(commission, winners_gross, Decimal("0.0001")),
        session_pnl=per_session,
        exposure=exposure(trades, market_time),
    )


def exposure(trades: Iterable[Trade], market_time: dt.timedelta) -> Decimal | None:
    """Time with a position open (the union of each trade's entry..exit) / ``market_time``,
    to four places; None when ``market_time`` is not positive."""
    if market_time <= dt.timedelta(0):
        return None
    held = dt.timedelta(0)
    reach: dt.datetime | None = None
    for start, end in sorted((t.outcome.entry_time, t.outcome.exit_time) for t in trades):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            held += end - start
        reach = end if reach is None else max(reach, end)
    share = Decimal(held.total_seconds()) / Decimal(market_time.total_seconds())
    return share.quantize(Decimal("0.0001"))


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _annualised(daily: Sequence[Decimal], *, downside: bool) -> float | None:
    if len(daily) < 2:
        return None
    values = [float(d) for d in daily]
    mean = sum(values) / len(values)
    if downside:
        spread = math.sqrt(sum(min(0.0, v) ** 2 for v in values) / len(values))
    else:
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    if spread == 0:
        return None
    return mean / spread * math.sqrt(TRADING_DAYS_PER_YEAR)


def trades_csv(trades: Sequence[Trade]) -> str:
    """The trade list as CSV text, header ``TRADE_COLUMNS``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TRADE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for t in trades:
        writer.writerow(t.row())
    return out.getvalue()


def percentile(values: Sequence[Decimal], q: int) -> Decimal:
    """The ``q``-th percentile (0..100) of ``values`` by linear interpolation between the nearest
    ranks (numpy's default); ``ValueError`` for no values."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * Decimal(q) / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return (ordered[low] + (ordered[high] - ordered[low]) * (pos - low)).quantize(_CENT)
