"""The strategy throttle: ACTIVE -> THROTTLED -> PROBATION -> ACTIVE, one per strategy.

A trade that breaks a rule (``ThrottleRules``) throttles the strategy: no new
entries. The cooldown runs on the bar clock (a duration, or until the next
session); then the strategy trades in PROBATION with a size cap, and goes back
to ACTIVE after ``probation_trades`` trades without a breach, or back to
THROTTLED on a breach. An operator reset (with a note) makes any state ACTIVE.
A ``hold`` (the state file was corrupt, or an operator hold) throttles with no
cooldown: only a reset releases it.

The rules judge the metrics *since the strategy last became ACTIVE or entered
PROBATION* (the loop keeps these "judged" metrics apart from the lifetime
ones): a probation is judged on its own trades, not on the losses that caused
the throttle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from statebot.core import _fields as f
from statebot.errors import ConfigError, InvalidOutcome, StateCorrupt
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, Route, TableMachine, Transition
from statebot.core.money import non_negative_money

if TYPE_CHECKING:
    from statebot.core.learning.metrics import ReliabilityMetrics

ACTIVE = "ACTIVE"
THROTTLED = "THROTTLED"
PROBATION = "PROBATION"

THROTTLE_SPEC = MachineSpec(
    name="throttle",
    states=(ACTIVE, THROTTLED, PROBATION),
    initial=ACTIVE,
    description=(
        "One per strategy. Rules on closed trades throttle it; a cooldown on the bar clock leads to a "
        "size-capped probation; clean probation trades restore it; an operator reset restores it from anywhere."
    ),
    invariants=(
        'a throttled strategy stays throttled when the checkpoint is lost: the log says so',
        'a fail-closed loop refuses every strategy, known or not, until an operator resets it',
        'a throttled strategy is still throttled after a restart',
        'an operator reset is recorded in the state with its note and time',
        'entries in PROBATION never exceed the probation size cap',
        'resuming after a crash and replaying unacknowledged trades counts none twice',
        "every sequence of trades, clock ticks and resets drives the throttle exactly per its rules",
        "N consecutive losing trades throttle the strategy, with the reason recorded",
        "a breach during probation throttles the strategy again with a new cooldown",
        "an operator reset with a note makes any state ACTIVE and records the note and time",
        "a closed trade fed twice (same trade_id) is counted once",
        "export_to_dict then load_from_dict restores an equal learning state",
        "a throttle transition is on disk before the call that caused it returns",
        "a transition that would allow entries again allows none until it is on disk",
        "a throttle transition acknowledged before a crash is in force after restart",
        "no acknowledged trade is missing from the metrics after a crash",
        "the learning state file always loads after a SIGKILL at any moment (never torn)",
        "a corrupt, truncated, empty or unknown-version state file starts every strategy THROTTLED",
        "a restart after a corrupt state file stays fail closed until an operator resets",
        "repeated failed saves trip the kill switch callback",
    ),
    transitions=(
        Transition(
            trigger="breach", source=ACTIVE, dest=THROTTLED, actions=("start_cooldown",),
            why="a closed trade broke a rule (consecutive losses, rolling win rate, drawdown, slippage "
            "calibration): no new entries; the reason is recorded and the cooldown starts",
        ),
        Transition(
            trigger="breach", source=PROBATION, dest=THROTTLED, actions=("start_cooldown",),
            why="a probation trade broke a rule: throttled again with a new cooldown",
        ),
        Transition(
            trigger="hold", source=(ACTIVE, PROBATION, THROTTLED), dest=THROTTLED, actions=("hold_without_cooldown",),
            why="the state file was corrupt (or an operator hold): throttled with no cooldown, only an operator reset releases it",
        ),
        Transition(
            trigger="cooldown_over", source=THROTTLED, dest=PROBATION, guard="cooldown_elapsed", actions=("start_probation",),
            why="the cooldown ended on the bar clock (a duration, or the next session began): entries again, size capped",
        ),
        Transition(
            trigger="probation_passed", source=PROBATION, dest=ACTIVE, guard="probation_complete", actions=("clear",),
            why="probation_trades trades in probation without a breach: full size again",
        ),
        Transition(
            trigger="reset", source=(ACTIVE, THROTTLED, PROBATION), dest=ACTIVE, actions=("record_reset",),
            why="an operator reset with a non-empty note (recorded with its time): active, judged afresh",
        ),
    ),
)

NEXT_SESSION = "next_session"
"""Cooldown value: stay THROTTLED until a later session date than the one throttled in."""

STATE_CORRUPT = "state_corrupt"
"""Reason of the hold placed on every strategy when the state file could not be trusted."""

# The order in which rules are checked; the first breached one is the recorded reason.
RULE_ORDER = ("consecutive_losses", "drawdown", "win_rate", "slippage_calibration")


def _optional_count(minimum: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{attribute.name} {value!r} must be an int >= {minimum} (or None to disable)")

    return check


def _count(minimum: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{attribute.name} {value!r} must be an int >= {minimum}")

    return check


def _max_drawdown(value: object) -> Decimal | None:
    return None if value is None else non_negative_money(value, "max_drawdown_usd")


def _max_slippage_error(value: object) -> Decimal | None:
    return None if value is None else non_negative_money(value, "max_slippage_error_ticks")


def _win_rate(value: object) -> Decimal | None:
    if value is None:
        return None
    rate = non_negative_money(value, "min_win_rate")
    if rate > 1:
        raise ConfigError(f"min_win_rate {value!r} must be between 0 and 1")
    return rate


def _cooldown(value: object) -> dt.timedelta | str:
    if value == NEXT_SESSION:
        return NEXT_SESSION
    if isinstance(value, dt.timedelta) and value >= dt.timedelta(0):
        return value
    raise ConfigError(f"cooldown {value!r} must be a non-negative timedelta or {NEXT_SESSION!r}")


@attrs.frozen(kw_only=True)
class ThrottleRules:
    """When a strategy is throttled, how long, and how it earns its way back.

    A rule set to None is disabled. Breaches (checked after every closed trade,
    first match in this order is the reason):

    - ``consecutive_losses``: ``consecutive_losses >= max_consecutive_losses``;
    - ``drawdown``: ``drawdown_usd > max_drawdown_usd`` (USD of net P&L below its peak);
    - ``win_rate``: at least ``win_rate_min_trades`` trades in the rolling window
      and ``rolling wins < min_win_rate x rolling trades``;
    - ``slippage_calibration``: at least ``slippage_min_trades`` trades and the
      EWMA of realized - expected slippage ``> max_slippage_error_ticks``
      (fills worse than modelled; better fills never throttle).

    ``cooldown`` is a ``timedelta`` on the bar clock or ``"next_session"``.
    ``probation_trades`` clean trades end probation; during it entries are
    capped at ``probation_size_cap`` contracts.
    """

    max_consecutive_losses: int | None = attrs.field(default=4, validator=_optional_count(1))
    min_win_rate: Decimal | None = attrs.field(default=Decimal("0.35"), converter=_win_rate)
    win_rate_min_trades: int = attrs.field(default=10, validator=_count(1))
    max_drawdown_usd: Decimal | None = attrs.field(default=Decimal("150"), converter=_max_drawdown)
    max_slippage_error_ticks: Decimal | None = attrs.field(default=Decimal("1"), converter=_max_slippage_error)
    slippage_min_trades: int = attrs.field(default=5, validator=_count(1))
    cooldown: dt.timedelta | str = attrs.field(default=NEXT_SESSION, converter=_cooldown)
    probation_trades: int = attrs.field(default=3, validator=_count(1))
    probation_size_cap: int = attrs.field(default=1, validator=_count(1))

    def breach(self, m: ReliabilityMetrics) -> tuple[str, str] | None:
        """``(reason, detail)`` of the first rule ``m`` breaks, or None."""
        if self.max_consecutive_losses is not None and m.consecutive_losses >= self.max_consecutive_losses:
            return "consecutive_losses", f"{m.consecutive_losses} consecutive losses >= limit {self.max_consecutive_losses}"
        if self.max_drawdown_usd is not None and m.drawdown_usd > self.max_drawdown_usd:
            return "drawdown", f"drawdown ${m.drawdown_usd} > limit ${self.max_drawdown_usd}"
        if self.min_win_rate is not None:
            n = m.rolling_trades
            if n >= self.win_rate_min_trades and m.rolling_wins < self.min_win_rate * n:
                return "win_rate", f"rolling win rate {m.rolling_wins}/{n} < {self.min_win_rate} over >= {self.win_rate_min_trades} trades"
        if self.max_slippage_error_ticks is not None and m.slippage_count >= self.slippage_min_trades:
            if m.slippage_error_ewma_ticks > self.max_slippage_error_ticks:
                return (
                    "slippage_calibration",
                    f"slippage error EWMA {m.slippage_error_ewma_ticks} ticks > limit {self.max_slippage_error_ticks} "
                    f"over {m.slippage_count} trades",
                )
        return None


@attrs.frozen(kw_only=True)
class ThrottleTransition:
    """One throttle transition, for the runner to log and act on.

    ``reason``/``detail`` say why (a rule code, ``cooldown``, ``probation``,
    ``operator_reset`` or a hold reason); ``note`` is the operator's note on a
    reset; ``at`` is the clock time given by the caller.
    """

    strategy: str
    source: str
    dest: str
    trigger: str
    reason: str
    detail: str
    at: dt.datetime
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy, "source": self.source, "dest": self.dest, "trigger": self.trigger,
            "reason": self.reason, "detail": self.detail, "at": self.at.isoformat(), "note": self.note,
        }

    def event_payload(self) -> dict[str, Any]:
        """The payload of a ``THROTTLE_TRANSITION`` event (``from``/``to`` as replay reads them)."""
        return {
            "strategy": self.strategy, "from": self.source, "to": self.dest, "reason": self.reason,
            "trigger": self.trigger, "detail": self.detail, "note": self.note,
        }


def _require_aware(value: object, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidOutcome(f"{what} {value!r} must be a timezone-aware datetime")
    return value


MAX_RESET_HISTORY = 50


class ThrottleMachine(TableMachine):
    """One strategy's throttle. Time always comes in as an argument (aware).

    ``allows_entry`` is False only in THROTTLED; ``size_cap`` is 0 in THROTTLED,
    ``rules.probation_size_cap`` in PROBATION and None (no cap) in ACTIVE.
    ``on_time`` in a state other than THROTTLED costs one comparison.
    """

    SPEC = THROTTLE_SPEC
    OWN_EFFECTS = {
        Effect.START_COOLDOWN: "_start_cooldown",
        Effect.HOLD_WITHOUT_COOLDOWN: "_hold_without_cooldown",
        Effect.START_PROBATION: "_start_probation",
        Effect.CLEAR: "_clear",
        Effect.RECORD_RESET: "_record_reset",
    }
    """Every effect of the throttle's table is its own bookkeeping, executed as it fires."""

    def __init__(self, strategy: str, rules: ThrottleRules, *, initial: str | None = None) -> None:
        super().__init__(initial)
        self.strategy = strategy
        self.rules = rules
        self.reason: str | None = None
        self.detail: str | None = None
        self.since: dt.datetime | None = None
        self.release_at: dt.datetime | None = None
        self.release_after_session: dt.date | None = None
        self.awaiting_session = False
        self.probation_clean = 0
        self.resets: list[dict[str, Any]] = []

    # queries -----------------------------------------------------------------

    @property
    def allows_entry(self) -> bool:
        return self._state != THROTTLED

    @property
    def size_cap(self) -> int | None:
        state = self._state
        if state == THROTTLED:
            return 0
        if state == PROBATION:
            return self.rules.probation_size_cap
        return None

    @property
    def manual_only(self) -> bool:
        """True when THROTTLED by a hold: no cooldown will release it."""
        return self.state == THROTTLED and self.release_at is None and self.release_after_session is None and not self.awaiting_session

    # drivers -----------------------------------------------------------------

    def check_trade(self, judged: ReliabilityMetrics, now: dt.datetime, session_date: dt.date | None = None) -> ThrottleTransition | None:
        """Judge the metrics after a closed trade; fire a breach or end probation."""
        state = self._state
        if state == THROTTLED:
            return None
        found = self.rules.breach(judged)
        if found is not None:
            return self._fire("breach", now, reason=found[0], detail=found[1], session_date=session_date)
        if state == PROBATION:
            self.probation_clean += 1
            return self._fire("probation_passed", now, reason="probation",
                              detail=f"{self.probation_clean} probation trades without a breach")
        return None

    def on_time(self, now: dt.datetime, session_date: dt.date | None = None) -> ThrottleTransition | None:
        """Let the clock end a cooldown. ``session_date`` is the session ``now`` belongs to.

        A "next session" cooldown started without a known session adopts the
        first session date seen here as the one to wait out (never earlier).
        """
        if self._state != THROTTLED:
            return None
        if self.awaiting_session and session_date is not None:
            self.awaiting_session = False
            self.release_after_session = session_date
        if not self._cooldown_due(now, session_date):
            return None
        return self._fire("cooldown_over", now, reason="cooldown", detail="cooldown ended", session_date=session_date)

    def hold(self, reason: str, detail: str, now: dt.datetime) -> ThrottleTransition:
        """Throttle with no cooldown (only ``reset`` releases it)."""
        result = self._fire("hold", now, reason=reason, detail=detail)
        assert result is not None
        return result

    def reset(self, note: str, now: dt.datetime) -> ThrottleTransition:
        """The operator reset: ACTIVE from any state. Raises ``ConfigError`` for an empty note."""
        if not isinstance(note, str) or not note.strip():
            raise ConfigError(f"an operator reset of {self.strategy!r} needs a non-empty note, got {note!r}")
        result = self._fire("reset", now, reason="operator_reset", detail=note.strip(), note=note.strip())
        assert result is not None
        return result

    def _fire(self, trigger: str, now: dt.datetime, *, reason: str, detail: str, note: str | None = None,
              session_date: dt.date | None = None) -> ThrottleTransition | None:
        _require_aware(now, "throttle time")
        source = self._state
        if self.fire(trigger, now=now, session_date=session_date, reason=reason, detail=detail, note=note) is None:
            return None
        transition = ThrottleTransition(
            strategy=self.strategy, source=source, dest=self._state, trigger=trigger,
            reason=reason, detail=detail, at=now, note=note,
        )
        return transition

    # guards and own effects (named in THROTTLE_SPEC) -------------------------

    def _cooldown_due(self, now: dt.datetime, session_date: dt.date | None) -> bool:
        if self.release_at is not None:
            return now >= self.release_at
        if self.release_after_session is not None and session_date is not None:
            return session_date > self.release_after_session
        return False

    def _guard_cooldown_elapsed(self, data: Mapping[str, Any]) -> bool:
        return self._cooldown_due(data["now"], data["session_date"])

    def _guard_probation_complete(self, data: Mapping[str, Any]) -> bool:
        return self.probation_clean >= self.rules.probation_trades

    def _enter_throttled(self, data: Mapping[str, Any]) -> None:
        self.reason = data["reason"]
        self.detail = data["detail"]
        self.since = data["now"]
        self.release_at = None
        self.release_after_session = None
        self.awaiting_session = False
        self.probation_clean = 0

    def _start_cooldown(self, data: Mapping[str, Any], route: Route) -> None:
        self._enter_throttled(data)
        cooldown = self.rules.cooldown
        if cooldown == NEXT_SESSION:
            session = data["session_date"]
            if session is None:
                # unknown session: the first session date seen later becomes the one to wait out
                self.awaiting_session = True
            else:
                self.release_after_session = session
        else:
            assert isinstance(cooldown, dt.timedelta)
            self.release_at = data["now"] + cooldown

    def _hold_without_cooldown(self, data: Mapping[str, Any], route: Route) -> None:
        self._enter_throttled(data)

    def _start_probation(self, data: Mapping[str, Any], route: Route) -> None:
        self.reason = "probation"
        self.detail = f"size capped at {self.rules.probation_size_cap} until {self.rules.probation_trades} clean trades"
        self.since = data["now"]
        self.release_at = None
        self.release_after_session = None
        self.probation_clean = 0

    def _clear(self, data: Mapping[str, Any], route: Route) -> None:
        self.reason = None
        self.detail = None
        self.since = data["now"]
        self.probation_clean = 0

    def _record_reset(self, data: Mapping[str, Any], route: Route) -> None:
        self.resets.append({
            "at": data["now"].isoformat(),
            "note": data["note"],
            "from_state": route.source,
            "from_reason": self.reason,
        })
        del self.resets[:-MAX_RESET_HISTORY]
        self.reason = "operator_reset"
        self.detail = data["note"]
        self.since = data["now"]
        self.release_at = None
        self.release_after_session = None
        self.awaiting_session = False
        self.probation_clean = 0

    # persistence -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "detail": self.detail,
            "since": f.iso(self.since),
            "release_at": f.iso(self.release_at),
            "release_after_session": f.iso(self.release_after_session),
            "awaiting_session": self.awaiting_session,
            "probation_clean": self.probation_clean,
            "resets": [dict(r) for r in self.resets],
        }

    @classmethod
    def from_dict(cls, strategy: str, rules: ThrottleRules, data: object) -> ThrottleMachine:
        """Rebuild a throttle saved by ``to_dict``. Raises ``StateCorrupt``."""
        what = f"throttle of {strategy!r}"
        d = f.mapping(data, what)
        state = f.text(d, "state", what)
        if state not in THROTTLE_SPEC.states:
            raise StateCorrupt(f"{what}: unknown state {state!r}", reason="malformed")
        machine = cls(strategy, rules, initial=state)
        machine.reason = f.text(d, "reason", what, optional=True)
        machine.detail = f.text(d, "detail", what, optional=True)
        machine.since = f.time(d, "since", what)
        machine.release_at = f.time(d, "release_at", what)
        machine.release_after_session = f.date(d, "release_after_session", what)
        awaiting = f.field(d, "awaiting_session", what)
        if not isinstance(awaiting, bool):
            raise StateCorrupt(f"{what}.awaiting_session {awaiting!r} must be true or false", reason="malformed")
        machine.awaiting_session = awaiting
        machine.probation_clean = f.count(d, "probation_clean", what)
        resets = f.field(d, "resets", what)
        if not isinstance(resets, list):
            raise StateCorrupt(f"{what}.resets must be a list", reason="malformed")
        for i, r in enumerate(resets):
            where = f"{what}.resets[{i}]"
            rec = f.mapping(r, where)
            if f.time(rec, "at", where) is None:
                raise StateCorrupt(f"{where}.at None must be an ISO-8601 time: a reset is recorded with its time", reason="malformed")
            f.text(rec, "note", where)
            f.text(rec, "from_state", where)
            f.text(rec, "from_reason", where, optional=True)
            machine.resets.append({k: rec[k] for k in ("at", "note", "from_state", "from_reason")})
        if state == THROTTLED and machine.reason is None:
            raise StateCorrupt(f"{what}: THROTTLED without a recorded reason", reason="malformed")
        return machine
