"""Brackets: the protective stop and target of each open position, and the exit order that closes it.

An entry notes its bracket (the signal's stop and target distances, the reference
price the slippage is measured from); the position's fills price it
(``update_bracket``: stop and target prices once the average entry is known). Each
closed bar the runner asks ``hit(key, bar)``: a long whose bar reached its stop
(low <= stop) or its target (high >= target), a short mirrored, is exited with
``exit`` (``ORDER_SUBMITTED`` purpose exit, logged and committed before the order
leaves). The same ``exit`` sends the strategy's own exits (a reversal, a FLAT
signal), so every closing order a strategy asks for passes here. The stop is
checked before the target: a bar that reached both counts as stopped.

The stops are held by the runner, not at the venue: a stop is acted on at the close
of the bar that reached it. This class is the seam for protective orders the venue
holds: it is built with the runner's position machines (``book``), the venue
(``adapter``) and the runner's journal (``RunnerJournal``: append an event, log an
error, log position transitions, number and log an order), and owns the bracket
table the checkpoint and the fold carry (``by_key``, shared with ``BotState.brackets``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from statebot.app.decision import EXIT_ACTION, HOLD, SKIP, Decision
from statebot.core.engine.fold import Bracket, update_bracket
from statebot.core.orders import EXIT, OrderRequest
from statebot.core.positions.book import send_exit
from statebot.errors import StatebotError
from statebot.journal.log import ORDER_REJECTED

if TYPE_CHECKING:
    from statebot.core.fsm.position import PositionMachine
    from statebot.core.instruments import InstrumentSpec
    from statebot.core.ports import BrokerAdapter
    from statebot.core.positions.book import PositionBook
    from statebot.core.time.clock import Bar
    from statebot.journal.log import EventLog


class RunnerJournal(Protocol):
    """What a bracket needs of the runner's event log (``BotRunner`` provides it)."""

    events: EventLog

    def _log(self, t: dt.datetime, type: str, payload: Mapping[str, Any]) -> None: ...

    def _error(self, t: dt.datetime, stage: str, exc: BaseException) -> None: ...

    def _log_positions(self, t: dt.datetime) -> None: ...

    def _new_id(self) -> str: ...

    def _log_order(self, t: dt.datetime, order: OrderRequest, extra: Mapping[str, Any] | None = None) -> None: ...


class Brackets:
    """The brackets of the open positions (``by_key``: (strategy, symbol) -> ``Bracket``)."""

    __slots__ = ("by_key", "book", "adapter", "instrument", "journal")

    def __init__(self, by_key: dict[tuple[str, str], Bracket], *, book: PositionBook, adapter: BrokerAdapter,
                 instrument: InstrumentSpec, journal: RunnerJournal) -> None:
        self.by_key = by_key
        self.book = book
        self.adapter = adapter
        self.instrument = instrument
        self.journal = journal

    def open(self, key: tuple[str, str], bracket: Bracket) -> None:
        """An entry is about to leave: its bracket, priced once it fills."""
        self.by_key[key] = bracket

    def pop(self, key: tuple[str, str]) -> Bracket | None:
        """The position closed or was written off: its bracket is done (returned, if any)."""
        return self.by_key.pop(key, None)

    def update(self, m: PositionMachine) -> None:
        """A fill of ``m``: the stop and target prices follow its average entry."""
        update_bracket(self.by_key.get((m.strategy, m.symbol)), m)

    def note_exit_refs(self, bar: Bar | None) -> None:
        """A flatten starts: the last bar's close is the reference its exits' slippage is measured from."""
        if bar is None:
            return
        ref = self.instrument.to_ticks(bar.close)
        for bracket in self.by_key.values():
            if bracket.exit_ref_ticks is None:
                bracket.exit_ref_ticks = ref

    def hit(self, key: tuple[str, str], bar: Bar) -> str | None:
        """``"stop"`` or ``"target"`` when the closed ``bar`` reached the bracket of ``key``, else None."""
        b = self.by_key.get(key)
        if b is None or b.stop_price is None:
            return None
        if b.side > 0:
            if bar.low <= b.stop_price:
                return "stop"
            if b.target_price is not None and bar.high >= b.target_price:
                return "target"
        else:
            if bar.high >= b.stop_price:
                return "stop"
            if b.target_price is not None and bar.low <= b.target_price:
                return "target"
        return None

    def exit(self, m: PositionMachine, bar: Bar, t: dt.datetime, reason: str) -> Decision:
        """Close ``m``'s whole position with one exit order at ``t`` (``reason``: stop, target,
        reversal, strategy_flat): logged and committed before it leaves; an order the venue
        could not take is ``ORDER_REJECTED`` (not counted) and a SKIP."""
        journal = self.journal
        order = OrderRequest(client_order_id=journal._new_id(), strategy=m.strategy, symbol=m.symbol, qty=-m.qty,
                             purpose=EXIT)
        bracket = self.by_key.get((m.strategy, m.symbol))
        ref = self.instrument.to_ticks(bar.close)
        if bracket is not None:
            bracket.exit_ref_ticks = ref
        try:
            m.check_exit(order)
        except (StatebotError, ValueError) as exc:
            journal._error(t, "exit", exc)
            return Decision(action=HOLD, reason="exit_refused", detail=str(exc))
        journal._log_order(t, order, {"ref_ticks": ref})
        journal.events.commit()
        try:
            sent = send_exit(self.book, self.adapter, order, at=t)
        except (StatebotError, ValueError) as exc:
            journal._error(t, "exit", exc)
            sent = False
        journal._log_positions(t)
        if not sent:
            journal._log(t, ORDER_REJECTED, {"order_id": order.client_order_id, "reason": "adapter unavailable",
                                             "filled": 0, "counted": False})
            return Decision(action=SKIP, reason="adapter_unavailable", order_id=order.client_order_id, qty=order.qty)
        return Decision(action=EXIT_ACTION, reason=reason, order_id=order.client_order_id, qty=order.qty)
