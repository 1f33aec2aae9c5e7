"""One TOML file configures a bot: loaded into validated, frozen attrs classes.

``load_config(path)`` (or ``parse_config(text)``) reads the file with
``tomllib`` (numbers with a fraction are read as exact Decimals), then builds
``Config`` section by section, driven by the attrs classes' field types:
unknown keys and wrong types raise ``ConfigError`` naming the full key path
and what was expected (``gates.dvs_threshold: expected a decimal string or
number, got list``). Missing keys take their defaults.

``config_hash(config)`` is the sha256 of the canonical JSON of the validated
config (sorted keys, no spaces; Decimals and durations as strings): two files
that mean the same thing have the same hash. Every event carries it.

Adding a section is a few lines: a frozen attrs class whose fields are made
with ``setting(default, doc=..., check=...)``, and one ``section(...)`` field
on ``Config``. Supported field types: bool, int, str, Decimal, timedelta
(duration strings such as ``"5m"``), ``Literal[...]``, ``X | None``,
``dict[str, X]`` (a TOML table) and nested sections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs

from statebot.core.time.durations import format_duration, parse_duration
from statebot.errors import ConfigError, FileAccessError

from statebot.config.fields import (  # noqa: F401  (the section helpers, re-exported)
    Check,
    at_least,
    fraction,
    non_negative,
    not_empty,
    section,
    setting,
    unit_interval,
)


def known_calendar(v: str) -> str | None:
    from statebot.core.time.calendar import get_calendar
    from statebot.errors import CalendarError

    try:
        get_calendar(v)
    except CalendarError as exc:
        return str(exc)
    return None


# -- sections ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CalendarConfig:
    """Trading calendar and session timing."""

    name: str = setting("XNYS", doc="exchange_calendars name (XNYS: NYSE 09:30-16:00 ET, early closes, holidays)", check=known_calendar)
    flatten_lead: dt.timedelta = setting(dt.timedelta(minutes=5), doc="flatten every position this long before the close",
                                         check=lambda v: positive_duration(v))
    entry_cutoff: dt.timedelta | None = setting(
        None, doc="no new entries from this long before the close (default: until the flatten)", example="15m"
    )


def positive(v: Decimal) -> str | None:
    return None if v > 0 else f"must be positive, got {v}"


def month_letters(v: str) -> str | None:
    from statebot.core.instruments import normalized_roll_months

    try:
        normalized_roll_months(v)
    except ConfigError as exc:
        return str(exc).removeprefix("roll_months ")
    return None


@attrs.frozen(kw_only=True)
class ContractConfig:
    """A futures contract defined in the file: ``[instrument.contracts.SYMBOL]``."""

    exchange: str = setting("CME", doc="exchange (as IB names it: CME, CBOT, NYMEX, COMEX, ...)", check=not_empty)
    currency: str = setting("USD", doc="currency of prices, tick value and fees", check=not_empty)
    tick_size: Decimal | None = setting(None, doc="minimum price step (required)", check=positive, example="0.01")
    tick_value: Decimal | None = setting(None, doc="money per tick per contract (give it, the multiplier, or both)",
                                         check=positive, example="10.00")
    multiplier: Decimal | None = setting(None, doc="money per point per contract", check=positive, example="1000")
    calendar: str = setting("", doc="the contract's trading calendar: CME_GLOBEX_EQUITY, an exchange_calendars "
                            "or a pandas_market_calendars name (required)", example='"CMEGlobex_CL"')
    flatten_before: Literal["cash_close", "futures_close"] = setting(
        "futures_close", doc='"futures_close" (the calendar\'s close) or "cash_close" (the [calendar] section\'s, XNYS)')
    roll_months: str = setting("HMUZ", doc="listed months traded, as CME month letters (FGHJKMNQUVXZ)", check=month_letters)
    roll_days: int = setting(8, doc="roll to the next contract this many calendar days before expiry", check=at_least(0))
    ib_symbol: str = setting("", doc="IB contract symbol, when it differs from the symbol", example='"CL"')
    ib_trading_class: str = setting("", doc="IB trading class, when needed to pick the contract", example='"CL"')
    fee_per_side: Decimal | None = setting(None, doc="fixed fee per contract per side (default: the [commission] model)",
                                           check=non_negative, example="1.25")

    @staticmethod
    def check_given(given: Mapping[str, Any]) -> str | None:
        """A contract needs its tick size, its tick value or multiplier, and its calendar."""
        if "tick_size" not in given:
            return "tick_size: required"
        if "tick_value" not in given and "multiplier" not in given:
            return "tick_value: required (or the multiplier)"
        if not str(given.get("calendar", "")).strip():
            return "calendar: required (e.g. CME_GLOBEX_EQUITY, or a pandas_market_calendars name such as CMEGlobex_CL)"
        problem = known_calendar(str(given["calendar"]))
        return f"calendar: {problem}" if problem else None

    def spec(self, symbol: str) -> Any:
        """The ``InstrumentSpec`` this table describes; ``ConfigError`` naming the inconsistent key."""
        from statebot.core.instruments import InstrumentSpec

        assert self.tick_size is not None  # check_given requires it
        tick_value = self.tick_value if self.tick_value is not None else self.tick_size * self.multiplier  # type: ignore[operator]
        multiplier = self.multiplier if self.multiplier is not None else self.tick_value / self.tick_size  # type: ignore[operator]
        try:
            return InstrumentSpec(
                symbol=symbol, exchange=self.exchange, currency=self.currency, tick_size=self.tick_size,
                tick_value=tick_value, multiplier=multiplier, calendar=self.calendar, flatten_before=self.flatten_before,
                roll_months=self.roll_months, roll_days=self.roll_days, ib_symbol=self.ib_symbol,
                ib_trading_class=self.ib_trading_class, fee_per_side=self.fee_per_side,
            )
        except ConfigError as exc:
            key, _, problem = str(exc).partition(" ")  # the spec's errors start with the field's name
            raise ConfigError(f"instrument.contracts.{symbol}.{key}: {problem}") from None


@attrs.frozen(kw_only=True)
class InstrumentConfig:
    """The traded instrument: a built-in contract or one defined under [instrument.contracts.SYMBOL]."""

    symbol: str = setting("MES", doc="contract symbol (built in: ES, MES, NQ, MNQ, RTY, M2K, YM, MYM; or one defined below)",
                          check=not_empty)
    flatten_before: Literal["cash_close", "futures_close"] | None = setting(
        None, doc='flatten before the "cash_close" (the [calendar] section\'s sessions, XNYS 16:00 ET) or the '
        '"futures_close" (the contract\'s own calendar, CME equity index: 16:00 CT); default: the contract\'s own '
        '(cash_close for the built-ins)', example="futures_close")
    contracts: dict[str, ContractConfig] = setting({}, doc="contracts defined here, one table per symbol")

    def specs(self) -> dict[str, Any]:
        """Every contract defined in the file, as ``InstrumentSpec`` by symbol; the traded one with
        ``flatten_before`` applied. Raises ``ConfigError`` naming the inconsistent key."""
        out = {symbol: contract.spec(symbol) for symbol, contract in self.contracts.items()}
        if self.flatten_before is not None:
            out[self.symbol] = attrs.evolve(self._traded(out), flatten_before=self.flatten_before)
        return out

    def spec(self, extra: Mapping[str, Any] | None = None) -> Any:
        """The traded contract's ``InstrumentSpec``, from the file, ``extra`` (specs given in code,
        e.g. ``BotRunner(instruments=...)``) or the built-ins; ``ConfigError`` (``instrument.symbol: ...``) when unknown."""
        return self._traded({**self.specs(), **(extra or {})})

    def _traded(self, defined: Mapping[str, Any]) -> Any:
        from statebot.core.instruments import instrument
        from statebot.errors import UnknownInstrument

        try:
            return instrument(self.symbol, defined)
        except UnknownInstrument as exc:
            raise ConfigError(f"instrument.symbol: {exc}; define it under [instrument.contracts.{self.symbol}]") from None

    def session_calendar(self, cash_calendar: str, extra: Mapping[str, Any] | None = None) -> str:
        """The calendar whose sessions the bot keeps: ``cash_calendar`` (the ``[calendar]`` name) for
        the cash close, the contract's own for the futures close. ``ConfigError`` naming
        ``calendar.name`` when it would be silently unused (another name with the futures close) or
        would flatten inside the equity index halt (``CMES`` for a CME Globex equity contract)."""
        spec = self.spec(extra)
        if spec.flatten_before == "cash_close":
            if cash_calendar == "CMES" and spec.calendar == "CME_GLOBEX_EQUITY":
                raise ConfigError(
                    f"calendar.name: CMES closes at 17:00 CT, inside {self.symbol}'s 16:00-17:00 CT daily halt, where a "
                    "flatten cannot fill; use XNYS (the cash close) or instrument.flatten_before = \"futures_close\" "
                    "(CME_GLOBEX_EQUITY)"
                )
            return cash_calendar
        if cash_calendar not in ("XNYS", spec.calendar):
            raise ConfigError(
                f"calendar.name: {cash_calendar!r} is unused: {self.symbol} flattens before the futures close, on its "
                f"own calendar {spec.calendar}; remove calendar.name or set instrument.flatten_before = \"cash_close\""
            )
        return str(spec.calendar)

    def commission(self, section: CommissionConfig, extra: Mapping[str, Any] | None = None) -> Any:
        """The commission model for the traded contract: its own ``fee_per_side`` when set, else the
        ``[commission]`` section's. Raises ``ConfigError`` when that section's "ibkr" model has no
        fee schedule for the contract (it would fail at the first fill)."""
        from statebot.core.costs import IBKR_FUTURES_FEES, FixedCommission

        spec = self.spec(extra)
        if spec.fee_per_side is not None:
            return FixedCommission(spec.fee_per_side)
        if section.model == "ibkr" and self.symbol not in IBKR_FUTURES_FEES:
            raise ConfigError(
                f'commission.model: "ibkr" has no fee schedule for {self.symbol} (it has {", ".join(sorted(IBKR_FUTURES_FEES))}); '
                f"set instrument.contracts.{self.symbol}.fee_per_side"
            )
        return section.build()


@attrs.frozen(kw_only=True)
class GatesConfig:
    """Quality gates: a score below its threshold, missing or not finite skips the entry."""

    dvs_threshold: Decimal = setting(Decimal("0.80"), doc="minimum data validity score, 0..1", check=unit_interval)
    eqs_threshold: Decimal = setting(Decimal("0.75"), doc="minimum execution quality score, 0..1", check=unit_interval)


@attrs.frozen(kw_only=True)
class SizingConfig:
    """Risk-based position sizing: contracts = floor(min(tier max risk, equity x fraction) / (stop ticks x tick value))."""

    equity_risk_fraction: Decimal = setting(Decimal("0.02"), doc="risk at most this fraction of equity per trade", check=fraction)
    max_stop_ticks: int = setting(12, doc="signals with a wider stop are not traded", check=at_least(1))
    max_contracts: int = setting(10, doc="never more contracts than this in one entry", check=at_least(1))
    max_risk_per_trade: dict[str, Decimal] = setting(
        {"default": Decimal("15")}, doc="max risk per trade in USD, by signal tier", check=non_negative
    )

    def max_risk_for(self, tier: str) -> Decimal:
        """The tier's max risk per trade (USD); ``ConfigError`` naming known tiers when unknown."""
        try:
            return self.max_risk_per_trade[tier]
        except KeyError:
            known = ", ".join(sorted(self.max_risk_per_trade))
            raise ConfigError(f"sizing.max_risk_per_trade has no tier {tier!r} (known: {known})") from None


