"""Per-strategy reliability metrics, updated one closed trade at a time.

Pure: no clock, no files. Counts are ints, money is Decimal (USD), slippage is
Decimal ticks. ``to_dict`` / ``from_dict`` round-trip exactly (Decimals as
strings), so a reloaded metric compares equal to the one saved.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from statebot.core import _fields as f
from statebot.errors import ConfigError, StateCorrupt
from statebot.core.learning.outcomes import TradeOutcome

ZERO = Decimal(0)
EWMA_QUANTUM = Decimal("1e-8")
"""The slippage EWMA is rounded (half-even) to 1e-8 ticks after each update so
stored figures stay short and reload exactly whatever the Decimal context."""


def _window(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"rolling window {value!r} must be an int >= 1")


def _alpha(value: object) -> Decimal:
    if not isinstance(value, (Decimal, str, int)) or isinstance(value, bool):
        raise ConfigError(f"ewma_alpha {value!r} must be a Decimal in (0, 1], not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite() or not ZERO < result <= 1:
        raise ConfigError(f"ewma_alpha {value!r} must be in (0, 1]")
    return result


# window and ewma_alpha are checked when built; no assignment hook, as every closed trade assigns
# about ten computed fields and a hook on the class runs on each of them
@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class ReliabilityMetrics:
    """What one strategy's closed trades say about it.

    A trade is a win when its net P&L (after commission) is > 0; everything
    else, break-even included, is a loss. ``recent`` holds the last ``window``
    results (True = win), oldest first. Drawdown is measured on cumulative net
    P&L from a peak that starts at 0 (the equity before the first trade).
    Slippage calibration tracks realized - expected slippage in ticks
    (positive = fills worse than modelled): its sum (for the mean), an
    exponentially weighted mean with weight ``ewma_alpha`` on the newest trade
    (seeded by the first trade), and how many trades fed it.
    """

    strategy: str
    window: int = attrs.field(default=20, validator=_window)
    ewma_alpha: Decimal = attrs.field(default=Decimal("0.2"), converter=_alpha)
    trades: int = 0
    wins: int = 0
    consecutive_losses: int = 0
    recent: list[bool] = attrs.field(factory=list)
    gross_pnl_usd: Decimal = ZERO
    commission_usd: Decimal = ZERO
    net_pnl_usd: Decimal = ZERO
    peak_net_pnl_usd: Decimal = ZERO
    max_drawdown_usd: Decimal = ZERO
    slippage_count: int = 0
    slippage_error_sum_ticks: Decimal = ZERO
    slippage_error_ewma_ticks: Decimal = ZERO
    last_trade_at: dt.datetime | None = None

    # derived -----------------------------------------------------------------

    @property
    def losses(self) -> int:
        return self.trades - self.wins

    @property
    def rolling_trades(self) -> int:
        """How many trades the rolling window holds (at most ``window``)."""
        return len(self.recent)

    @property
    def rolling_wins(self) -> int:
        return sum(self.recent)

    @property
    def rolling_win_rate(self) -> Decimal | None:
        """Wins / trades over the rolling window; None before the first trade."""
        if not self.recent:
            return None
        return Decimal(self.rolling_wins) / Decimal(len(self.recent))

    @property
    def expectancy_usd(self) -> Decimal:
        """Mean net P&L per trade (0 before the first trade)."""
        return self.net_pnl_usd / self.trades if self.trades else ZERO

    @property
    def drawdown_usd(self) -> Decimal:
        """How far cumulative net P&L is below its peak (>= 0)."""
        return self.peak_net_pnl_usd - self.net_pnl_usd

    @property
    def mean_slippage_error_ticks(self) -> Decimal | None:
        """Mean realized - expected slippage; None before the first trade."""
        if not self.slippage_count:
            return None
        return self.slippage_error_sum_ticks / self.slippage_count

    # update ------------------------------------------------------------------

    def update_from_trade(self, outcome: TradeOutcome) -> None:
        """Add one closed trade. The caller checks it belongs to ``strategy``."""
        net = outcome.net_pnl_usd
        win = net > 0
        self.trades += 1
        if win:
            self.wins += 1
            self.consecutive_losses = 0
        else:
            self.consecutive_losses += 1
        self.recent.append(win)
        if len(self.recent) > self.window:
            del self.recent[: len(self.recent) - self.window]
        self.gross_pnl_usd += outcome.gross_pnl_usd
        self.commission_usd += outcome.commission_usd
        self.net_pnl_usd += net
        self.peak_net_pnl_usd = max(self.peak_net_pnl_usd, self.net_pnl_usd)
        self.max_drawdown_usd = max(self.max_drawdown_usd, self.drawdown_usd)
        error = outcome.slippage_error_ticks
        if self.slippage_count == 0:
            ewma = error
        else:
            ewma = self.ewma_alpha * error + (1 - self.ewma_alpha) * self.slippage_error_ewma_ticks
        self.slippage_error_ewma_ticks = ewma.quantize(EWMA_QUANTUM, rounding=ROUND_HALF_EVEN)
        self.slippage_count += 1
        self.slippage_error_sum_ticks += error
        self.last_trade_at = outcome.exit_time

    def fresh(self) -> ReliabilityMetrics:
        """Empty metrics for the same strategy, window and EWMA weight."""
        return ReliabilityMetrics(strategy=self.strategy, window=self.window, ewma_alpha=self.ewma_alpha)

    # persistence -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and exact: ints stay ints, Decimals become strings."""
        return {
            "strategy": self.strategy,
            "window": self.window,
            "ewma_alpha": str(self.ewma_alpha),
            "trades": self.trades,
            "wins": self.wins,
            "consecutive_losses": self.consecutive_losses,
            "recent": "".join("W" if w else "L" for w in self.recent),
            "gross_pnl_usd": str(self.gross_pnl_usd),
            "commission_usd": str(self.commission_usd),
            "net_pnl_usd": str(self.net_pnl_usd),
            "peak_net_pnl_usd": str(self.peak_net_pnl_usd),
            "max_drawdown_usd": str(self.max_drawdown_usd),
            "slippage_count": self.slippage_count,
            "slippage_error_sum_ticks": str(self.slippage_error_sum_ticks),
            "slippage_error_ewma_ticks": str(self.slippage_error_ewma_ticks),
            "last_trade_at": f.iso(self.last_trade_at),
        }

    @classmethod
    def from_dict(cls, data: object, what: str = "metrics") -> ReliabilityMetrics:
        """The inverse of ``to_dict``. Raises ``StateCorrupt`` for anything malformed or inconsistent."""
        d = f.mapping(data, what)
        recent_text = f.text(d, "recent", what)
        if set(recent_text) - {"W", "L"}:
            raise StateCorrupt(f"{what}.recent {recent_text!r} must hold only W and L", reason="malformed")
        try:
            metrics = cls(
                strategy=f.text(d, "strategy", what),
                window=f.count(d, "window", what, minimum=1),
                ewma_alpha=f.decimal(d, "ewma_alpha", what),
                trades=f.count(d, "trades", what),
                wins=f.count(d, "wins", what),
                consecutive_losses=f.count(d, "consecutive_losses", what),
                recent=[c == "W" for c in recent_text],
                gross_pnl_usd=f.decimal(d, "gross_pnl_usd", what),
                commission_usd=f.decimal(d, "commission_usd", what),
                net_pnl_usd=f.decimal(d, "net_pnl_usd", what),
                peak_net_pnl_usd=f.decimal(d, "peak_net_pnl_usd", what),
                max_drawdown_usd=f.decimal(d, "max_drawdown_usd", what),
                slippage_count=f.count(d, "slippage_count", what),
                slippage_error_sum_ticks=f.decimal(d, "slippage_error_sum_ticks", what),
                slippage_error_ewma_ticks=f.decimal(d, "slippage_error_ewma_ticks", what),
                last_trade_at=f.time(d, "last_trade_at", what),
            )
        except ConfigError as exc:
            raise StateCorrupt(f"{what}: {exc}", reason="malformed") from None
        consistent = (
            metrics.wins <= metrics.trades
            and metrics.consecutive_losses <= metrics.trades
            and len(metrics.recent) <= min(metrics.window, metrics.trades)
            and metrics.slippage_count == metrics.trades
            and metrics.peak_net_pnl_usd >= max(ZERO, metrics.net_pnl_usd)
        )
        if not consistent:
            raise StateCorrupt(f"{what} for {metrics.strategy!r} is internally inconsistent", reason="malformed")
        return metrics

    def rewindowed(self, window: int) -> ReliabilityMetrics:
        """A copy whose rolling window is ``window`` (keeping the newest results)."""
        copy = attrs.evolve(self, window=window, recent=list(self.recent[-window:]))
        return copy
