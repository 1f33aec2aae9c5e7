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
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs

from statebot.core.time.durations import format_duration, parse_duration
from statebot.errors import ConfigError, FileAccessError

Check = Callable[[Any], "str | None"]


# -- field helpers -----------------------------------------------------------


def setting(default: Any, *, doc: str, check: Check | None = None, example: str | None = None) -> Any:
    """An attrs field for a config setting: its default, one-line ``doc`` (printed in
    ``statebot config default``), an optional ``check`` returning an error text or
    None, and for optional settings an ``example`` shown commented out."""
    def validate(instance: Any, attribute: attrs.Attribute, value: Any) -> None:  # type: ignore[type-arg]
        problem = check(value) if check is not None and value is not None else None
        if problem:
            raise ConfigError(f"{attribute.name}: {problem}")

    kwargs: dict[str, Any] = {"metadata": {"doc": doc, "check": check, "example": example}, "validator": validate}
    if isinstance(default, dict):
        frozen = dict(default)
        return attrs.field(factory=lambda: dict(frozen), **kwargs)
    return attrs.field(default=default, **kwargs)


def section(cls: type, doc: str) -> Any:
    """A ``Config`` field holding the section ``cls`` (all defaults when absent)."""
    return attrs.field(factory=cls, metadata={"doc": doc, "section": True})


def at_least(minimum: int | Decimal) -> Check:
    return lambda v: None if v >= minimum else f"must be >= {minimum}, got {v}"


def non_negative(v: Any) -> str | None:
    values = list(v.values()) if isinstance(v, dict) else [v]
    bad = [x for x in values if x < 0]
    return f"must not be negative, got {bad[0]}" if bad else None


def fraction(v: Decimal) -> str | None:
    return None if 0 < v <= 1 else f"must be in (0, 1], got {v}"


def unit_interval(v: Decimal) -> str | None:
    return None if 0 <= v <= 1 else f"must be between 0 and 1, got {v}"


def not_empty(v: str) -> str | None:
    return None if v.strip() else "must not be empty"


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


@attrs.frozen(kw_only=True)
class InstrumentConfig:
    """The traded instrument."""

    symbol: str = setting("MES", doc="contract symbol (MES, ES, MNQ, NQ are built in)", check=not_empty)


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


@attrs.frozen(kw_only=True)
class PersistenceConfig:
    """Crash-safe state snapshots (throttles, learning metrics)."""

    state_dir: str = setting("state", doc="state folder; a relative path is relative to this file's folder", check=not_empty)
    save_every_trades: int = setting(1, doc="save learning metrics after this many trades (throttle changes are saved at once)", check=at_least(1))
    runner_snapshot: Literal["changes", "sessions"] = setting(
        "changes", doc='save the runner snapshot after every change of positions, orders or kill switch ("changes"), '
        'or only at each session close and on shutdown ("sessions": simulations only, a crash loses the day)'
    )
    fsync: bool = setting(
        True, doc="fsync each state file and its folder when saved; false is for simulations with a throwaway state folder only: "
        "files are still replaced atomically before a change takes effect, but a power loss may lose them"
    )


@attrs.frozen(kw_only=True)
class EventLogConfig:
    """The append-only, hash-chained event log."""

    path: str = setting("events.jsonl", doc="event log file; a relative path is relative to this file's folder", check=not_empty)
    fsync: Literal["every", "every_n", "transitions"] = setting(
        "every", doc='"every" event, "every_n" events, or "transitions" (session/position/throttle/kill-switch changes, orders, fills, trades)'
    )
    fsync_every_n: int = setting(100, doc='with fsync = "every_n": fsync after this many events', check=at_least(1))


def positive_duration(v: dt.timedelta) -> str | None:
    return None if v > dt.timedelta(0) else f"must be a positive duration, got {format_duration(v)!r}"


@attrs.frozen(kw_only=True)
class KillSwitchConfig:
    """Kill-switch limits: crossing one stops all entries and flattens everything until a person re-arms it."""

    daily_loss_limit_usd: Decimal = setting(Decimal("500"), doc="trip when a session's realized net P&L reaches minus this (0: off)", check=non_negative)
    max_consecutive_rejects: int = setting(3, doc="trip after this many order rejects in a row (0: off)", check=at_least(0))
    persistence_failures: int = setting(3, doc="trip after this many failed state saves in a row", check=at_least(1))
    flatten_backoff_first: dt.timedelta = setting(dt.timedelta(seconds=5), doc="wait this long after a failed flatten attempt", check=positive_duration)
    flatten_backoff_factor: int = setting(2, doc="multiply the wait by this after each further failure", check=at_least(1))
    flatten_backoff_cap: dt.timedelta = setting(dt.timedelta(minutes=1), doc="never wait longer than this between flatten attempts", check=positive_duration)

    def build(self) -> Any:
        """A fresh ARMED ``statebot.core.fsm.killswitch.KillSwitch`` with these limits."""
        from statebot.core.fsm.killswitch import Backoff, KillSwitch

        return KillSwitch(
            max_consecutive_rejects=self.max_consecutive_rejects or None,
            daily_loss_limit=self.daily_loss_limit_usd or None,
            backoff=Backoff(first=self.flatten_backoff_first, factor=self.flatten_backoff_factor, cap=self.flatten_backoff_cap),
        )


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
    throttle: ThrottleConfig = section(ThrottleConfig, "strategy throttle")
    kill_switch: KillSwitchConfig = section(KillSwitchConfig, "kill-switch limits")
    bar_checks: BarChecksConfig = section(BarChecksConfig, "price checks of each bar before the runner sees it")
    ibkr: IBKRConfig = section(IBKRConfig, "Interactive Brokers account and LIVE acknowledgement")
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
    for key in data:
        if key not in names:
            where = f"{path}.{key}" if path else key
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


def parse_config(text: str, *, base_dir: Path | None = None, source: str = "config") -> Config:
    """``Config`` from TOML ``text``, checked as a whole (``check_runnable``); raises ``ConfigError``
    naming the key path."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    config: Config = _build(Config, data, "")
    check_runnable(config)
    return attrs.evolve(config, base_dir=base_dir)


def load_config(path: str | os.PathLike[str]) -> Config:
    """``Config`` from the TOML file at ``path``; relative paths inside resolve against its folder.

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
    return parse_config(text, base_dir=p.resolve().parent, source=str(p))


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
    ``"0.80"``, ``"300s"`` and ``"5m"``).
    """
    text = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
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