@attrs.frozen(kw_only=True)
class CommissionConfig:
    """Commission per contract per side."""

    model: Literal["fixed", "ibkr"] = setting("fixed", doc='"fixed" (flat fee below) or "ibkr" (tiered broker + exchange + regulatory fees)')
    per_contract_per_side: Decimal = setting(
        Decimal("1.25"), doc="USD per contract per side for the fixed model ($2.50 per round trip)", check=non_negative
    )

    @staticmethod
    def check_given(given: Mapping[str, Any]) -> str | None:
        """A fee set for a model that ignores it would be silently unused: refused."""
        if given.get("model") == "ibkr" and "per_contract_per_side" in given:
            return 'per_contract_per_side: applies only to model = "fixed" (model "ibkr" computes its own fees)'
        return None

    def build(self) -> Any:
        """The commission model this section describes (``statebot.core.costs``)."""
        from statebot.core.costs import FixedCommission, IBKRFuturesCommission

        return FixedCommission(self.per_contract_per_side) if self.model == "fixed" else IBKRFuturesCommission()


_USE_DURABILITY = 'use durability.mode ("live" or "simulation")'


@attrs.frozen(kw_only=True)
class PersistenceConfig:
    """Crash-safe state snapshots (throttles, learning metrics)."""

    state_dir: str = setting("state", doc="state folder; a relative path is relative to this file's folder", check=not_empty)
    replaced = {"runner_snapshot": _USE_DURABILITY, "fsync": _USE_DURABILITY,
                "save_every_trades": "learning is in the event log, written before each change takes effect"}


