"""The signal: steps 7 to 9 of a bar, from the strategy's call to the order it leads to.

``_decide`` calls ``strategy.on_bar(bar, ctx)`` on every bar (its indicators stay
current; an exception is logged and the bar skipped, or raised as ``StrategyFailed``
when a backtest asks), then: an open position whose bracket the bar reached is exited
(``Brackets``), unless a flatten is under way (the ``Flattener`` alone closes positions
then); the side already held is a HOLD; the opposite side or a FLAT signal exits; from
flat, the entry policy's ordered checks (``statebot.app.entry_policy``) decide.

A mixin of ``BotRunner`` on the runner's own attributes (``RunnerBase``): ``_decide``
runs per bar, as a plain method of the runner.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from statebot.app.decision import FLATTENING_HOLD, HOLD, NO_SIGNAL, SKIP, Decision
from statebot.app.entry_policy import ENTRY_CHECKS, size_entry, submit_entry
from statebot.app.runner_base import RunnerBase
from statebot.core.fsm.position import FLAT, OPEN, PositionMachine
from statebot.core.strategy.protocol import FLAT as FLAT_SIDE
from statebot.core.strategy.protocol import Signal, StrategyContext
from statebot.core.time.clock import Bar

_new = object.__new__
_set_now, _set_symbol, _set_tick_size, _set_qty, _set_state, _set_may_enter, _set_session = (
    vars(StrategyContext)[name].__set__
    for name in ("now", "symbol", "tick_size", "position_qty", "session_state", "may_enter", "session"))
"""The slots of ``StrategyContext`` (attrs makes it slotted), each set through its own descriptor:
cheaper than ``object.__setattr__`` by name, and the frozen class's ``__setattr__`` is not called."""


def _context(now: dt.datetime, symbol: str, tick_size: Decimal, qty: int, state: str, may_enter: bool,
             session: Any) -> StrategyContext:
    """A ``StrategyContext`` built without re-running its validators: every value here was
    validated already (the bar's aware end, the instrument's tick size), and this runs per bar."""
    ctx = _new(StrategyContext)
    _set_now(ctx, now)
    _set_symbol(ctx, symbol)
    _set_tick_size(ctx, tick_size)
    _set_qty(ctx, qty)
    _set_state(ctx, state)
    _set_may_enter(ctx, may_enter)
    _set_session(ctx, session)
    return ctx


class SignalHandling(RunnerBase):
    """The strategy and what its signal leads to, for ``BotRunner``."""

    def _decide(self, bar: Bar, t: dt.datetime) -> Decision:
        m = self._machine
        session = self.session
        may_enter = session.may_enter(t)
        try:
            ctx = _context(t, self.symbol, self.instrument.tick_size, m.qty, session.state, may_enter, session.session)
            signal = self.strategy.on_bar(bar, ctx)
        except Exception as exc:  # a strategy bug must not stop the loop; it is logged, the bar skipped
            self._strategy_error(t, exc)
            return Decision(action=SKIP, reason="strategy_error", detail=str(exc))
        # read once after the strategy: nothing below changes the machine before the bracket's
        # exit or the entry, each of which returns
        qty = m.qty
        if not qty:
            if signal is None:  # the quiet bar: nothing held, nothing asked
                return NO_SIGNAL
            held = 0
        else:
            # while flattening the flattener owns the venue until it reports flat: it closes by the
            # venue's quantity, and a strategy exit beside it (a stop, a reversal) could close twice
            if m.state == OPEN and not self.flatten_coordinator.flattening:
                hit = self.brackets.hit(self._key, bar)
                if hit:
                    return self.brackets.exit(m, bar, t, hit)
            if signal is None:
                return NO_SIGNAL
            held = 1 if qty > 0 else -1
        if not isinstance(signal, Signal):
            self._strategy_error(t, TypeError(f"on_bar returned {signal!r}, not a Signal or None"))
            return Decision(action=SKIP, reason="strategy_error")
        if signal.side == FLAT_SIDE:
            return self._go_flat(m, bar, t) if held else NO_SIGNAL
        if held == signal.side:
            return Decision(action=HOLD, reason="already_held")
        state = m.state
        if held:
            if state != OPEN:
                return Decision(action=HOLD, reason="order_working", detail=state)
            if self.flatten_coordinator.flattening:
                return FLATTENING_HOLD
            return self.brackets.exit(m, bar, t, "reversal")
        if state != FLAT or not m.may_enter():
            return Decision(action=HOLD, reason="order_working", detail=state)
        return self._enter(m, signal, bar, t, may_enter)

    def _go_flat(self, m: PositionMachine, bar: Bar, t: dt.datetime) -> Decision:
        """The strategy asked to hold nothing: the same exit a reversal sends, through the position machine."""
        if m.state != OPEN:
            return Decision(action=HOLD, reason="order_working", detail=m.state)
        if self.flatten_coordinator.flattening:
            return FLATTENING_HOLD
        return self.brackets.exit(m, bar, t, "strategy_flat")

    def _enter(self, m: PositionMachine, signal: Signal, bar: Bar, t: dt.datetime, may_enter: bool) -> Decision:
        """From flat: the entry policy's checks in order (``statebot.app.entry_policy``), then the order."""
        for check in ENTRY_CHECKS:
            refused = check(self, signal, t, may_enter)
            if refused is not None:
                return refused
        size = size_entry(self, signal, t)
        if isinstance(size, Decision):
            return size
        return submit_entry(self, signal, size, bar, t, may_enter)
