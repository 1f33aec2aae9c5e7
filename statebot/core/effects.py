"""The typed events of the bot: every change of lifecycle state is one of these, appended to the log.

Pure data, no I/O: the core folds these events into the bot's state
(``statebot.core.engine.fold``); the journal (``statebot.journal.log``) writes and
reads them as hash-chained lines. ``EventType`` names every built-in type;
``EVENT_TYPES`` gives the payload keys each must carry (more are allowed).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class EventType(StrEnum):
    """Every built-in event type (the value is the ``type`` written in the log)."""

    SESSION_TRANSITION = "SESSION_TRANSITION"
    SESSION_EXIT_FLATTEN = "SESSION_EXIT_FLATTEN"
    ORDER_SUBMITTED = "ORDER_SUBMITTED"
    ORDER_REJECTED = "ORDER_REJECTED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    FILL = "FILL"
    POSITION_TRANSITION = "POSITION_TRANSITION"
    POSITION_MISMATCH = "POSITION_MISMATCH"
    POSITION_WRITTEN_OFF = "POSITION_WRITTEN_OFF"
    TRADE_CLOSED = "TRADE_CLOSED"
    LEARNING_UPDATE = "LEARNING_UPDATE"
    THROTTLE_TRANSITION = "THROTTLE_TRANSITION"
    GATE_SKIP = "GATE_SKIP"
    KILL_SWITCH = "KILL_SWITCH"
    BAR_REJECTED = "BAR_REJECTED"
    BAR_FLAGGED = "BAR_FLAGGED"
    STATE_SAVED = "STATE_SAVED"
    STATE_SAVE_FAILED = "STATE_SAVE_FAILED"
    STATE_LOAD_FAILED = "STATE_LOAD_FAILED"
    EVENT_LOG_TAIL_MOVED = "EVENT_LOG_TAIL_MOVED"
    RUNNER_ERROR = "RUNNER_ERROR"
    VENUE_CONNECTION = "VENUE_CONNECTION"
    ORDER_CANCEL_REQUESTED = "ORDER_CANCEL_REQUESTED"
    ORDER_ENDED = "ORDER_ENDED"
    STATE_RESTORED = "STATE_RESTORED"
    EQUITY_SET = "EQUITY_SET"
    SESSIONS_WITHOUT_DATA = "SESSIONS_WITHOUT_DATA"
    PROTECTOR_TRANSITION = "PROTECTOR_TRANSITION"
    PROTECTOR_MISMATCH = "PROTECTOR_MISMATCH"
    ORDER_MODIFY_REQUESTED = "ORDER_MODIFY_REQUESTED"


SESSION_TRANSITION = EventType.SESSION_TRANSITION
SESSION_EXIT_FLATTEN = EventType.SESSION_EXIT_FLATTEN
ORDER_SUBMITTED = EventType.ORDER_SUBMITTED
ORDER_REJECTED = EventType.ORDER_REJECTED
ORDER_CANCELLED = EventType.ORDER_CANCELLED
FILL = EventType.FILL
POSITION_TRANSITION = EventType.POSITION_TRANSITION
POSITION_MISMATCH = EventType.POSITION_MISMATCH
POSITION_WRITTEN_OFF = EventType.POSITION_WRITTEN_OFF
TRADE_CLOSED = EventType.TRADE_CLOSED
LEARNING_UPDATE = EventType.LEARNING_UPDATE
THROTTLE_TRANSITION = EventType.THROTTLE_TRANSITION
GATE_SKIP = EventType.GATE_SKIP
KILL_SWITCH = EventType.KILL_SWITCH
BAR_REJECTED = EventType.BAR_REJECTED
BAR_FLAGGED = EventType.BAR_FLAGGED
STATE_SAVED = EventType.STATE_SAVED
STATE_SAVE_FAILED = EventType.STATE_SAVE_FAILED
STATE_LOAD_FAILED = EventType.STATE_LOAD_FAILED
EVENT_LOG_TAIL_MOVED = EventType.EVENT_LOG_TAIL_MOVED
RUNNER_ERROR = EventType.RUNNER_ERROR
VENUE_CONNECTION = EventType.VENUE_CONNECTION
ORDER_CANCEL_REQUESTED = EventType.ORDER_CANCEL_REQUESTED
ORDER_ENDED = EventType.ORDER_ENDED
STATE_RESTORED = EventType.STATE_RESTORED
EQUITY_SET = EventType.EQUITY_SET
SESSIONS_WITHOUT_DATA = EventType.SESSIONS_WITHOUT_DATA
PROTECTOR_TRANSITION = EventType.PROTECTOR_TRANSITION
PROTECTOR_MISMATCH = EventType.PROTECTOR_MISMATCH
ORDER_MODIFY_REQUESTED = EventType.ORDER_MODIFY_REQUESTED

EVENT_TYPES: Mapping[str, frozenset[str]] = {
    SESSION_TRANSITION: frozenset({"from", "to", "session"}),
    SESSION_EXIT_FLATTEN: frozenset({"reason", "minutes_remaining", "positions", "late"}),
    # purpose: "entry" | "exit" | "flatten" | "protect"; a protective order (a bracket's stop or target, or a
    # stop sent again) also carries kind, price_ticks, price, tif, parent_id and oca_group
    ORDER_SUBMITTED: frozenset({"order_id", "strategy", "symbol", "side", "qty", "purpose"}),
    ORDER_REJECTED: frozenset({"order_id", "reason"}),
    ORDER_CANCELLED: frozenset({"order_id", "reason"}),
    FILL: frozenset({"order_id", "exec_id", "strategy", "symbol", "side", "qty", "price", "commission"}),
    POSITION_TRANSITION: frozenset({"strategy", "symbol", "from", "to", "qty"}),
    # expected: the position machines' qty; broker: the venue's
    POSITION_MISMATCH: frozenset({"strategy", "symbol", "expected", "broker"}),
    # a person accepted that the venue holds none of a machine's position (note: why)
    POSITION_WRITTEN_OFF: frozenset({"strategy", "symbol", "qty", "note"}),
    TRADE_CLOSED: frozenset(
        {"strategy", "symbol", "qty", "gross_pnl", "commission", "net_pnl", "slippage_ticks", "slippage_expected_ticks"}
    ),
    LEARNING_UPDATE: frozenset(),
    THROTTLE_TRANSITION: frozenset({"strategy", "from", "to", "reason"}),
    GATE_SKIP: frozenset({"gate", "value", "threshold"}),
    KILL_SWITCH: frozenset({"from", "to", "reason"}),
    BAR_REJECTED: frozenset({"reason"}),
    # a bar was used although its prices look wrong (a jump, in live mode by default)
    BAR_FLAGGED: frozenset({"reason", "detail"}),
    STATE_SAVED: frozenset(),
    STATE_SAVE_FAILED: frozenset({"error"}),
    # a state file was corrupt, truncated or of an unknown version and was moved aside
    STATE_LOAD_FAILED: frozenset({"error", "moved_to"}),
    # this log's torn last line (a crash mid-write) was moved to another file on reopening
    EVENT_LOG_TAIL_MOVED: frozenset({"line", "bytes", "moved_to"}),
    # the runner caught an error at one stage of a bar (a refused transition, an adapter
    # failure, a bad signal) and carried on; stage names where
    RUNNER_ERROR: frozenset({"stage", "error"}),
    # the venue became unreachable (connected false: no entries) or reachable again
    # (connected true: no entries until positions are reconciled)
    VENUE_CONNECTION: frozenset({"connected", "detail"}),
    # a cancel is about to be sent for an order (any purpose); its machine notes it
    ORDER_CANCEL_REQUESTED: frozenset({"order_id"}),
    # the venue no longer works an order (e.g. the flattener found it gone): ended with the fills so far
    ORDER_ENDED: frozenset({"order_id", "reason"}),
    # a runner started: what it restored (from a checkpoint, from the log, or nothing) and its equity
    STATE_RESTORED: frozenset({"from", "head", "run"}),
    # the equity sizing uses was set (e.g. from the broker's account value)
    EQUITY_SET: frozenset({"equity"}),
    # whole sessions the clock jumped over with nothing held or working (a gap in the data):
    # recorded once, by date, instead of walking each one through a late flatten
    SESSIONS_WITHOUT_DATA: frozenset({"sessions", "count"}),
    # a protective order held at the venue changed state (the protector machine's trigger, from, to; needed:
    # its position was open or its entry could still fill, for ended/rejected; filled: contracts executed so far)
    PROTECTOR_TRANSITION: frozenset({"order_id", "strategy", "symbol", "trigger", "from", "to"}),
    # reconciliation found a protective order the venue works for a position the book thinks flat (problem
    # "stray": a cancel follows) or one the book counts on that the venue no longer works ("missing")
    PROTECTOR_MISMATCH: frozenset({"order_id", "strategy", "symbol", "problem"}),
    # a working protective order's new terms are about to be sent (same order id): qty (signed) and price
    # (price_ticks), e.g. shrunk to what its entry filled once the entry ended (reason says why)
    ORDER_MODIFY_REQUESTED: frozenset({"order_id", "strategy", "symbol", "qty", "price_ticks", "reason"}),
}
"""Every built-in event type and the payload keys it must carry (more are allowed).

``STATE_LOAD_FAILED``, ``ORDER_REJECTED``, ``ORDER_CANCELLED``,
``POSITION_MISMATCH``, ``POSITION_WRITTEN_OFF``, ``SESSIONS_WITHOUT_DATA`` and ``EVENT_LOG_TAIL_MOVED`` go beyond the seed's list:
each records something a risk reviewer must be able to find."""