@attrs.frozen(kw_only=True)
class EventLogConfig:
    """The append-only, hash-chained event log."""

    path: str = setting("events.jsonl", doc="event log file; a relative path is relative to this file's folder", check=not_empty)
    key_file: str | None = setting(
        None, doc="seal each line with HMAC-SHA256 under the key in this file (relative to this file's folder); "
        "verify with statebot replay --key FILE", example='"/etc/statebot/seal.key"',
    )
    key_env: str | None = setting(
        None, doc="seal each line with the key held by this environment variable (instead of key_file)",
        example='"STATEBOT_SEAL_KEY"',
    )

    replaced = {"fsync": _USE_DURABILITY, "fsync_every_n": _USE_DURABILITY}

    @staticmethod
    def check_given(data: Mapping[str, Any]) -> str | None:
        if data.get("key_file") is not None and data.get("key_env") is not None:
            return "key_env: give key_file or key_env, not both"
        return None


@attrs.frozen(kw_only=True)
class DurabilityConfig:
    """When the event log and the state files reach the disk (fsync); the log's bytes are the same either way."""

    mode: Literal["live", "simulation"] = setting(
        "live", doc='"live": the log is fsynced before every order or cancel leaves the process and state files at '
        'every change; "simulation": the log is buffered and fsynced at checkpoints and at exit, state files are '
        "replaced atomically without fsync and saved per session (a crash loses the day, which a simulation can re-run). "
        "statebot sim uses simulation unless its config names this key",
    )


