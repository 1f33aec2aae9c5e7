"""The fold: the bot's state is the event log, read by one reducer.

Every change of lifecycle state is an event appended to the log before it takes
effect (``statebot.core.effects``). ``Fold.apply(event)`` feeds one event to the same
pure machines the runner drives, so folding a log rebuilds exactly what the runner
held when it wrote that log:

- positions and live orders: each ``ORDER_SUBMITTED``, ``ORDER_CANCEL_REQUESTED``,
  ``ORDER_ENDED``, ``FILL``, ``ORDER_REJECTED``, ``ORDER_CANCELLED`` and
  ``POSITION_WRITTEN_OFF`` is re-applied to the ``PositionBook``;
- the kill switch: the day's realized net P&L from ``TRADE_CLOSED`` (its session date),
  the reject streak from counted ``ORDER_REJECTED`` (a ``FILL`` ends it), every trip and
  reset from ``KILL_SWITCH``;
- learning: each ``TRADE_CLOSED`` outcome is learned again (metrics), and each
  ``THROTTLE_TRANSITION`` the trade did not cause itself (a cooldown's end, an operator
  reset, a hold) restores the throttle the event carries;
- equity: ``STATE_RESTORED`` and ``EQUITY_SET`` set it, each ``TRADE_CLOSED`` adds its net;
- protective orders: each ``ORDER_SUBMITTED`` purpose protect records a
  protector (and registers it on its position machine), each
  ``PROTECTOR_TRANSITION`` fires the same trigger on the same protector
  machine the runner fired it on (a ``from`` or ``to`` that disagrees is an
  anomaly); each ``ORDER_MODIFY_REQUESTED`` gives a protector its new size and price;
- a restart (``STATE_RESTORED``): the orders that ended are forgotten, as the restarted runner
  (whose checkpoint keeps live orders only) forgot them: a late report of one is unrouted in both;
- the session (state and date), the clock (the last event's time), the head (seq, hash)
  and the run count;
- with ``state.history`` set, the run's record for summaries (``RunHistory``: trades,
  flattens, transitions, bar rejections), from the same pass.

A checkpoint is a cache of this fold up to a head: restart = checkpoint + the fold of
the log after its head; no checkpoint = the fold of the whole log. Where an event
disagrees with the state folded before it (a ``from`` that is not the folded state, a
time that goes backwards, a trip the fold did not expect), the disagreement is kept in
``anomalies`` with its line number: ``statebot replay --strict`` fails on any.

Pure: no files, no wall clock. Events come in as any objects with ``seq``, ``ts``,
``type``, ``payload`` and ``hash`` (``statebot.journal.log.Event``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import attrs

from statebot.core.effects import (
    EQUITY_SET,
    FILL,
    KILL_SWITCH,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_ENDED,
    ORDER_MODIFY_REQUESTED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    POSITION_TRANSITION,
    PROTECTOR_TRANSITION,
    POSITION_WRITTEN_OFF,
    RUNNER_ERROR,
    SESSION_TRANSITION,
    STATE_RESTORED,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.engine.history import RunHistory
from statebot.core.fsm.killswitch import ARMED, TRIPPED, KillSwitch
from statebot.core.fsm.throttle import ThrottleTransition
from statebot.core.learning.loop import LearningLoop
from statebot.core.learning.outcomes import TradeOutcome
from statebot.core.engine.protection import ProtectionDesk, apply_modify
from statebot.core.orders import (
    CANCELLED,
    DAY,
    ENTRY,
    EXIT,
    FLATTEN,
    LIMIT,
    PROTECT,
    REJECTED,
    STOP,
    Fill,
    OrderRequest,
    OrderStatus,
)
from statebot.core.positions.book import PositionBook
from statebot.errors import EventLogError, StatebotError

GENESIS = "0" * 64
_RUN_PREFIX = re.compile(r"^r(\d+)-")


class LoggedEvent(Protocol):
    """What the fold reads of one event (``statebot.journal.log.Event`` is one)."""

    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> dt.datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def hash(self) -> str: ...


@attrs.define
class Bracket:
    """The protective exits of the open position: distances from the signal, prices once filled."""

    side: int
    stop_ticks: int
    target_ticks: int | None
    expected_slippage_ticks: Decimal
    entry_ref_ticks: int | None
    exit_ref_ticks: int | None = None
    stop_price: float | None = None
    target_price: float | None = None

    def to_dict(self, strategy: str, symbol: str) -> dict[str, Any]:
        return {"strategy": strategy, "symbol": symbol, "side": self.side, "stop_ticks": self.stop_ticks,
                "target_ticks": self.target_ticks, "expected_slippage_ticks": str(self.expected_slippage_ticks),
                "entry_ref_ticks": self.entry_ref_ticks, "exit_ref_ticks": self.exit_ref_ticks}

    def prices_at(self, entry_price: Decimal, tick_size: Decimal) -> tuple[Decimal, Decimal | None]:
        """(stop, target) prices for a position entered at ``entry_price`` (target None when the
        signal named none): the same distances ``update_bracket`` applies to the average entry."""
        stop = entry_price - self.side * self.stop_ticks * tick_size
        target = None if self.target_ticks is None else entry_price + self.side * self.target_ticks * tick_size
        return stop, target

    @classmethod
    def from_dict(cls, b: Mapping[str, Any]) -> Bracket:
        return cls(side=int(b["side"]), stop_ticks=int(b["stop_ticks"]), target_ticks=b["target_ticks"],
                   expected_slippage_ticks=Decimal(b["expected_slippage_ticks"]), entry_ref_ticks=b["entry_ref_ticks"],
                   exit_ref_ticks=b["exit_ref_ticks"])


@attrs.frozen(kw_only=True)
class Anomaly:
    """An event that disagrees with the state folded before it (``line`` is 1-based; 0 when unknown)."""

    line: int
    message: str


@attrs.define(kw_only=True)
class BotState:
    """Everything a restarted runner needs; the fold's result.

    ``book``, ``killswitch`` and ``learning`` are the live machines (the runner's own,
    when it restores). ``head`` is the (seq, hash) of the last event folded; ``clock`` its
    time; ``run`` how many runner starts the log records; ``equity`` the account value
    sizing uses (None until the log says); ``session``/``session_date`` the last session
    transition's destination and date.
    """

    book: PositionBook
    killswitch: KillSwitch
    learning: LearningLoop
    equity: Decimal | None = None
    brackets: dict[tuple[str, str], Bracket] = attrs.field(factory=dict)
    seq: int = 0
    hash: str = GENESIS
    clock: dt.datetime | None = None
    run: int = 0
    session: str | None = None
    session_date: dt.date | None = None
    throttles: dict[str, str] = attrs.field(factory=dict)
    positions: dict[tuple[str, str], tuple[str, int]] = attrs.field(factory=dict)
    """Each position's last logged (state, qty) as ``POSITION_TRANSITION`` told it."""
    kill_reason: str | None = None
    config_hashes: dict[str, None] = attrs.field(factory=dict)
    events: int = 0
    history: RunHistory | None = None
    """Set to a ``RunHistory`` to keep the run's record (trades, flattens, transitions) as the
    fold goes: what a summary needs, from the same pass; never part of a checkpoint or ``view``."""
    protection: ProtectionDesk = attrs.field(default=attrs.Factory(lambda self: ProtectionDesk(self.book), takes_self=True))
    """The protective orders held at the venue (a bracket's stop and target), each a protector machine."""

    def view(self) -> dict[str, Any]:
        """The state as plain data, for comparing two states (a fold with the live runner):
        every position machine that holds, works or has seen something, the kill switch, the learning
        loop (metrics and throttles), equity and the protective stops (without the exit
        reference price, which only feeds a trade's slippage figure)."""
        return {
            "positions": sorted((m.to_dict() for m in self.book.machines() if m.qty or m.live_orders() or m.seen_any()),
                                key=lambda d: (d["strategy"], d["symbol"])),
            "unowned_fills": [(f.exec_id, f.symbol, f.qty, f.price_ticks, str(f.commission), f.at.isoformat())
                              for f in self.book.unowned_fills()],
            "killswitch": self.killswitch.to_dict(),
            "learning": self.learning.export_to_dict(),
            "equity": None if self.equity is None else str(self.equity),
            "brackets": {f"{k[0]}/{k[1]}": {**b.to_dict(*k), "exit_ref_ticks": None} for k, b in sorted(self.brackets.items())
                         if self.book.machine(*k).qty or self.book.machine(*k).live_orders()},
            "protectors": sorted(self.protection.to_dict(), key=lambda d: str(d["order_id"])),
        }


