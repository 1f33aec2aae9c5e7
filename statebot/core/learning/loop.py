"""The learning loop: every strategy's metrics and throttle, fed by closed trades.

Pure: time comes in as an argument, nothing touches files (``statebot.store.persistence``
wraps a loop to make it durable). Each strategy has

- lifetime ``metrics`` (never reset; what ``statebot state show`` reports),
- ``judged`` metrics, reset when the strategy enters PROBATION or is reset by
  an operator, which the throttle rules read,
- a ``ThrottleMachine``.

A loop is *fail closed* after its state could not be trusted: every known
strategy is held THROTTLED with reason ``state_corrupt``, and a strategy the
loop has never seen is refused too, until an operator resets it. The flag
clears when no strategy is held for ``state_corrupt`` any more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from statebot.core import _fields as f
from statebot.errors import ConfigError, InvalidOutcome, StateCorrupt
from statebot.core.fsm.throttle import (
    ACTIVE,
    PROBATION,
    STATE_CORRUPT,
    THROTTLED,
    ThrottleMachine,
    ThrottleRules,
    ThrottleTransition,
)
from statebot.core.learning.metrics import ReliabilityMetrics
from statebot.core.learning.outcomes import TradeOutcome

SCHEMA_VERSION = 2
"""Version of the dict ``LearningLoop.export_to_dict`` produces. Version 2 remembers trade-id
digests (``trade_digests``) where version 1 kept the full ids (``trade_ids``); a version 1
dict still loads (its ids are digested)."""


@attrs.frozen(kw_only=True)
class LearningUpdate:
    """What one ``record_trade`` changed: the strategy's trade count after it,
    its cumulative net P&L, and the throttle transitions it caused (in order).
    ``duplicate`` is True when the trade's ``trade_id`` was already learned
    from: nothing changed."""

    strategy: str
    trades: int
    net_pnl_usd: Decimal
    transitions: tuple[ThrottleTransition, ...] = ()
    duplicate: bool = False

    def event_payload(self) -> dict[str, Any]:
        """The payload of a ``LEARNING_UPDATE`` event (each transition is its own
        ``THROTTLE_TRANSITION`` event)."""
        return {
            "strategy": self.strategy, "trades": self.trades, "net_pnl_usd": self.net_pnl_usd,
            "duplicate": self.duplicate, "transitions": len(self.transitions),
        }


RECENT_TRADE_IDS = 500
"""How many of a strategy's latest trade ids are remembered to refuse a trade fed twice."""

TRADE_DIGEST_HEX = 16
_DIGEST = re.compile(f"[0-9a-f]{{{TRADE_DIGEST_HEX}}}")


def trade_digest(trade_id: str) -> str:
    """The 64-bit digest (16 lowercase hex digits: the start of the sha256 of the UTF-8
    id) by which a learned trade id is remembered. Two distinct ids share one with odds
    of about 1 in 2**64, so a new trade is taken for one of the 500 remembered with odds
    below 1 in 10**16."""
    # "surrogatepass": an id read back from JSON may hold a lone surrogate; it still gets a digest
    return hashlib.sha256(trade_id.encode("utf-8", "surrogatepass")).hexdigest()[:TRADE_DIGEST_HEX]


@attrs.define
class StrategyRecord:
    """One strategy's lifetime metrics, judged metrics, throttle and the digests of its
    latest ``RECENT_TRADE_IDS`` trade ids (oldest first; see ``trade_digest``)."""

    metrics: ReliabilityMetrics
    judged: ReliabilityMetrics
    throttle: ThrottleMachine
    trade_digests: list[str] = attrs.field(factory=list)


def _aware(now: object, what: str = "now") -> dt.datetime:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidOutcome(f"{what} {now!r} must be a timezone-aware datetime")
    return now