def positive_duration(v: dt.timedelta) -> str | None:
    return None if v > dt.timedelta(0) else f"must be a positive duration, got {format_duration(v)!r}"


@attrs.frozen(kw_only=True)
class KillSwitchConfig:
    """Kill-switch limits: crossing one stops all entries and flattens everything until a person re-arms it."""

    daily_loss_limit_usd: Decimal = setting(Decimal("500"), doc="trip when a session's realized net P&L reaches minus this (0: off)", check=non_negative)
    max_consecutive_rejects: int = setting(3, doc="trip after this many order rejects in a row (0: off)", check=at_least(0))
    max_strategy_errors: int = setting(5, doc="trip when the strategy raises on this many bars of one session (0: off)", check=at_least(0))
    flatten_backoff_first: dt.timedelta = setting(dt.timedelta(seconds=5), doc="wait this long after a failed flatten attempt", check=positive_duration)
    flatten_backoff_factor: int = setting(2, doc="multiply the wait by this after each further failure", check=at_least(1))
    flatten_backoff_cap: dt.timedelta = setting(dt.timedelta(minutes=1), doc="never wait longer than this between flatten attempts", check=positive_duration)

    replaced = {"persistence_failures": "a failed write to the event log or the checkpoint stops the bot at once (exit 3)"}

    def build(self) -> Any:
        """A fresh ARMED ``statebot.core.fsm.killswitch.KillSwitch`` with these limits."""
        from statebot.core.fsm.killswitch import Backoff, KillSwitch

        return KillSwitch(
            max_consecutive_rejects=self.max_consecutive_rejects or None,
            daily_loss_limit=self.daily_loss_limit_usd or None,
            max_strategy_errors=self.max_strategy_errors or None,
            backoff=Backoff(first=self.flatten_backoff_first, factor=self.flatten_backoff_factor, cap=self.flatten_backoff_cap),
        )


