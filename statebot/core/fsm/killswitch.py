"""The kill switch: ARMED -> TRIPPED (with reasons) -> ARMED only by a person.

While TRIPPED no entry may be sent (``allows_entries`` is False), every
position is flattened and the flatten is retried on the ``Backoff`` schedule
until the venue reports flat. Nothing resets it but ``reset`` with a
non-empty operator note. Tripping again while TRIPPED records the extra
reason (a self-loop row), so the review shows every cause.

The switch also keeps three pure counters the runner feeds: consecutive order
rejects (``record_reject``/``record_accept``), the day's realized net P&L
(``record_trade``) and the bars of a session on which the strategy raised
(``record_strategy_error``); crossing any limit trips it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from statebot.core.time.clock import require_aware
from statebot.errors import ConfigError, InvalidTransition, PositionMismatch
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, TableMachine, Transition
from statebot.core.money import to_money

ARMED = "ARMED"
TRIPPED = "TRIPPED"

DAILY_LOSS_LIMIT = "daily_loss_limit"
CONSECUTIVE_REJECTS = "consecutive_rejects"
POSITION_MISMATCH = "position_mismatch"
POSITION_HELD_AT_CLOSE = "position_held_at_close"
PERSISTENCE_FAILURES = "persistence_failures"
DISCONNECT = "disconnect"
FLATTEN_FAILED = "flatten_failed"
OVER_FILL = "over_fill"
MANUAL = "manual"
STRATEGY_ERRORS = "strategy_errors"
"""The strategy raised on ``max_strategy_errors`` bars of one session: a strategy that keeps
failing is not left holding a position nobody is managing."""
STATE_UNTRUSTED = "state_untrusted"
"""The runner's own state could not be trusted at start-up (a corrupt snapshot, an
event log shorter than the snapshot says): positions and orders are unknown."""
PROTECTIVE_STOP_LOST = "protective_stop_lost"
"""A protective stop held at the venue was cancelled or rejected unasked while its position was open
(``[protection] on_lost = "trip"``, or a second loss after a re-send)."""
TRIP_REASONS = (
    DAILY_LOSS_LIMIT, CONSECUTIVE_REJECTS, POSITION_MISMATCH, POSITION_HELD_AT_CLOSE,
    PERSISTENCE_FAILURES, DISCONNECT, FLATTEN_FAILED, OVER_FILL, MANUAL, STATE_UNTRUSTED, STRATEGY_ERRORS,
    PROTECTIVE_STOP_LOST,
)

KILLSWITCH_SPEC = MachineSpec(
    name="killswitch",
    states=(ARMED, TRIPPED),
    initial=ARMED,
    description=(
        "Stops all trading: no entries, flatten everything, keep retrying the flatten with backoff. "
        "Only a person re-arms it, with a note."
    ),
    invariants=(
        'a position the bot did not expect, found after a reconnect, trips the kill switch and is not traded on',
        'a venue unreachable from the flatten past the close trips the kill switch (position held at close)',
        'a venue unreachable through the flatten until the close trips the kill switch (position held at close)',
        'reconnecting to a position the bot did not expect trips the kill switch; no entry follows',
        'TRIPPED returns to ARMED only by a reset with a non-empty operator note',
        'a flatten that fails trips the kill switch and keeps trying until the venue is flat',
        'a tripped kill switch stays tripped after a restart',
        'a tripped kill switch stays tripped when the checkpoint is lost: the log says so',
        "a restart keeps the day's realized loss: the daily loss limit counts trades from before it",
        'a venue that never recovers is never reported flat',
        'consecutive order rejects trip the kill switch at the configured limit',
        'a strategy that raises on max_strategy_errors bars of one session trips the kill switch',
        'no entries are allowed while the kill switch is TRIPPED',
        'no entry order is submitted while the kill switch is TRIPPED',
        'the kill switch is not re-armed while reconciliation reports a mismatch',
    ),
    transitions=(
        Transition(trigger="trip", source=ARMED, dest=TRIPPED, actions=("cancel_entry_orders", "flatten_all_positions"),
                   why="a limit was crossed or a fault seen: refuse entries, cancel working orders, flatten all"),
        Transition(trigger="trip", source=TRIPPED, dest=TRIPPED,
                   why="another reason while tripped: recorded with the first; the flatten keeps going"),
        Transition(trigger="reset", source=TRIPPED, dest=ARMED, guard="operator_note",
                   why="a person re-arms it with a written note; never automatic"),
    ),
)


@attrs.frozen(kw_only=True)
class Trip:
    """One reason the switch tripped: ``reason`` (one of ``TRIP_REASONS``), when, and details."""

    reason: str = attrs.field(validator=attrs.validators.in_(TRIP_REASONS))
    at: dt.datetime = attrs.field(validator=lambda i, a, v: require_aware(v, "trip time"))
    detail: str = ""


def _non_negative_delay(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
    if not isinstance(value, dt.timedelta) or value < dt.timedelta(0):
        raise ConfigError(f"backoff {attribute.name} {value!r} must be a timedelta >= 0")


@attrs.frozen(kw_only=True)
class Backoff:
    """Pure retry schedule: wait ``first`` after the first failure, times ``factor``
    after each further one, never more than ``cap``.

    ``first`` >= 0 and ``cap`` >= ``first`` (``ConfigError`` otherwise); ``factor`` >= 1.
    """

    first: dt.timedelta = attrs.field(default=dt.timedelta(seconds=5), validator=_non_negative_delay)
    factor: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    cap: dt.timedelta = attrs.field(default=dt.timedelta(minutes=1), validator=_non_negative_delay)

    def __attrs_post_init__(self) -> None:
        if self.cap < self.first:
            raise ConfigError(f"backoff cap {self.cap} must be >= first {self.first}")

    def delay(self, failures: int) -> dt.timedelta:
        """How long to wait after ``failures`` consecutive failures (0 -> no wait); at most ``cap``
        for any count (the growth is clamped in seconds before a timedelta is built)."""
        if failures <= 0:
            return dt.timedelta(0)
        cap = self.cap.total_seconds()
        seconds = self.first.total_seconds()
        for _ in range(failures - 1):
            if seconds >= cap or seconds == 0 or self.factor == 1:
                break
            seconds *= self.factor
        return dt.timedelta(seconds=min(seconds, cap))


class KillSwitch(TableMachine):
    """The kill switch; time comes in as an argument (aware datetimes).

    ``max_consecutive_rejects``: that many rejects in a row trip it (None: off).
    ``daily_loss_limit``: a positive Decimal; a day's realized net P&L at or
    below minus this trips it (None: off). ``backoff`` is the flatten retry
    schedule the flattener consults. ``max_strategy_errors``: that many bars of one session on
    which the strategy raised trip it (None: off; the errors are still counted).
    """

    SPEC = KILLSWITCH_SPEC
    DAYS_KEPT = 7
    """Session dates whose realized totals are kept for late trades."""

    def __init__(
        self,
        *,
        max_consecutive_rejects: int | None = 3,
        daily_loss_limit: Decimal | int | str | None = None,
        backoff: Backoff | None = None,
        max_strategy_errors: int | None = None,
    ) -> None:
        super().__init__()
        if max_consecutive_rejects is not None and max_consecutive_rejects < 1:
            raise ConfigError(f"max_consecutive_rejects {max_consecutive_rejects} must be >= 1")
        self.max_consecutive_rejects = max_consecutive_rejects
        self.daily_loss_limit = None if daily_loss_limit is None else to_money(daily_loss_limit, "daily_loss_limit")
        if self.daily_loss_limit is not None and self.daily_loss_limit <= 0:
            raise ConfigError(f"daily_loss_limit {daily_loss_limit!r} must be positive")
        self.backoff = backoff or Backoff()
        if max_strategy_errors is not None and max_strategy_errors < 1:
            raise ConfigError(f"max_strategy_errors {max_strategy_errors} must be >= 1 (None: off)")
        self.max_strategy_errors = max_strategy_errors
        # per session date, kept like the day nets: bars on which the strategy raised
        self._strategy_errors: dict[dt.date, int] = {}
        self._trips: list[Trip] = []
        self._effects: list[Effect] = []
        self._resets: list[tuple[dt.datetime, str]] = []
        self._rejects = 0
        self._day: dt.date | None = None
        # per session date, so a late trade of an earlier day never resets the current day's total
        self._day_nets: dict[dt.date, Decimal] = {}

    @property
    def allows_entries(self) -> bool:
        """False while TRIPPED: no entry order may be sent."""
        return self._state == ARMED

    @property
    def trips(self) -> tuple[Trip, ...]:
        """Every reason recorded since the last reset, in order (empty when ARMED)."""
        return tuple(self._trips)

    @property
    def resets(self) -> tuple[tuple[dt.datetime, str], ...]:
        """Every reset: (time, operator note)."""
        return tuple(self._resets)

    @property
    def consecutive_rejects(self) -> int:
        return self._rejects

    @property
    def day(self) -> dt.date | None:
        """The latest session date fed by ``record_trade`` (None before any)."""
        return self._day

    @property
    def day_net_pnl(self) -> Decimal:
        """Realized net P&L of the latest day fed by ``record_trade`` (0 before any)."""
        return self._day_nets.get(self._day, Decimal(0)) if self._day is not None else Decimal(0)

    def trip(self, reason: str, at: dt.datetime, detail: str = "") -> bool:
        """Trip with ``reason``; return True when this trip changed ARMED to TRIPPED.

        Raises ``ValueError`` for a reason not in ``TRIP_REASONS`` or a naive time.
        """
        record = Trip(reason=reason, at=at, detail=detail)
        was_armed = self._state == ARMED
        route = self.fire("trip")
        if route is not None and route.effects:
            self._effects.extend(route.effects)
        self._trips.append(record)
        return was_armed

    def reset(self, note: str, at: dt.datetime, mismatches: Sequence[object] = ()) -> None:
        """Re-arm. Raises ``ConfigError`` for an empty note, ``InvalidTransition`` when ARMED, and
        ``PositionMismatch`` (staying TRIPPED) when ``mismatches`` is non-empty.

        Pass what ``statebot.core.positions.reconcile.reconcile(book.expected_positions(), adapter.positions())``
        returns just before: re-arming while the book and the broker disagree would let a
        strategy's exit open a position nobody asked for (e.g. after the flattener closed the
        venue with an unowned order the machines never saw). The operator path then: check the
        account at the broker; a position the machines count but the venue does not hold is
        written off with a note (``BotRunner.write_off_positions``); one the venue still holds
        is closed by the flattener (or taken over at start-up in OBSERVE mode with
        ``adopt_broker_positions``, explicitly); reconcile shows no mismatch and the reset goes
        through.
        """
        require_aware(at, "reset time")
        if not isinstance(note, str) or not note.strip():
            raise ConfigError("a kill switch reset needs a non-empty operator note")
        if self._state != TRIPPED:
            raise InvalidTransition(self.SPEC.name, self.state, "reset")
        if mismatches:
            raise PositionMismatch(tuple(mismatches))
        route = self.fire("reset", note=note)
        if route is not None and route.effects:
            self._effects.extend(route.effects)
        self._resets.append((at, note.strip()))
        self._trips.clear()
        self._rejects = 0
        self._strategy_errors.clear()

    def record_reject(self, at: dt.datetime, detail: str = "") -> bool:
        """Count a rejected order; trip at the limit. Returns True when this tripped it."""
        self._rejects += 1
        limit = self.max_consecutive_rejects
        if limit is not None and self._rejects >= limit:
            return self.trip(CONSECUTIVE_REJECTS, at, detail or f"{self._rejects} consecutive rejects")
        return False

    def record_accept(self) -> None:
        """An order was accepted or filled: the reject streak ends."""
        self._rejects = 0

    def record_trade(self, net_pnl: Decimal, day: dt.date, at: dt.datetime) -> bool:
        """Add a closed trade's net P&L to ``day`` (the session date; a new day starts at 0).

        Totals are kept per date: a late trade of an earlier day adds to that day, never resets
        the latest one. Only the last ``DAYS_KEPT`` dates are kept. Returns True when this
        tripped the switch on the daily loss limit.
        """
        net = to_money(net_pnl, "net_pnl")
        total = self._day_nets[day] = self._day_nets.get(day, Decimal(0)) + net
        if self._day is None or day > self._day:
            self._day = day
        while len(self._day_nets) > self.DAYS_KEPT:
            del self._day_nets[min(self._day_nets)]
        limit = self.daily_loss_limit
        if limit is not None and total <= -limit:
            return self.trip(DAILY_LOSS_LIMIT, at, f"day {day.isoformat()} net {total} <= -{limit}")
        return False

    def strategy_errors(self, day: dt.date) -> int:
        """Bars of session ``day`` on which the strategy raised since the last reset (0 if none kept)."""
        return self._strategy_errors.get(day, 0)

    def record_strategy_error(self, day: dt.date, at: dt.datetime, detail: str = "") -> bool:
        """Count a bar of session ``day`` on which the strategy raised; trip at the limit.

        Counted per session date (a new session starts at 0; only the last ``DAYS_KEPT`` dates are
        kept) and cleared by a reset. Trips once per crossing of the limit, not again on each
        later error while tripped. Returns True when this tripped the switch."""
        if not isinstance(day, dt.date):
            raise ConfigError(f"strategy error day {day!r} must be a date")
        count = self._strategy_errors[day] = self._strategy_errors.get(day, 0) + 1
        while len(self._strategy_errors) > self.DAYS_KEPT:
            del self._strategy_errors[min(self._strategy_errors)]
        limit = self.max_strategy_errors
        # at the limit, or past it while armed (a lower limit after a restart); not again on every
        # later bar while tripped: one reason per crossing, not one per bar
        if limit is not None and (count == limit or (count > limit and self._state == ARMED)):
            last = f" (last: {detail})" if detail else ""
            return self.trip(STRATEGY_ERRORS, at, f"{count} strategy errors in session {day.isoformat()}{last}")
        return False

    def restore_day(self, day: dt.date, net_pnl: Decimal) -> None:
        """Restore ``day``'s realized net P&L from a snapshot after a restart, so the daily
        loss limit keeps counting the trades closed before it. Trips nothing by itself: the
        snapshot carries any trip already recorded."""
        net = to_money(net_pnl, "net_pnl")
        if not isinstance(day, dt.date):
            raise ConfigError(f"kill switch day {day!r} must be a date")
        self._day_nets[day] = net
        if self._day is None or day > self._day:
            self._day = day

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for a checkpoint: state, trips, reject streak, each kept day's net and strategy errors."""
        return {
            "state": self.state,
            "trips": [{"reason": tr.reason, "at": tr.at.isoformat(), "detail": tr.detail} for tr in self._trips],
            "rejects": self._rejects,
            "day": self._day.isoformat() if self._day is not None else None,
            "day_nets": {d.isoformat(): str(net) for d, net in sorted(self._day_nets.items())},
            "strategy_errors": {d.isoformat(): n for d, n in sorted(self._strategy_errors.items())},
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Load what ``to_dict`` wrote into this fresh (ARMED, never used) switch; its limits stay
        this switch's own. Raises ``KeyError``/``ValueError`` for malformed data."""
        for trip in data["trips"]:
            self.trip(str(trip["reason"]), dt.datetime.fromisoformat(trip["at"]), str(trip["detail"]))
        if data["state"] == TRIPPED and not self._trips:
            raise ValueError("kill switch state TRIPPED without a recorded trip")
        self._rejects = int(data["rejects"])
        self._day_nets = {dt.date.fromisoformat(d): to_money(net, "day net") for d, net in data["day_nets"].items()}
        self._day = dt.date.fromisoformat(data["day"]) if data["day"] is not None else None
        # absent from checkpoints written before the count existed
        self._strategy_errors = {dt.date.fromisoformat(d): int(n) for d, n in data.get("strategy_errors", {}).items()}

    def take_effects(self) -> tuple[Effect, ...]:
        """The effects of the transitions fired since the last call, in order, for the engine to
        execute (``cancel_entry_orders``, ``flatten_all_positions`` when it tripped); then forgets them."""
        effects = self._effects
        if not effects:
            return ()
        self._effects = []
        return tuple(effects)

    def _guard_operator_note(self, data: Mapping[str, Any]) -> bool:
        note = data.get("note")
        return isinstance(note, str) and bool(note.strip())
