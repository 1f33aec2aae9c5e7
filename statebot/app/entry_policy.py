"""The entry policy: the ordered checks a wanted entry passes from flat, then its order.

A signal from flat becomes an entry only if every check in ``ENTRY_CHECKS`` passes, in
this order; the first that refuses names the reason (its ``Decision`` is a SKIP):

1. ``session_open``: the session is TRADING and before its entry cut-off (``session``).
2. ``not_stopping``: no ``flatten_now`` stopped this runner (``stopping``).
3. ``venue_connected``: the venue answers (``adapter_unavailable``).
4. ``venue_reconciled``: after a reconnect, positions were reconciled (``reconciling``).
5. ``kill_switch_armed``: the kill switch is ARMED (``kill_switch``).
6. ``throttle_allows``: the strategy's throttle is ACTIVE or PROBATION (``throttled``).
7. ``quality_gates``: the signal's DVS and EQS pass their thresholds (``gate_DVS``,
   ``gate_EQS``; logged as ``GATE_SKIP {gate, value, threshold}``).

Then ``size_entry`` sizes it (``compute_position_size``: risk per tier, equity
fraction, max contracts, the max stop distance and the throttle's PROBATION cap; a
zero size is refused with the sizing reason, e.g. ``stop_too_wide``), and
``submit_entry`` notes its bracket, logs ``ORDER_SUBMITTED`` purpose entry (and,
where the venue holds protective orders, purpose protect for its stop and target),
commits the log and sends the order (as one bracket with its protectors). The order of the checks is the order of the refusals a
log records: changing it changes the bytes of every simulation's log.

Each check is a plain function ``(runner, signal, t, may_enter) -> Decision | None``
(None: passes); they read the runner and change nothing but the gate's event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from statebot.app.decision import ENTER, KILL_SWITCH_SKIP, SKIP, Decision, skip
from statebot.core.engine.fold import Bracket
from statebot.core.orders import ENTRY, REJECTED, OrderRequest, OrderStatus
from statebot.core.positions.book import send_bracket, send_entry
from statebot.core.risk.gates import check_quality
from statebot.core.risk.sizing import SizingResult, compute_position_size
from statebot.errors import StatebotError
from statebot.journal.log import GATE_SKIP, ORDER_REJECTED

if TYPE_CHECKING:
    from statebot.app.runner_base import RunnerBase
    from statebot.core.strategy.protocol import Signal
    from statebot.core.time.clock import Bar

EntryCheck = Callable[["RunnerBase", "Signal", dt.datetime, bool], "Decision | None"]
"""One check of the entry policy: None when it passes, else the refusal (a SKIP)."""

_STOPPING = Decision(action=SKIP, reason="stopping")
_DISCONNECTED = Decision(action=SKIP, reason="adapter_unavailable", detail="venue disconnected")
_RECONCILING = Decision(action=SKIP, reason="reconciling", detail="positions not yet reconciled after a reconnect")


def session_open(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """The session is TRADING and before its entry cut-off."""
    return None if may_enter else skip("session", runner.session.state)


def not_stopping(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """``flatten_now`` was not called: a runner being shut down sends no entry."""
    return _STOPPING if runner._stopping else None


def venue_connected(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """The venue answered its last call (the ``venue_connection`` machine is not DISCONNECTED)."""
    return None if runner.connection.reachable else _DISCONNECTED


def venue_reconciled(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """After a reconnect, the venue's positions were compared with the machines' (CONNECTED again)."""
    return None if runner.connection.allows_entries else _RECONCILING


def kill_switch_armed(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """The kill switch is ARMED."""
    return None if runner.killswitch.allows_entries else KILL_SWITCH_SKIP


def throttle_allows(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """The strategy's throttle is ACTIVE or PROBATION (not THROTTLED)."""
    return None if runner.learning.allows_entry(runner.name) else skip("throttled", runner.learning.throttle_state(runner.name))


def quality_gates(runner: RunnerBase, signal: Signal, t: dt.datetime, may_enter: bool) -> Decision | None:
    """The signal's DVS and EQS reach the configured thresholds; a refusal is logged (``GATE_SKIP``)."""
    gates = runner.config.gates
    gate = check_quality(signal.dvs, signal.eqs, dvs_threshold=gates.dvs_threshold, eqs_threshold=gates.eqs_threshold)
    if gate.passed:
        return None
    runner._log(t, GATE_SKIP, {**gate.payload(), "strategy": runner.name})
    return Decision(action=SKIP, reason=f"gate_{gate.gate}", detail=str(gate.reason))