@attrs.frozen(kw_only=True)
class StrategyConfig:
    """The strategy a command runs when its --strategy is not given, and its constructor parameters."""

    name: str | None = setting(None, doc="built-in (sma-cross, orb) or module:ClassName; unset: the command's default",
                               check=not_empty, example="sma-cross")
    params: dict[str, Any] = setting({}, doc="constructor parameters of that strategy (-p NAME=VALUE overrides one)")


@attrs.frozen(kw_only=True)
class BarChecksConfig:
    """Checks of each bar's prices between the feed and the runner (``statebot.feeds.guard``)."""

    max_jump_ranges: Decimal = setting(
        Decimal("50"), doc="a bar farther than this many recent mean bar ranges from the previous close is a jump (0: off)",
        check=non_negative,
    )
    jump_window: int = setting(20, doc="bars in the recent mean range", check=at_least(1))
    on_jump: Literal["default", "refuse", "flag"] = setting(
        "default", doc='"refuse" a jump (the clock still advances to its end), "flag" it in the event log and trade on, '
        'or "default": refuse in simulations, flag in live mode'
    )

    def guard(self, spec: Any, *, live: bool) -> Any:
        """A ``statebot.feeds.guard.PriceGuard`` for ``spec`` with these settings."""
        from statebot.feeds.guard import PriceGuard

        action = self.on_jump if self.on_jump != "default" else ("flag" if live else "refuse")
        return PriceGuard(spec, max_jump_ranges=self.max_jump_ranges, window=self.jump_window, on_jump=action)


@attrs.frozen(kw_only=True)
class IBKRConfig:
    """Interactive Brokers (``statebot run --adapter ibkr``): what only the config file may say."""

    account: str = setting("", doc="IB account id to trade and read (default: the only account TWS manages)",
                           example='"DU1234567"')
    live_acknowledgement: str = setting(
        "", doc="LIVE mode starts only with --live AND this set to the exact sentence in docs/ibkr.md",
        example='"I understand that LIVE mode trades real money"',
    )


@attrs.frozen(kw_only=True)
class ProtectionConfig:
    """Protective orders held at the venue: each entry goes out as a bracket with a GTC stop (and target)."""

    enabled: bool = setting(
        True, doc="send each entry as a bracket: a good-till-cancelled stop (and target), one cancels the other, held "
        "at the venue so a position stays protected if the bot stops; off (or a venue without stop orders): the "
        "runner checks the stop on closed bars and exits at market",
    )
    on_lost: Literal["trip", "resend"] = setting(
        "trip", doc='a protective stop cancelled or rejected unasked while its position is open: "trip" the kill '
        'switch (its flatten closes the position) or "resend" the stop once (a second loss trips)',
    )
    both_reached: Literal["stop", "target"] = setting(
        "stop", doc='simulation: when one bar reaches both the stop and the target, assume "stop" first (the worse '
        'outcome) or "target"',
    )


# defined beside the learning code; imported here, after the helpers it uses, to host it
from statebot.config.throttle import ThrottleConfig  # noqa: E402


