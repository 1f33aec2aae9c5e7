"""Learning loop costs: the per-bar ``on_time`` path, a trade in memory, a durable trade, one save.

Run:  python benchmarks/learning_throughput.py [--n 200000] [--trades 300] [--saves 300]

1. ``LearningLoop.on_time`` over N bars with five strategies, one of them
   THROTTLED with a cooldown that does not end: the per-bar path must be a few
   comparisons (no ``transitions`` trigger, no Decimal arithmetic).
2. ``LearningLoop.record_trade`` in memory (metrics, rules, Decimal money).
3. ``DurableLearningLoop.record_trade`` with the default save after every
   trade: temp file, fsync, rename, fsync of the folder. This is disk-bound;
   the figure says what one closed trade costs on this machine's disk.
4. ``DurableLearningLoop.save`` of one strategy remembering its latest 500
   trades (runner-style trade ids), median microseconds per save, with
   ``fsync`` on (the default) and off (``[persistence] fsync = false``,
   simulations), beside the previous file format written the previous way
   (``previous_save``: the state JSON-encoded three times, an indented file
   holding the 500 full trade ids, a buffered file object) on the same disk.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statebot import DurableLearningLoop, LearningLoop, ThrottleRules, TradeOutcome
from statebot.core.learning.loop import RECENT_TRADE_IDS
from statebot.store.persistence import fsync_dir

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


def runner_trade(i: int) -> TradeOutcome:
    """A closed trade with an id shaped like the runner's (strategy/symbol/entry/exit)."""
    entry = T0 + dt.timedelta(minutes=10 * i)
    done = entry + dt.timedelta(minutes=7)
    return TradeOutcome(
        strategy="sma_cross", symbol="MES", quantity=1, entry_time=entry, exit_time=done,
        entry_price=Decimal("5000"), exit_price=Decimal("5001"), gross_pnl_usd=Decimal("5"),
        commission_usd=Decimal("1.14"), slippage_ticks=1, expected_slippage_ticks=1, spread_ticks=1,
        trade_id=f"sma_cross/MES/{entry.isoformat()}/{done.isoformat()}",
    )


def _refuse_float(text: str) -> Any:
    raise ValueError(text)


def previous_save(state: dict[str, Any], path: Path, saved_at: dt.datetime, fsync: bool) -> None:
    """The learning state saved as statebot did before the one-pass format, for comparison:
    encoded for the checksum, encoded again indented for the file, parsed again to refuse
    floats; written through a buffered file object."""
    envelope: dict[str, Any] = {"format": "statebot.learning_state", "schema_version": 1,
                                "saved_at": saved_at.isoformat(), "state": state}
    canonical = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    envelope["checksum"] = "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()
    data = (json.dumps(envelope, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
    json.loads(data, parse_float=_refuse_float)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(path.parent)


def median_us(call: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def save_costs(fsync: bool, saves: int) -> tuple[float, float, int, int]:
    """(previous us, now us, previous bytes, now bytes) per save, medians, in a fresh folder."""
    with tempfile.TemporaryDirectory() as folder, DurableLearningLoop.open(
            folder, T0, strategies=["sma_cross"], save_every_trades=10**9, fsync=fsync) as durable:
        for i in range(RECENT_TRADE_IDS + 100):
            durable.record_trade(runner_trade(i), T0)
        old_state = durable.loop.export_to_dict()
        old_state["schema_version"] = 1
        old_state["strategies"]["sma_cross"]["trade_ids"] = [
            runner_trade(i).trade_id for i in range(100, RECENT_TRADE_IDS + 100)]
        del old_state["strategies"]["sma_cross"]["trade_digests"]
        previous = Path(folder) / "previous.json"
        before = median_us(lambda: previous_save(old_state, previous, T0, fsync), saves)
        after = median_us(lambda: durable.save(T0), saves)
        return before, after, previous.stat().st_size, durable.path.stat().st_size


def per_save(saves: int) -> None:
    """Median microseconds per learning state save, now and as before, with and without fsync."""
    print(f"one save of 1 strategy with its latest {RECENT_TRADE_IDS} trades (median of {saves}):")
    costs = {}
    for fsync in (True, False):
        before, after, old_size, new_size = save_costs(fsync, saves)
        costs[fsync] = before, after
        label = "fsync on " if fsync else "fsync off"
        print(f"  {label}: previous {before:8,.0f} us ({old_size:,} B)   now {after:8,.0f} us ({new_size:,} B)"
              f"   {before / after:.1f}x")
    print(f"  statebot sim: previously fsynced, {costs[True][0]:,.0f} us; now [persistence] fsync = false, "
          f"{costs[False][1]:,.0f} us: {costs[True][0] / costs[False][1]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="bars for on_time (default 200,000)")
    parser.add_argument("--trades", type=int, default=300, help="durable trades (default 300)")
    parser.add_argument("--saves", type=int, default=300, help="saves timed per variant (default 300)")
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

    per_save(args.saves)


if __name__ == "__main__":
    main()
