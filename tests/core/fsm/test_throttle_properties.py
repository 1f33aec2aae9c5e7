"""The throttle follows its rules exactly, checked against a small reference model.

The reference model below is written from the rules as documented (not from the
implementation): it keeps its own judged statistics since the strategy last
became ACTIVE by reset or entered PROBATION, and its own cooldown bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from statebot import NEXT_SESSION, LearningLoop, ThrottleRules
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.timezone.utc)
D0 = dt.date(2026, 3, 2)
WINDOW = 8
ALPHA = Decimal("0.3")


class Reference:
    """ACTIVE / THROTTLED / PROBATION from the documented rules."""

    def __init__(self, rules: ThrottleRules) -> None:
        self.r = rules
        self.state = "ACTIVE"
        self.reason: str | None = None
        self.release_at: dt.datetime | None = None
        self.release_session: dt.date | None = None
        self.clean = 0
        self.clear()

    def clear(self) -> None:
        self.results: list[bool] = []
        self.streak = 0
        self.net = Decimal(0)
        self.peak = Decimal(0)
        self.slip_n = 0
        self.ewma = Decimal(0)

    def breach(self) -> str | None:
        r = self.r
        if r.max_consecutive_losses is not None and self.streak >= r.max_consecutive_losses:
            return "consecutive_losses"
        if r.max_drawdown_usd is not None and self.peak - self.net > r.max_drawdown_usd:
            return "drawdown"
        recent = self.results[-WINDOW:]
        if r.min_win_rate is not None and len(recent) >= r.win_rate_min_trades:
            if Decimal(sum(recent)) / len(recent) < r.min_win_rate:
                return "win_rate"
        if r.max_slippage_error_ticks is not None and self.slip_n >= r.slippage_min_trades and self.ewma > r.max_slippage_error_ticks:
            return "slippage_calibration"
        return None

    def trade(self, net: Decimal, error: Decimal, now: dt.datetime, session: dt.date) -> list[str]:
        win = net > 0
        self.results.append(win)
        self.streak = 0 if win else self.streak + 1
        self.net += net
        self.peak = max(self.peak, self.net)
        raw = error if self.slip_n == 0 else ALPHA * error + (1 - ALPHA) * self.ewma
        self.ewma = raw.quantize(Decimal("1e-8"), rounding=ROUND_HALF_EVEN)
        self.slip_n += 1
        if self.state == "THROTTLED":
            return []
        reason = self.breach()
        if reason is not None:
            self.state, self.reason, self.clean = "THROTTLED", reason, 0
            if self.r.cooldown == NEXT_SESSION:
                self.release_at, self.release_session = None, session
            else:
                self.release_at, self.release_session = now + self.r.cooldown, None  # type: ignore[operator]
            return ["THROTTLED"]
        if self.state == "PROBATION":
            self.clean += 1
            if self.clean >= self.r.probation_trades:
                self.state, self.reason = "ACTIVE", None
                return ["ACTIVE"]
        return []

    def tick(self, now: dt.datetime, session: dt.date) -> list[str]:
        if self.state != "THROTTLED":
            return []
        due = (self.release_at is not None and now >= self.release_at) or (
            self.release_session is not None and session > self.release_session
        )
        if not due:
            return []
        self.state, self.reason, self.clean = "PROBATION", "probation", 0
        self.clear()
        return ["PROBATION"]

    def reset(self) -> list[str]:
        self.state, self.reason, self.clean = "ACTIVE", "operator_reset", 0
        self.clear()
        return ["ACTIVE"]

    @property
    def size_cap(self) -> int | None:
        return {"ACTIVE": None, "THROTTLED": 0, "PROBATION": self.r.probation_size_cap}[self.state]


optional = lambda s: st.one_of(st.none(), s)
rules_strategy = st.builds(
    ThrottleRules,
    max_consecutive_losses=optional(st.integers(1, 5)),
    min_win_rate=optional(st.sampled_from([Decimal("0.25"), Decimal("0.4"), Decimal("0.5")])),
    win_rate_min_trades=st.integers(1, WINDOW),
    max_drawdown_usd=optional(st.sampled_from([Decimal("0"), Decimal("30"), Decimal("75.5")])),
    max_slippage_error_ticks=optional(st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("2")])),
    slippage_min_trades=st.integers(1, 4),
    cooldown=st.one_of(st.just(NEXT_SESSION), st.integers(0, 90).map(lambda m: dt.timedelta(minutes=m))),
    probation_trades=st.integers(1, 4),
    probation_size_cap=st.integers(1, 3),
)
trade_step = st.tuples(
    st.just("trade"),
    st.sampled_from(["-40", "-10", "-0.01", "0", "2.5", "15", "60"]),
    st.sampled_from(["-1", "0", "0.25", "1", "3"]),
)
tick_step = st.tuples(st.just("tick"), st.integers(0, 120), st.booleans())
steps = st.lists(st.one_of(trade_step, trade_step, tick_step, st.just(("reset",))), max_size=80)


@pytest.mark.invariant("every sequence of trades, clock ticks and resets drives the throttle exactly per its rules", machine="throttle")
@given(rules=rules_strategy, script=steps)
def test_throttle_matches_the_reference_model(rules: ThrottleRules, script: list[tuple]) -> None:  # type: ignore[type-arg]
    """After every step, state, reason code, entry permission, size cap and the transitions
    reported equal those of the reference model."""
    loop = LearningLoop(rules, window=WINDOW, ewma_alpha=ALPHA, strategies=["s"])
    ref = Reference(rules)
    now, session = T0, D0
    for step in script:
        now += dt.timedelta(minutes=1)
        if step[0] == "trade":
            net, error = Decimal(step[1]), Decimal(step[2])
            update = loop.record_trade(outcome(step[1], slip=step[2], expected="0", strategy="s"), now, session_date=session)
            got, want = [t.dest for t in update.transitions], ref.trade(net, error, now, session)
        elif step[0] == "tick":
            now += dt.timedelta(minutes=step[1])
            if step[2]:
                session += dt.timedelta(days=1)
            got, want = [t.dest for t in loop.on_time(now, session)], ref.tick(now, session)
        else:
            got, want = [loop.reset("s", "reviewed", now).dest], ref.reset()
        note(f"{step} -> {loop.throttle_state('s')} {loop.throttle('s').reason}")
        assert got == want
        assert loop.throttle_state("s") == ref.state
        assert loop.allows_entry("s") == (ref.state != "THROTTLED")
        assert loop.size_cap("s") == ref.size_cap
        if ref.state == "THROTTLED":
            assert loop.throttle("s").reason == ref.reason


@pytest.mark.invariant("export_to_dict then load_from_dict restores an equal learning state", machine="throttle")
@given(rules=rules_strategy, script=steps)
def test_export_then_load_round_trips_to_an_equal_state(rules: ThrottleRules, script: list[tuple]) -> None:  # type: ignore[type-arg]
    """For any history, a loop loaded from the exported dict (through JSON text) equals the
    original and, fed the same next trade, reacts the same way."""
    loop = LearningLoop(rules, window=WINDOW, ewma_alpha=ALPHA, strategies=["s"])
    now, session = T0, D0
    for step in script:
        now += dt.timedelta(minutes=1)
        if step[0] == "trade":
            loop.record_trade(outcome(step[1], slip=step[2], expected="0", strategy="s"), now, session_date=session)
        elif step[0] == "tick":
            session += dt.timedelta(days=int(step[2]))
            loop.on_time(now, session)
        else:
            loop.reset("s", "reviewed", now)
    again = LearningLoop(rules, window=WINDOW, ewma_alpha=ALPHA)
    again.load_from_dict(json.loads(json.dumps(loop.export_to_dict())))
    assert again == loop
    assert again.metrics("s") == loop.metrics("s")
    nxt = outcome("-40", strategy="s")
    later = now + dt.timedelta(minutes=1)
    a = loop.record_trade(nxt, later, session_date=session)
    b = again.record_trade(nxt, later, session_date=session)
    assert a == b
    assert again.export_to_dict() == loop.export_to_dict()