@attrs.frozen(kw_only=True)
class Config:
    """A whole bot configuration. Every section is optional in the file.

    ``base_dir`` (the config file's folder; not part of the hash) resolves
    relative paths via ``resolve``.
    """

    calendar: CalendarConfig = section(CalendarConfig, "trading calendar and session timing")
    instrument: InstrumentConfig = section(InstrumentConfig, "the traded instrument")
    gates: GatesConfig = section(GatesConfig, "quality gates")
    sizing: SizingConfig = section(SizingConfig, "position sizing")
    commission: CommissionConfig = section(CommissionConfig, "commission model")
    persistence: PersistenceConfig = section(PersistenceConfig, "state persistence")
    event_log: EventLogConfig = section(EventLogConfig, "event log")
    durability: DurabilityConfig = section(DurabilityConfig, "when the log and state files are fsynced")
    throttle: ThrottleConfig = section(ThrottleConfig, "strategy throttle")
    kill_switch: KillSwitchConfig = section(KillSwitchConfig, "kill-switch limits")
    bar_checks: BarChecksConfig = section(BarChecksConfig, "price checks of each bar before the runner sees it")
    ibkr: IBKRConfig = section(IBKRConfig, "Interactive Brokers account and LIVE acknowledgement")
    protection: ProtectionConfig = section(ProtectionConfig, "protective orders held at the venue")
    strategy: StrategyConfig = section(StrategyConfig, "the strategy and its parameters")
    base_dir: Path | None = attrs.field(default=None, eq=False, metadata={"internal": True})

    def resolve(self, path: str) -> Path:
        """``path`` made absolute against ``base_dir`` (the current folder when None)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir or Path.cwd()) / p

    @property
    def config_hash(self) -> str:
        """sha256 (hex) of the canonical JSON of this config."""
        return config_hash(self)


def check_runnable(config: Config) -> None:
    """Refuse a config whose sections are each valid but that the runner could not trade with,
    naming the key: a max-risk table without the tier signals use by default, a flatten backoff
    cap below its first wait, a flatten lead or entry cut-off as long as the calendar's shortest
    session of the past year (that session could make no entry, its flatten would be late).
    Raises ``ConfigError``."""
    from statebot.core.strategy.protocol import Signal

    default_tier = attrs.fields(Signal).tier.default
    tiers = config.sizing.max_risk_per_trade
    if default_tier not in tiers:
        raise ConfigError(f"sizing.max_risk_per_trade: no {default_tier!r} tier, which a signal uses unless it names "
                          f"one (tiers: {', '.join(sorted(tiers)) or 'none'})")
    ks = config.kill_switch
    if ks.flatten_backoff_cap < ks.flatten_backoff_first:
        raise ConfigError(f"kill_switch.flatten_backoff_cap: {format_duration(ks.flatten_backoff_cap)} is below "
                          f"kill_switch.flatten_backoff_first {format_duration(ks.flatten_backoff_first)}")
    shortest = _shortest_session(config.calendar.name)
    if shortest is None:
        return
    for key, lead in (("flatten_lead", config.calendar.flatten_lead), ("entry_cutoff", config.calendar.entry_cutoff)):
        if lead is not None and lead >= shortest:
            raise ConfigError(f"calendar.{key}: {format_duration(lead)} is at least as long as a whole "
                              f"{config.calendar.name} session ({format_duration(shortest)}, the shortest in the past "
                              "year): that session could make no entry and its flatten would be late")


def _shortest_session(calendar_name: str) -> dt.timedelta | None:
    """The shortest session of the calendar over the past year, early closes included (None if it has none)."""
    from statebot.core.time.calendar import get_calendar

    today = dt.datetime.now(dt.timezone.utc).date()
    sessions = get_calendar(calendar_name).sessions(today - dt.timedelta(days=366), today)
    return min((s.close - s.open for s in sessions), default=None)


def check_bar_size(config: Config, bar_size: dt.timedelta) -> None:
    """Refuse ``bar_size`` bars when only bars move the clock (a simulation, no heartbeat) and
    they are longer than ``calendar.flatten_lead``: a bar acts at its end, so the flatten could
    start no earlier than the close and the position would be held overnight. A lead of at
    least two bars leaves the flatten a retry. Raises ``ConfigError`` naming the key."""
    lead = config.calendar.flatten_lead
    if bar_size > lead:
        raise ConfigError(
            f"calendar.flatten_lead: {format_duration(lead)} is shorter than the bar size {format_duration(bar_size)}: "
            "with bars alone the flatten would start at the close; use a lead of at least one bar (two leave a retry)"
        )


# -- loading -----------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (Decimal, float)):
        return "number"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "list"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return "date/time"
    return type(value).__name__


def _fields(cls: type) -> tuple[attrs.Attribute, ...]:  # type: ignore[type-arg]
    attrs.resolve_types(cls)
    return tuple(f for f in attrs.fields(cls) if not f.metadata.get("internal"))


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path)
    if tp is Any:  # a strategy parameter: handed to the strategy's constructor as TOML gave it
        if isinstance(value, (bool, int, str, Decimal)):
            return value
        raise ConfigError(f"{path}: expected a string, number or boolean, got {_kind(value)}")
    if origin is Literal:
        if isinstance(value, str) and value in args:
            return value
        raise ConfigError(f"{path}: expected one of {', '.join(repr(a) for a in args)}, got {_kind(value)}")
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a table, got {_kind(value)}")
        return {str(k): _convert(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if attrs.has(tp):
        return _build(tp, value, path)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected true or false, got {_kind(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected an integer, got {_kind(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{path}: expected a string, got {_kind(value)}")
    if tp is Decimal:
        return _decimal(value, path)
    if tp is dt.timedelta:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a duration string such as \"5m\", got {_kind(value)}")
        try:
            return parse_duration(value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    raise ConfigError(f"{path}: unsupported setting type {tp!r}")  # a programming error in a section


def _decimal(value: Any, path: str) -> Decimal:
    expected = f"{path}: expected a decimal string or number, got"
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigError(f"{expected} {_kind(value)}")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        raise ConfigError(f"{expected} {_kind(value)}") from None
    if not result.is_finite():
        raise ConfigError(f"{path}: must be finite, got {value}")
    return result


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a table, got {_kind(data)}")
    fields = _fields(cls)
    names = {f.name for f in fields}
    replaced: Mapping[str, str] = getattr(cls, "replaced", {})  # old key -> what to do instead
    for key in data:
        if key not in names:
            where = f"{path}.{key}" if path else key
            if key in replaced:
                raise ConfigError(f"{where}: no longer a setting; {replaced[key]}")
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(names))})")
    kwargs = {}
    for f in fields:
        if f.name not in data:
            continue
        where = f"{path}.{f.name}" if path else f.name
        value = _convert(f.type, data[f.name], where)
        check = f.metadata.get("check")
        problem = check(value) if check is not None and value is not None else None
        if problem:
            raise ConfigError(f"{where}: {problem}")
        kwargs[f.name] = value
    check_given = getattr(cls, "check_given", None)
    problem = check_given(data) if check_given is not None else None
    if problem:
        raise ConfigError(f"{path}.{problem}" if path else problem)
    return cls(**kwargs)


def from_data(cls: type, data: Mapping[str, Any], path: str = "") -> Any:
    """Build the attrs config class ``cls`` from parsed TOML ``data`` (keys under ``path``).

    The generic loader behind ``parse_config``, for sections defined outside
    this module. Raises ``ConfigError`` naming the key path.
    """
    return _build(cls, data, path)


def with_defaults(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (parsed TOML) with the keys of ``defaults`` it does not name, section by section:
    a command's own defaults (``statebot sim``'s ``durability.mode``) hold unless the file says otherwise."""
    merged = dict(data)
    for name, values in defaults.items():
        given = merged.get(name)
        if given is None:
            merged[name] = dict(values) if isinstance(values, Mapping) else values
        elif isinstance(given, dict) and isinstance(values, Mapping):
            merged[name] = {**values, **given}
    return merged


