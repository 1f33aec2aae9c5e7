"""What one bar or heartbeat of the runner did: ``Decision`` and its action names.

Apart from ``statebot.app.runner`` (which re-exports every name) so that the runner's
pieces (entry policy, brackets, operator controls) return decisions without importing
the runner. The shared refusals are built once: a throttled or closed session refuses
on every bar and a ``Decision`` is immutable.
"""

from __future__ import annotations

import attrs

ENTER = "ENTER"
EXIT_ACTION = "EXIT"
FLATTEN = "FLATTEN"
SKIP = "SKIP"
HOLD = "HOLD"
ACTIONS = (ENTER, EXIT_ACTION, FLATTEN, SKIP, HOLD)


@attrs.frozen(kw_only=True)
class Decision:
    """What one ``run_once`` or ``run_heartbeat`` did.

    ``action``: ENTER (an entry order was sent), EXIT (an exit order was sent:
    reversal, stop or target), FLATTEN (a flatten started or flatten orders were
    sent), SKIP (a wanted entry was refused, or the bar was rejected), HOLD
    (nothing to do). ``reason`` is a short code (``no_signal``, ``session``,
    ``kill_switch``, ``throttled``, ``gate_DVS``, a sizing reason, ...);
    ``order_id`` and ``qty`` (signed contracts) describe the order sent, if any.
    """

    action: str = attrs.field(validator=attrs.validators.in_(ACTIONS))
    reason: str
    order_id: str | None = None
    qty: int = 0
    detail: str = ""


NO_SIGNAL = Decision(action=HOLD, reason="no_signal")
KILL_SWITCH_SKIP = Decision(action=SKIP, reason="kill_switch")
FLATTENING_HOLD = Decision(action=HOLD, reason="flattening", detail="the flattener closes positions until the venue is flat")
_SKIPS: dict[tuple[str, str], Decision] = {}


def skip(reason: str, detail: str) -> Decision:
    """A refused entry's Decision; built once per (reason, detail), as a throttled or closed
    session refuses on every bar and a Decision is immutable."""
    decision = _SKIPS.get((reason, detail))
    if decision is None:
        decision = _SKIPS[(reason, detail)] = Decision(action=SKIP, reason=reason, detail=detail)
    return decision


HEARTBEAT = Decision(action=HOLD, reason="heartbeat")
STALE_HEARTBEAT = Decision(action=HOLD, reason="heartbeat_not_after_previous")
