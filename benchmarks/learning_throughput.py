"""Learning loop costs: the per-bar ``on_time`` path, a trade in memory, a durable trade.

Run:  python benchmarks/learning_throughput.py [--n 200000] [--trades 300]

1. ``LearningLoop.on_time`` over N bars with five strategies, one of them
   THROTTLED with a cooldown that does not end: the per-bar path must be a few
   comparisons (no ``transitions`` trigger, no Decimal arithmetic).
2. ``LearningLoop.record_trade`` in memory (metrics, rules, Decimal money).
3. ``DurableLearningLoop.record_trade`` with the default save after every
   trade: temp file, fsync, rename, fsync of the folder. This is disk-bound;
   the figure says what one closed trade costs on this machine's disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import tempfile
import time
from decimal import Decimal

from statebot import DurableLearningLoop, LearningLoop, ThrottleRules, TradeOutcome

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
STRATEGIES = ("a", "b", "c", "d", "e")
RULES = ThrottleRules(max_consecutive_losses=1, cooldown=dt.timedelta(days=365), max_drawdown_usd=None,
                      min_win_rate=None, max_slippage_error_ticks=None)


def trade(i: int, strategy: str, net: str = "5") -> TradeOutcome:
    return TradeOutcome(
        strategy=strategy, symbol="MES", quantity=1, entry_time=T0, exit_time=T0 + dt.timedelta(minutes=i),
        entry_price=Decimal("5000"), exit_price=Decimal("5001"), gross_pnl_usd=Decimal(net),
        commission_usd=Decimal("1.14"), slippage_ticks=1, expected_slippage_ticks=1, spread_ticks=1,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="bars for on_time (default 200,000)")
    parser.add_argument("--trades", type=int, default=300, help="durable trades (default 300)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}")

    loop = LearningLoop(RULES, strategies=STRATEGIES)
    loop.record_trade(trade(0, "a", "-5"), T0)  # "a" is THROTTLED for a year
    times = [T0 + dt.timedelta(seconds=i) for i in range(1, args.n + 1)]
    session = T0.date()
    start = time.perf_counter()
    for t in times:
        loop.on_time(t, session)
    elapsed = time.perf_counter() - start
    print(f"on_time, 5 strategies, nothing due: {args.n / elapsed:,.0f} bars/s ({elapsed / args.n * 1e6:.2f} us/bar)")

    trades = [trade(i, STRATEGIES[1 + i % 4]) for i in range(20_000)]
    start = time.perf_counter()
    for i, t in enumerate(trades):
        loop.record_trade(t, T0)
    elapsed = time.perf_counter() - start
    print(f"record_trade in memory: {len(trades) / elapsed:,.0f} trades/s ({elapsed / len(trades) * 1e6:.1f} us/trade)")

    with tempfile.TemporaryDirectory() as folder, DurableLearningLoop.open(folder, T0, rules=RULES, strategies=STRATEGIES) as durable:
        start = time.perf_counter()
        for i in range(args.trades):
            durable.record_trade(trade(i, STRATEGIES[1 + i % 4]), T0)
        elapsed = time.perf_counter() - start
    print(f"record_trade, saved durably each time: {elapsed / args.trades * 1e3:.2f} ms/trade")


if __name__ == "__main__":
    main()
