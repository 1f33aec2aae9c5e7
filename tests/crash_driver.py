"""Crash-test driver: feeds a fixed script of closed trades and clock ticks to a
DurableLearningLoop and acknowledges each step once it returned.

Run as ``python -m tests.crash_driver STATE_DIR SEED STEPS`` from the project
root. It prints ``READY`` once the state is open, then ``ACK <n>`` after step n
returned (everything step n changed is on disk by then) and ``DONE`` at the
end. The crash test SIGKILLs it at random moments and checks the file on disk
against ``expected_after`` (the same script replayed in memory).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal
from typing import Any

from statebot import DurableLearningLoop, LearningLoop, ThrottleRules, TradeOutcome
from statebot.core.costs import FixedCommission

RULES = ThrottleRules(
    max_consecutive_losses=2, min_win_rate=Decimal("0.4"), win_rate_min_trades=5, max_drawdown_usd=Decimal("60"),
    max_slippage_error_ticks=Decimal("1.5"), slippage_min_trades=3, cooldown=dt.timedelta(minutes=3), probation_trades=2,
)
STRATEGIES = ("orb", "vwap", "fade")
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.timezone.utc)
D0 = dt.date(2026, 3, 2)
COMMISSION = FixedCommission("1.25")

Step = tuple[Any, ...]


def script(seed: int, steps: int) -> list[Step]:
    """The driver's steps: ("trade", outcome, now, session) or ("time", now, session). Step 0 is a trade."""
    rng = random.Random(seed)
    now, session = T0, D0
    out: list[Step] = []
    for i in range(steps):
        now += dt.timedelta(minutes=1)
        if i == 0 or rng.random() < 0.75:
            entry = Decimal(5000) + Decimal(rng.randint(-400, 400)) * Decimal("0.25")
            moved = rng.choice([-12, -8, -4, -1, 0, 3, 6, 10])
            trade = TradeOutcome.from_prices(
                strategy=rng.choice(STRATEGIES), symbol="MES", quantity=rng.choice([1, 2, -1, -3]),
                entry_time=now - dt.timedelta(minutes=1), exit_time=now,
                entry_price=entry, exit_price=entry + Decimal(moved) * Decimal("0.25"),
                tick_size=Decimal("0.25"), tick_value=Decimal("1.25"), commission_model=COMMISSION,
                slippage_ticks=rng.choice([0, 1, 2, 4]), expected_slippage_ticks=1, spread_ticks=1,
                trade_id=f"t{i}",
            )
            out.append(("trade", trade, now, session))
        else:
            if rng.random() < 0.2:
                session += dt.timedelta(days=1)
            out.append(("time", now, session))
    return out


def apply(target: LearningLoop | DurableLearningLoop, step: Step) -> None:
    if step[0] == "trade":
        target.record_trade(step[1], step[2], session_date=step[3])
    else:
        target.on_time(step[1], step[2])


def new_loop() -> LearningLoop:
    return LearningLoop(RULES, strategies=STRATEGIES)


def expected_after(steps: list[Step], count: int) -> dict[str, Any]:
    """The exported state after the first ``count`` steps (0: the fresh state)."""
    loop = new_loop()
    for step in steps[:count]:
        apply(loop, step)
    return loop.export_to_dict()


def main(argv: list[str]) -> int:
    state_dir, seed, steps = argv[0], int(argv[1]), int(argv[2])
    plan = script(seed, steps)
    durable = DurableLearningLoop.open(state_dir, T0, rules=RULES, strategies=STRATEGIES)
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    for i, step in enumerate(plan):
        apply(durable, step)
        out.write(f"ACK {i}\n")
        out.flush()
    out.write("DONE\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