def toml_value(text: str) -> Any:
    """A command-line value read as a TOML value (``30``, ``0.5`` as a Decimal, ``true``,
    ``"5m"``, ``[1, 2]``); anything that is not one is the string itself (``XNYS``, ``5m``)."""
    try:
        return tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        return text


def split_assignment(text: str, option: str) -> tuple[str, str]:
    """``NAME=VALUE`` split at the first ``=``; ``ConfigError`` naming ``option`` otherwise."""
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise ConfigError(f"{option} {text!r}: expected NAME=VALUE")
    return name.strip(), value.strip()


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Parsed TOML ``data`` with each ``SECTION.KEY=VALUE`` of ``overrides`` set (``--set``),
    later ones winning; the result is checked like the file. ``ConfigError`` for a malformed one."""
    merged = _deep_copy(data)
    for text in overrides:
        path, value = split_assignment(text, "--set")
        keys = path.split(".")
        if len(keys) < 2 or not all(k.strip() for k in keys):
            raise ConfigError(f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. --set sizing.max_stop_ticks=20")
        table = merged
        for depth, key in enumerate(keys[:-1]):
            inner = table.setdefault(key, {})
            if not isinstance(inner, dict):
                raise ConfigError(f"--set {text!r}: {'.'.join(keys[:depth + 1])} is a value, not a table")
            table = inner
        table[keys[-1]] = toml_value(value)
    return merged


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def parse_config(text: str, *, base_dir: Path | None = None, source: str = "config",
                 defaults: Mapping[str, Any] | None = None, overrides: Sequence[str] = ()) -> Config:
    """``Config`` from TOML ``text`` (``defaults`` fill what it does not name, see
    ``with_defaults``; ``overrides`` then set keys, see ``apply_overrides``), checked as a
    whole (``check_runnable``); raises ``ConfigError`` naming the key path."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    if defaults is not None:
        data = with_defaults(data, defaults)
    if overrides:
        data = apply_overrides(data, overrides)
    config: Config = _build(Config, data, "")
    check_runnable(config)
    return attrs.evolve(config, base_dir=base_dir)