ENTRY_CHECKS: tuple[EntryCheck, ...] = (
    session_open, not_stopping, venue_connected, venue_reconciled, kill_switch_armed, throttle_allows, quality_gates,
)
"""The entry policy, in the order its refusals are tried (the module docstring)."""


def size_entry(runner: RunnerBase, signal: Signal, t: dt.datetime) -> SizingResult | Decision:
    """The entry's size, or its refusal: ``sizing_error`` (logged) or the sizing reason of a zero size."""
    sizing = runner.config.sizing
    try:
        size = compute_position_size(
            runner.equity, sizing.max_risk_for(signal.tier), signal.stop_ticks,
            tick_value=runner.instrument.tick_value, max_contracts=sizing.max_contracts,
            equity_risk_fraction=sizing.equity_risk_fraction, max_stop_ticks=sizing.max_stop_ticks,
            cap=runner.learning.size_cap(runner.name),
        )
    except StatebotError as exc:
        runner._error(t, "sizing", exc)
        return Decision(action=SKIP, reason="sizing_error", detail=str(exc))
    if not size.contracts:
        return Decision(action=SKIP, reason=str(size.reason))
    return size


def submit_entry(runner: RunnerBase, signal: Signal, size: SizingResult, bar: Bar, t: dt.datetime,
                 may_enter: bool) -> Decision:
    """Send the entry: its bracket noted and ``ORDER_SUBMITTED`` logged and committed before the
    order leaves; an order the venue could not take is ``ORDER_REJECTED`` (not counted) and a SKIP."""
    qty = signal.side * size.contracts
    order = OrderRequest(client_order_id=runner._new_id(), strategy=runner.name, symbol=runner.symbol, qty=qty,
                         purpose=ENTRY)
    ref = runner.instrument.to_ticks(bar.close)
    runner._log_order(t, order, {"stop_ticks": signal.stop_ticks, "limited_by": size.limited_by,
                                 "risk": size.risk, "equity": runner.equity, "reason": signal.reason,
                                 "target_ticks": signal.target_ticks, "ref_ticks": ref,
                                 "expected_slippage_ticks": signal.expected_slippage_ticks})
    bracket = Bracket(side=signal.side, stop_ticks=signal.stop_ticks, target_ticks=signal.target_ticks,
                      expected_slippage_ticks=signal.expected_slippage_ticks, entry_ref_ticks=ref)
    runner.brackets.open((runner.name, runner.symbol), bracket)
    venue_bracket = runner.brackets.bracket_of(order, bracket)
    if venue_bracket is not None:
        runner.brackets.log_protectors(t, venue_bracket)
    runner.events.commit()
    try:
        if venue_bracket is not None:
            sent = send_bracket(runner.book, runner.adapter, venue_bracket, at=t,  # type: ignore[arg-type]
                                killswitch=runner.killswitch, session_allows=may_enter)
        else:
            sent = send_entry(runner.book, runner.adapter, order, at=t, killswitch=runner.killswitch,
                              session_allows=may_enter)
    except (StatebotError, ValueError) as exc:
        runner._error(t, "entry", exc)
        runner._log_positions(t)
        return Decision(action=SKIP, reason="entry_refused", detail=str(exc))
    runner._log_positions(t)
    if not sent:
        for refused in (venue_bracket.orders if venue_bracket is not None else (order,)):
            runner._log(t, ORDER_REJECTED, {"order_id": refused.client_order_id, "reason": "adapter unavailable",
                                            "filled": 0, "counted": False})
            runner.brackets.on_event(OrderStatus(order_id=refused.client_order_id, status=REJECTED, filled=0,
                                                 remaining=abs(refused.qty), at=t, reason="adapter unavailable"), t)
        return Decision(action=SKIP, reason="adapter_unavailable", order_id=order.client_order_id, qty=qty)
    return Decision(action=ENTER, reason=signal.reason or "signal", order_id=order.client_order_id, qty=qty)