class LearningLoop:
    """All strategies' reliability metrics and throttles.

    ``rules`` apply to every strategy; ``window`` is the rolling win-rate
    window and ``ewma_alpha`` the slippage EWMA weight. ``strategies`` names
    the strategies known from the start (so a fail-closed start holds them all
    and ``statebot state show`` lists them before their first trade).
    Raises ``ConfigError`` when ``rules.win_rate_min_trades > window`` (the
    rule could never fire).
    """

    def __init__(
        self,
        rules: ThrottleRules | None = None,
        *,
        window: int = 20,
        ewma_alpha: Decimal | str = Decimal("0.2"),
        strategies: Iterable[str] = (),
    ) -> None:
        self.rules = rules if rules is not None else ThrottleRules()
        template = ReliabilityMetrics(strategy="-", window=window, ewma_alpha=ewma_alpha)
        if self.rules.min_win_rate is not None and self.rules.win_rate_min_trades > window:
            raise ConfigError(
                f"win_rate_min_trades {self.rules.win_rate_min_trades} exceeds the rolling window {window}: the rule could never fire"
            )
        self.window = template.window
        self.ewma_alpha = template.ewma_alpha
        self.fail_closed_reason: str | None = None
        self.fail_closed_at: dt.datetime | None = None
        self._records: dict[str, StrategyRecord] = {}
        self._session_date: dt.date | None = None
        self._configured = tuple(strategies)
        for name in self._configured:
            self._record(name)

    # queries -----------------------------------------------------------------

    @property
    def strategies(self) -> tuple[str, ...]:
        """Known strategies, sorted."""
        return tuple(sorted(self._records))

    @property
    def fail_closed(self) -> bool:
        return self.fail_closed_reason is not None

    def metrics(self, strategy: str) -> ReliabilityMetrics:
        """Lifetime metrics of a known strategy (KeyError for an unknown one)."""
        return self._records[strategy].metrics

    def judged_metrics(self, strategy: str) -> ReliabilityMetrics:
        """The metrics the throttle rules read (since ACTIVE by reset or PROBATION began)."""
        return self._records[strategy].judged

    def throttle(self, strategy: str) -> ThrottleMachine:
        return self._records[strategy].throttle

    def throttle_state(self, strategy: str) -> str:
        """ACTIVE, THROTTLED or PROBATION; an unknown strategy is ACTIVE, or THROTTLED when fail closed."""
        record = self._records.get(strategy)
        if record is None:
            return THROTTLED if self.fail_closed else ACTIVE
        return record.throttle.state

    def allows_entry(self, strategy: str) -> bool:
        """False while ``strategy`` is THROTTLED (or unknown in a fail-closed loop)."""
        record = self._records.get(strategy)
        if record is None:
            return not self.fail_closed
        return record.throttle.allows_entry

    def size_cap(self, strategy: str) -> int | None:
        """Most contracts a new entry may have: 0 when throttled, the probation cap
        in PROBATION, None (no throttle cap; sizing decides) when ACTIVE."""
        record = self._records.get(strategy)
        if record is None:
            return 0 if self.fail_closed else None
        return record.throttle.size_cap

    # drivers -----------------------------------------------------------------

    def record_trade(self, outcome: TradeOutcome, now: dt.datetime, *, session_date: dt.date | None = None) -> LearningUpdate:
        """Learn from one closed trade at clock time ``now`` (aware).

        ``session_date`` (default: the last one given to ``on_time``) is the
        session the trade closed in; a "next session" cooldown waits it out.
        Returns the update with any throttle transitions, in order. A trade
        whose ``trade_id`` is among the strategy's latest ``RECENT_TRADE_IDS``
        learned is not counted again (``duplicate=True``): a runner replaying
        fills after a restart cannot count a trade twice.
        """
        if not isinstance(outcome, TradeOutcome):
            raise InvalidOutcome(f"record_trade needs a TradeOutcome, got {type(outcome).__name__}")
        _aware(now)
        session = session_date if session_date is not None else self._session_date
        record = self._record(outcome.strategy)
        if outcome.trade_id is not None:
            digest = trade_digest(outcome.trade_id)
            if digest in record.trade_digests:
                return LearningUpdate(strategy=outcome.strategy, trades=record.metrics.trades,
                                      net_pnl_usd=record.metrics.net_pnl_usd, duplicate=True)
            record.trade_digests.append(digest)
            if len(record.trade_digests) > RECENT_TRADE_IDS:
                del record.trade_digests[0]
        record.metrics.update_from_trade(outcome)
        record.judged.update_from_trade(outcome)
        transitions = []
        change = record.throttle.check_trade(record.judged, now, session)
        if change is not None:
            transitions.append(change)
            self._after(record, change)
        return LearningUpdate(
            strategy=outcome.strategy, trades=record.metrics.trades,
            net_pnl_usd=record.metrics.net_pnl_usd, transitions=tuple(transitions),
        )

    def on_time(self, now: dt.datetime, session_date: dt.date | None = None) -> tuple[ThrottleTransition, ...]:
        """Advance the bar clock: cooldowns that are over end (THROTTLED -> PROBATION).

        ``session_date`` is the trading session ``now`` belongs to (the runner
        knows it from the session machine); "next session" cooldowns need it.
        A call that ends no cooldown costs a few comparisons per strategy.
        """
        if session_date is not None:
            self._session_date = session_date
        changes: list[ThrottleTransition] = []
        for record in self._records.values():
            if record.throttle.state != THROTTLED:
                continue
            change = record.throttle.on_time(now, session_date)
            if change is not None:
                changes.append(change)
                self._after(record, change)
        return tuple(changes)

    def reset(self, strategy: str, note: str, now: dt.datetime) -> ThrottleTransition:
        """The operator reset: ``strategy`` becomes ACTIVE, judged afresh; the note
        and time are recorded in its throttle's ``resets``.

        Raises ``ConfigError`` for an empty note, or for a strategy the loop does
        not know unless the loop is fail closed (then it may be one the corrupt
        file held).
        """
        _aware(now)
        if strategy not in self._records and not self.fail_closed:
            known = ", ".join(self.strategies) or "none"
            raise ConfigError(f"unknown strategy {strategy!r}; known: {known}")
        if not isinstance(note, str) or not note.strip():
            raise ConfigError(f"an operator reset of {strategy!r} needs a non-empty note, got {note!r}")
        record = self._record(strategy)
        change = record.throttle.reset(note, now)
        self._after(record, change)
        if self.fail_closed and not any(r.throttle.reason == STATE_CORRUPT for r in self._records.values()):
            self.fail_closed_reason = None
            self.fail_closed_at = None
        return change

    def restore_throttle(self, strategy: str, data: object, *, trigger: str) -> None:
        """Put ``strategy``'s throttle where a logged transition left it (``data`` is the
        ``ThrottleMachine.to_dict()`` the event carries, ``trigger`` the transition's): for the
        fold of the event log, for transitions no trade caused (a cooldown's end, a reset, a
        hold). Judged metrics start afresh where the transition did so. Raises ``StateCorrupt``
        for malformed ``data``."""
        record = self._record(strategy)
        record.throttle = ThrottleMachine.from_dict(strategy, self.rules, data)
        if record.throttle.state == PROBATION or trigger == "reset":
            record.judged = record.judged.fresh()

    def hold_all(self, reason: str, detail: str, now: dt.datetime) -> tuple[ThrottleTransition, ...]:
        """Fail closed: hold every known strategy THROTTLED with ``reason`` (no cooldown)
        and refuse unknown strategies until an operator resets them."""
        _aware(now)
        self.fail_closed_reason = reason
        self.fail_closed_at = now
        return tuple(record.throttle.hold(reason, detail, now) for record in self._records.values())

    # persistence -------------------------------------------------------------

    def export_to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (no floats), with ``schema_version``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "fail_closed_reason": self.fail_closed_reason,
            "fail_closed_at": f.iso(self.fail_closed_at),
            "strategies": {
                name: {
                    "metrics": r.metrics.to_dict(),
                    "judged": r.judged.to_dict(),
                    "throttle": r.throttle.to_dict(),
                    "trade_digests": list(r.trade_digests),
                }
                for name, r in sorted(self._records.items())
            },
        }

    def load_from_dict(self, data: object) -> None:
        """Replace this loop's state with ``data`` from ``export_to_dict``.

        Everything is validated before anything changes. The loop's rules,
        window and EWMA weight apply (a different window keeps the newest
        results). Strategies this loop was told about but absent from ``data``
        start fresh (or held, when ``data`` is fail closed). A version 1 dict
        (full ``trade_ids``) loads with its ids digested. Raises ``StateCorrupt``
        (reason ``unknown_version`` or ``malformed``).
        """
        d = f.mapping(data, "learning state")
        version = f.field(d, "schema_version", "learning state")
        if version not in _READABLE_VERSIONS:
            raise StateCorrupt(
                f"learning state schema_version {version!r} is not one this statebot reads "
                f"({', '.join(map(str, _READABLE_VERSIONS))})", reason="unknown_version"
            )
        fail_closed = f.text(d, "fail_closed_reason", "learning state", optional=True)
        fail_closed_at = f.time(d, "fail_closed_at", "learning state")
        if (fail_closed is None) != (fail_closed_at is None):
            raise StateCorrupt("learning state: fail_closed_reason and fail_closed_at must be set together", reason="malformed")
        strategies = f.mapping(f.field(d, "strategies", "learning state"), "learning state.strategies")
        records: dict[str, StrategyRecord] = {}
        for name, entry in strategies.items():
            what = f"strategy {name!r}"
            e = f.mapping(entry, what)
            metrics = ReliabilityMetrics.from_dict(f.field(e, "metrics", what), f"{what}.metrics")
            judged = ReliabilityMetrics.from_dict(f.field(e, "judged", what), f"{what}.judged")
            if metrics.strategy != name or judged.strategy != name:
                raise StateCorrupt(f"{what}: metrics name another strategy", reason="malformed")
            throttle = ThrottleMachine.from_dict(name, self.rules, f.field(e, "throttle", what))
            records[name] = StrategyRecord(
                metrics=self._adopt(metrics), judged=self._adopt(judged), throttle=throttle,
                trade_digests=_read_digests(e, version, what)[-RECENT_TRADE_IDS:],
            )
        self._records = records
        self.fail_closed_reason = fail_closed
        self.fail_closed_at = fail_closed_at
        for name in self._configured:
            if name not in self._records:
                self._record(name)

    # internals ---------------------------------------------------------------

    def _adopt(self, metrics: ReliabilityMetrics) -> ReliabilityMetrics:
        if metrics.window != self.window:
            metrics = metrics.rewindowed(self.window)
        if metrics.ewma_alpha != self.ewma_alpha:
            metrics = attrs.evolve(metrics, ewma_alpha=self.ewma_alpha, recent=list(metrics.recent))
        return metrics

    def _record(self, strategy: str) -> StrategyRecord:
        record = self._records.get(strategy)
        if record is not None:
            return record
        if not isinstance(strategy, str) or not strategy.strip():
            raise ConfigError(f"strategy name {strategy!r} must be a non-empty string")
        metrics = ReliabilityMetrics(strategy=strategy, window=self.window, ewma_alpha=self.ewma_alpha)
        record = StrategyRecord(metrics=metrics, judged=metrics.fresh(), throttle=ThrottleMachine(strategy, self.rules))
        self._records[strategy] = record
        if self.fail_closed_reason is not None and self.fail_closed_at is not None:
            # a strategy first seen while fail closed may be one the lost state held
            record.throttle.hold(self.fail_closed_reason, "first seen while the learning state is fail closed", self.fail_closed_at)
        return record

    def _after(self, record: StrategyRecord, change: ThrottleTransition) -> None:
        if change.dest == PROBATION or change.trigger == "reset":
            record.judged = record.judged.fresh()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LearningLoop):
            return NotImplemented
        return self.rules == other.rules and self.export_to_dict() == other.export_to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        states = ", ".join(f"{n}={r.throttle.state}" for n, r in sorted(self._records.items()))
        return f"LearningLoop({states}{', fail closed' if self.fail_closed else ''})"


_READABLE_VERSIONS = (1, SCHEMA_VERSION)


def _read_digests(entry: Mapping[str, Any], version: int, what: str) -> list[str]:
    if version == 1:
        ids = f.field(entry, "trade_ids", what)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StateCorrupt(f"{what}.trade_ids must be a list of strings", reason="malformed")
        return [trade_digest(i) for i in ids[-RECENT_TRADE_IDS:]]
    digests = f.field(entry, "trade_digests", what)
    if not isinstance(digests, list) or not all(isinstance(x, str) and _DIGEST.fullmatch(x) for x in digests):
        raise StateCorrupt(f"{what}.trade_digests must be a list of {TRADE_DIGEST_HEX}-hex-digit strings",
                           reason="malformed")
    return digests


def load_loop(data: Mapping[str, Any], rules: ThrottleRules | None = None, **kwargs: Any) -> LearningLoop:
    """A new loop holding ``data`` (from ``export_to_dict``). Raises ``StateCorrupt``."""
    loop = LearningLoop(rules, **kwargs)
    loop.load_from_dict(data)
    return loop


__all__ = ["LearningLoop", "LearningUpdate", "ReliabilityMetrics", "SCHEMA_VERSION", "StrategyRecord", "load_loop", "trade_digest"]