class Fold:
    """Applies events, in log order, to a ``BotState``; one instance per fold.

    ``strict_positions`` re-applies order and fill events to the book and learns each
    trade again (a runner's restore, the live-state comparison): the state is exact.
    Without it (``replay`` of a log whose configuration is unknown) the fold follows
    what the log says: positions from ``POSITION_TRANSITION`` and routed fills, throttles
    from ``THROTTLE_TRANSITION``, the kill switch from ``KILL_SWITCH``.
    """

    def __init__(self, state: BotState, *, strict_positions: bool = True, raise_malformed: bool = False) -> None:
        self.state = state
        self.strict_positions = strict_positions
        self.raise_malformed = raise_malformed
        self.anomalies: list[Anomaly] = []
        self._trips_logged = len(state.killswitch.trips)
        self._expected_throttle: list[ThrottleTransition] = []

    # -- the reducer ------------------------------------------------------------

    def apply(self, event: LoggedEvent, line: int = 0) -> None:
        """Fold one event. Never raises for what the event says: a disagreement is an anomaly."""
        s = self.state
        if s.clock is not None and event.ts < s.clock:
            self._anomaly(line, f"ts {event.ts.isoformat()} is before the previous event's {s.clock.isoformat()}")
        s.events += 1
        s.seq, s.hash, s.clock = event.seq, event.hash, max(event.ts, s.clock) if s.clock is not None else event.ts
        config_hash = getattr(event, "config_hash", None)
        if config_hash is not None:
            s.config_hashes.setdefault(config_hash)
        if s.history is not None:
            s.history.record(event)
        handler = self._HANDLERS.get(event.type)
        if handler is None:
            return
        try:
            handler(self, event, event.payload, line)
        except _Malformed as exc:
            if self.raise_malformed:
                raise EventLogError(f"line {line}: {event.type} {exc}", line=line) from None
            self._anomaly(line, f"{event.type} could not be folded: {exc}")
        except (StatebotError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
            self._anomaly(line, f"{event.type} could not be folded: {type(exc).__name__}: {exc}")

    def apply_all(self, events: Iterable[tuple[int, LoggedEvent]]) -> BotState:
        """Fold ``(line, event)`` pairs in order; returns the state."""
        for line, event in events:
            self.apply(event, line)
        return self.state

    def _anomaly(self, line: int, message: str) -> None:
        self.anomalies.append(Anomaly(line=line, message=message))

    def _expect(self, line: int, what: str, before: str | None, claimed: object) -> None:
        if before is not None and claimed != before:
            self._anomaly(line, f"{what}: from {claimed} but replayed state was {before}")

    # -- runs, equity, session --------------------------------------------------

    def _restored(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        s.run = max(s.run, int(p.get("run", s.run + 1)))
        if self.strict_positions:
            s.book.forget_ended()  # the run that starts here restored no ended order: late reports find none
        if p.get("equity") is not None:
            s.equity = Decimal(str(p["equity"]))

    def _equity(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        self.state.equity = Decimal(str(p["equity"]))

    def _session(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        self._expect(line, "session", s.session, p["from"])
        s.session = str(p["to"])
        s.session_date = dt.date.fromisoformat(str(p["session"])) if p.get("session") else None

    # -- orders and fills ---------------------------------------------------------

    def _submitted(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        order_id = str(p["order_id"])
        found = _RUN_PREFIX.match(order_id)
        if found:
            s.run = max(s.run, int(found.group(1)))
        strategy, symbol, purpose = str(p["strategy"]), str(p["symbol"]), str(p["purpose"])
        if purpose == PROTECT and strategy:
            self._protector(p, order_id, strategy, symbol, line)
            return
        if not self.strict_positions or not strategy:
            return  # an unowned closing order belongs to no machine
        order = OrderRequest(client_order_id=order_id, strategy=strategy, symbol=symbol, qty=_int(p["qty"]),
                             purpose=purpose)
        m = s.book.machine(strategy, symbol)
        if purpose == ENTRY:
            m.submit_entry(order)
            bracket = entry_bracket(p)
            if bracket is not None:
                s.brackets[(strategy, symbol)] = bracket
        elif purpose in (EXIT, FLATTEN):
            m.submit_exit(order)
            bracket = s.brackets.get((strategy, symbol))
            if bracket is not None and p.get("ref_ticks") is not None:
                bracket.exit_ref_ticks = _int(p["ref_ticks"])

    def _protector(self, p: Mapping[str, Any], order_id: str, strategy: str, symbol: str, line: int) -> None:
        s = self.state
        kind = str(p["kind"])
        ticks = _int(p["price_ticks"], "price_ticks")
        order = OrderRequest(client_order_id=order_id, strategy=strategy, symbol=symbol, qty=_int(p["qty"]), kind=kind,
                             purpose=PROTECT, stop_ticks=ticks if kind == STOP else None,
                             limit_ticks=ticks if kind == LIMIT else None, tif=str(p.get("tif") or DAY),
                             parent_id=p.get("parent_id"), oca_group=p.get("oca_group"))
        s.protection.sent((order,))
        if self.strict_positions:
            s.book.machine(strategy, symbol).submit_protectors((order,))

    def _protector_transition(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        problem = self.state.protection.replay(p)
        if problem is not None:
            self._anomaly(line, problem)

    def _modify_requested(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        order_id = str(p["order_id"])
        if not self.state.protection.knows(order_id):
            self._anomaly(line, f"protector {order_id}: modified but no such protector is live")
            return
        apply_modify(self.state.book, self.state.protection, order_id, _int(p["qty"]),
                     _int(p["price_ticks"], "price_ticks"), positions=self.strict_positions)

    def _cancel_requested(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        if self.strict_positions:
            owner = self.state.book.owner(str(p["order_id"]))
            if owner is not None:
                owner.request_cancel(str(p["order_id"]))

    def _ended(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        if self.strict_positions:
            owner = self.state.book.owner(str(p["order_id"]))
            if owner is not None:
                owner.venue_not_working(str(p["order_id"]))

    def _status(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        order_id = str(p["order_id"])
        if event.type == ORDER_REJECTED and p.get("counted", True) and self.strict_positions:
            s.killswitch.record_reject(event.ts, f"order {order_id} rejected: {p.get('reason')}")
        if not self.strict_positions:
            return
        owner = s.book.owner(order_id)
        if owner is None:
            return
        filled = _int(p["filled"]) if p.get("filled") is not None else owner.filled(order_id)
        status = REJECTED if event.type == ORDER_REJECTED else CANCELLED
        s.book.apply((OrderStatus(order_id=order_id, status=status, filled=filled,
                                  remaining=max(abs(owner.order(order_id).qty) - filled, 0), at=event.ts,
                                  reason=str(p.get("reason") or "")),))

    def _fill(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        s.killswitch.record_accept()
        key = (str(p["strategy"]), str(p["symbol"]))
        if p.get("routed") is True and not self.strict_positions and key in s.positions:
            state, qty = s.positions[key]
            s.positions[key] = (state, qty + _int(p["qty"]))
        if not self.strict_positions:
            return
        symbol = str(p["symbol"])
        spec = s.book.instrument(symbol)
        at = dt.datetime.fromisoformat(str(p["at"])) if p.get("at") else event.ts
        s.book.apply((Fill(exec_id=str(p["exec_id"]), order_id=str(p["order_id"]), strategy=str(p["strategy"]),
                           symbol=symbol, qty=_int(p["qty"]), price_ticks=spec.to_ticks(Decimal(str(p["price"]))),
                           commission=Decimal(str(p["commission"])), at=at),))
        owner = s.book.owner(str(p["order_id"]))
        if owner is not None:
            update_bracket(s.brackets.get((owner.strategy, owner.symbol)), owner)

    def _position(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        key = (str(p["strategy"]), str(p["symbol"]))
        before = s.positions.get(key)
        self._expect(line, f"position {key[0]} {key[1]}", before[0] if before else None, p["from"])
        s.positions[key] = (str(p["to"]), _int(p["qty"]))
        if self.strict_positions:
            m = s.book.machine(*key)
            if m.state != p["to"] or m.qty != _int(p["qty"]):
                self._anomaly(line, f"position {key[0]} {key[1]}: logged {p['to']} {p['qty']} but the folded "
                                    f"machine is {m.state} {m.qty}")

    def _written_off(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        if self.strict_positions:
            key = (str(p["strategy"]), str(p["symbol"]))
            self.state.book.machine(*key).write_off()
            self.state.brackets.pop(key, None)

    # -- trades, learning, kill switch ----------------------------------------------

    def _trade(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        net = Decimal(str(p["net_pnl"]))
        if s.equity is not None:
            s.equity += net
        s.brackets.pop((str(p["strategy"]), str(p["symbol"])), None)
        day = dt.date.fromisoformat(str(p["session"])) if p.get("session") else event.ts.date()
        if p.get("strategy") and "entry_time" in p and self.strict_positions:
            outcome = outcome_from_payload(p)
            update = s.learning.record_trade(outcome, event.ts, session_date=day)
            self._expected_throttle.extend(update.transitions)
        s.killswitch.record_trade(net, day, event.ts)

    def _throttle(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        strategy, source, dest = str(p["strategy"]), str(p["from"]), str(p["to"])
        self._expect(line, f"throttle {strategy}", s.throttles.get(strategy), source)
        s.throttles[strategy] = dest
        expected = self._expected_throttle
        if expected and (expected[0].strategy, expected[0].source, expected[0].dest) == (strategy, source, dest):
            expected.pop(0)
            return
        if expected:
            self._anomaly(line, f"throttle {strategy}: logged {source} -> {dest} but the trade folded before it moved "
                                f"{expected[0].source} -> {expected[0].dest}")
            expected.clear()
        if "throttle" in p:
            s.learning.restore_throttle(strategy, p["throttle"], trigger=str(p.get("trigger") or ""))

    def _kill_switch(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        s = self.state
        ks = s.killswitch
        dest, reason = str(p["to"]), str(p["reason"])
        # as the runner logs them: a reset from TRIPPED; the first trip since arming from ARMED
        self._expect(line, "kill switch", TRIPPED if dest == ARMED or self._trips_logged else ARMED, p["from"])
        s.kill_reason = reason
        if dest == ARMED:
            if not ks.allows_entries:
                ks.reset(str(p.get("detail") or "reset"), event.ts)
            self._trips_logged = 0
            return
        trips = ks.trips
        if len(trips) > self._trips_logged:
            # the fold tripped it already (the daily loss, the reject streak): the event names it
            if trips[self._trips_logged].reason != reason:
                self._anomaly(line, f"kill switch: logged trip {reason} but the fold tripped on "
                                    f"{trips[self._trips_logged].reason}")
        else:
            at = dt.datetime.fromisoformat(str(p["at"])) if p.get("at") else event.ts
            ks.trip(reason, at, str(p.get("detail") or ""))
        self._trips_logged += 1

    def _runner_error(self, event: LoggedEvent, p: Mapping[str, Any], line: int) -> None:
        # a strategy error counts toward the kill switch's limit as the runner counted it; logs
        # written before errors named their session were never counted, and are not now
        if p.get("stage") == "strategy" and p.get("session"):
            day = dt.date.fromisoformat(str(p["session"]))
            self.state.killswitch.record_strategy_error(day, event.ts, str(p.get("error") or ""))

    _HANDLERS: Mapping[str, Any] = {
        STATE_RESTORED: _restored,
        EQUITY_SET: _equity,
        SESSION_TRANSITION: _session,
        ORDER_SUBMITTED: _submitted,
        ORDER_CANCEL_REQUESTED: _cancel_requested,
        ORDER_MODIFY_REQUESTED: _modify_requested,
        ORDER_ENDED: _ended,
        ORDER_REJECTED: _status,
        ORDER_CANCELLED: _status,
        FILL: _fill,
        POSITION_TRANSITION: _position,
        POSITION_WRITTEN_OFF: _written_off,
        TRADE_CLOSED: _trade,
        THROTTLE_TRANSITION: _throttle,
        KILL_SWITCH: _kill_switch,
        RUNNER_ERROR: _runner_error,
        PROTECTOR_TRANSITION: _protector_transition,
    }


def entry_bracket(p: Mapping[str, Any]) -> Bracket | None:
    """The ``Bracket`` an entry's ``ORDER_SUBMITTED`` payload records (None: the entry named no stop).
    Raises ``ValueError`` for a quantity or distance that is not an integer."""
    if p.get("stop_ticks") is None:
        return None
    return Bracket(side=1 if _int(p["qty"]) > 0 else -1, stop_ticks=_int(p["stop_ticks"], "stop_ticks"),
                   target_ticks=None if p.get("target_ticks") is None else _int(p["target_ticks"], "target_ticks"),
                   expected_slippage_ticks=Decimal(str(p.get("expected_slippage_ticks", "0"))),
                   entry_ref_ticks=None if p.get("ref_ticks") is None else _int(p["ref_ticks"], "ref_ticks"))


def update_bracket(bracket: Bracket | None, m: Any) -> None:
    """Set a bracket's stop and target prices from its position's average entry."""
    avg = m.avg_entry_ticks
    if bracket is None or avg is None or not m.qty:
        return
    size = m.instrument.tick_size
    bracket.stop_price = float((avg - bracket.side * bracket.stop_ticks) * size)
    bracket.target_price = None if bracket.target_ticks is None else float((avg + bracket.side * bracket.target_ticks) * size)


def outcome_from_payload(p: Mapping[str, Any]) -> TradeOutcome:
    """The ``TradeOutcome`` a ``TRADE_CLOSED`` payload records."""
    return TradeOutcome(
        strategy=str(p["strategy"]), symbol=str(p["symbol"]), quantity=_int(p["qty"]),
        entry_time=dt.datetime.fromisoformat(str(p["entry_time"])), exit_time=dt.datetime.fromisoformat(str(p["exit_time"])),
        entry_price=Decimal(str(p["entry_price"])), exit_price=Decimal(str(p["exit_price"])),
        gross_pnl_usd=Decimal(str(p["gross_pnl"])), commission_usd=Decimal(str(p["commission"])),
        slippage_ticks=Decimal(str(p["slippage_ticks"])), expected_slippage_ticks=Decimal(str(p["slippage_expected_ticks"])),
        spread_ticks=Decimal(str(p.get("spread_ticks", "0"))),
        trade_id=None if p.get("trade_id") is None else str(p["trade_id"]),
    )


class _Malformed(ValueError):
    """A payload value of the wrong kind (the log verifies, but a writer wrote nonsense)."""


def _int(value: object, what: str = "qty") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise _Malformed(f"{what} {value!r} is not an integer")
