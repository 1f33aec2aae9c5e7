"""Trade accounting: a closed round trip's money, equity, the learning loop and its clock.

A round trip the position book reports closed (``ClosedTrade``, step 3 of a bar in
``statebot.app.runner``'s docstring) becomes a ``TradeOutcome`` net of its commission
and slippage against the references its bracket noted: ``TRADE_CLOSED``, equity, then
the learning loop (``LEARNING_UPDATE``, ``THROTTLE_TRANSITION``), then the kill
switch's daily loss. The trade belongs to the session it closed in.

Step 5: the learning loop's clock. A bar asks the loop only while a cooldown can end
(the strategy THROTTLED): at a session change and from a timed cooldown's release on.

A mixin of ``BotRunner``: it works on the runner's own attributes (declared below).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from statebot.app.runner_base import RunnerBase
from statebot.core.fsm.position import ClosedTrade
from statebot.core.fsm.throttle import THROTTLED as THROTTLED_STATE
from statebot.core.fsm.throttle import ThrottleTransition
from statebot.core.instruments import instrument
from statebot.core.learning.outcomes import TradeOutcome
from statebot.errors import StatebotError
from statebot.journal.log import LEARNING_UPDATE, THROTTLE_TRANSITION, TRADE_CLOSED


class TradeAccounting(RunnerBase):
    """The money side of ``BotRunner``: trades, equity, learning and its clock."""


    def _trade_closed(self, trade: ClosedTrade, t: dt.datetime) -> None:
        key = (trade.strategy, trade.symbol)
        bracket = self.brackets.pop(key)
        spec = instrument(trade.symbol, self._instruments)
        direction = 1 if trade.qty > 0 else -1
        entry_ref = bracket.entry_ref_ticks if bracket and bracket.entry_ref_ticks is not None else trade.avg_entry_ticks
        exit_ref = bracket.exit_ref_ticks if bracket and bracket.exit_ref_ticks is not None else trade.avg_exit_ticks
        slippage = (direction * (trade.avg_entry_ticks - entry_ref) + direction * (exit_ref - trade.avg_exit_ticks)) / 2
        expected = bracket.expected_slippage_ticks if bracket else Decimal(0)
        try:
            outcome = TradeOutcome.from_closed_trade(
                trade, spec, slippage_ticks=slippage, expected_slippage_ticks=expected,
                trade_id=f"{trade.strategy}/{trade.symbol}/{trade.entry_time.isoformat()}/{trade.exit_time.isoformat()}",
            )
        except StatebotError as exc:
            self._error(t, "trade_outcome", exc)
            return
        # the trade belongs to the session it closed in, not to the one its report arrived in
        # (a report delayed over a weekend must not count toward Monday's daily loss)
        session = self.session.schedule.session_at(trade.exit_time) or self.session.session
        day = session.date if session is not None else t.date()
        self._log(t, TRADE_CLOSED, {
            "strategy": outcome.strategy, "symbol": outcome.symbol, "qty": outcome.quantity, "session": day,
            "gross_pnl": outcome.gross_pnl_usd, "commission": outcome.commission_usd, "net_pnl": outcome.net_pnl_usd,
            "slippage_ticks": outcome.slippage_ticks, "slippage_expected_ticks": outcome.expected_slippage_ticks,
            "entry_price": outcome.entry_price, "exit_price": outcome.exit_price,
            "entry_time": outcome.entry_time, "exit_time": outcome.exit_time, "trade_id": outcome.trade_id,
        })
        self.equity += outcome.net_pnl_usd
        if trade.strategy:
            try:
                update = self.learning.record_trade(outcome, t, session_date=day)
            except StatebotError as exc:
                self._error(t, "learning", exc)
            else:
                if not update.duplicate:
                    self._log(t, LEARNING_UPDATE, {"strategy": update.strategy, "trades": update.trades,
                                                   "net_pnl": update.net_pnl_usd})
                self._log_throttle(update.transitions, t)
            self._update_learning_watch()
        self.killswitch.record_trade(outcome.net_pnl_usd, day, t)
        self._sync_killswitch(t)

    def _learning_time(self, t: dt.datetime) -> None:
        learning = self.learning
        session = self.session.session
        changes = learning.on_time(t, session.date if session is not None else None)
        self._log_throttle(changes, t)
        self._sync_killswitch(t)
        self._update_learning_watch()

    def _learning_due(self, t: dt.datetime) -> bool:
        """While watching: ask the loop now (a poll is pending) or from a timed cooldown's release on."""
        return self._learning_poll or (self._learning_wake is not None and t >= self._learning_wake)

    def _update_learning_watch(self) -> None:
        """A bar needs the learning loop's clock only while a cooldown can end (the strategy
        is THROTTLED); in PROBATION only trades move the throttle.

        While THROTTLED the loop is asked once now, then at each session change (a "next
        session" cooldown ends with a new session date) and on every bar from a timed
        cooldown's ``release_at`` on, never on the bars in between: nothing else ends a
        cooldown (an operator reset comes through ``reset_throttle``)."""
        loop = self.learning
        throttled = loop.throttle_state(self.name) == THROTTLED_STATE
        self._watch_learning = throttled
        self._learning_poll = False
        self._learning_wake = None
        if throttled and self.name in loop.strategies:
            throttle = loop.throttle(self.name)
            self._learning_wake = throttle.release_at
            # a "next session" cooldown begun without a session adopts the next one the loop is told
            self._learning_poll = throttle.awaiting_session

    def _log_throttle(self, changes: tuple[ThrottleTransition, ...], t: dt.datetime) -> None:
        for ch in changes:
            self._throttles_logged[ch.strategy] = ch.dest
            # the throttle as it now stands rides along: the fold restores it from the log
            self._log(t, THROTTLE_TRANSITION, {"strategy": ch.strategy, "from": ch.source, "to": ch.dest,
                                               "reason": ch.reason, "detail": ch.detail, "trigger": ch.trigger,
                                               "throttle": self.learning.throttle(ch.strategy).to_dict()})