def load_config(path: str | os.PathLike[str], *, defaults: Mapping[str, Any] | None = None,
                overrides: Sequence[str] = ()) -> Config:
    """``Config`` from the TOML file at ``path``; relative paths inside resolve against its folder.
    ``defaults`` fill the keys the file does not name (see ``with_defaults``); ``overrides``
    (``SECTION.KEY=VALUE``, the CLI's ``--set``) replace keys, checked like the file.

    Raises ``FileAccessError`` when the file cannot be read, ``ConfigError`` when it
    is not UTF-8 TOML, or any setting is unknown, of the wrong type or out of range.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileAccessError(f"cannot read config {p}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_config(text, base_dir=p.resolve().parent, source=str(p), defaults=defaults, overrides=overrides)


# -- canonical form, hash and the default file ------------------------------


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in _fields(type(value))}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.timedelta):
        return f"{value // dt.timedelta(microseconds=1)}us"
    return value


def config_dict(config: Config) -> dict[str, Any]:
    """The validated config as plain JSON data (Decimals and durations as strings)."""
    return _plain(config)  # type: ignore[no-any-return]


def config_hash(config: Config) -> str:
    """sha256 (hex) of the canonical JSON (sorted keys, no spaces, UTF-8) of ``config``.

    Equal values give equal hashes however they were written (``0.8`` and
    ``"0.80"``, ``"300s"`` and ``"5m"``). ``durability`` is left out: it changes when
    bytes reach the disk, never what the bot does, and every event carries this hash,
    so a run's log has the same bytes under either mode.
    """
    data = config_dict(config)
    del data["durability"]
    if config.strategy == StrategyConfig():
        del data["strategy"]  # no strategy named: the hash of every config written before the section existed
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.timedelta):
        return json.dumps(format_duration(value))
    return json.dumps(str(value))


def default_toml() -> str:
    """A commented TOML file with every setting at its default; it loads to ``Config()``."""
    out = ["# statebot configuration. Every key is optional; shown here with its default.",
           "# Check a file with: statebot config check FILE", ""]
    for sec in _fields(Config):
        cls: Any = sec.type
        out.append(f"# {(cls.__doc__ or sec.metadata['doc']).strip().splitlines()[0]}")
        out.append(f"[{sec.name}]")
        tables = []
        for f in _fields(cls):
            default = f.default.factory() if isinstance(f.default, attrs.Factory) else f.default  # type: ignore[union-attr, arg-type]
            if isinstance(default, dict):
                tables.append((f, default))
                continue
            out.append(f"# {f.metadata['doc']}")
            if default is None:
                out.append(f"# {f.name} = {json.dumps(f.metadata.get('example') or '')}")
            else:
                out.append(f"{f.name} = {_toml_value(default)}")
        for f, default in tables:
            out.append(f"# {f.metadata['doc']}")
            out.append(f"[{sec.name}.{f.name}]")
            out.extend(f"{k} = {_toml_value(v)}" for k, v in default.items())
        out.append("")
    return "\n".join(out)
