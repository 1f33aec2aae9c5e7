"""Whole simulations as data: a ``SimSetup`` in, a ``SimReport`` out; scenarios with expectations.

``run_setup(setup, out_dir)`` builds a ``SimBroker`` and a ``BotRunner`` in
``out_dir`` (state folder ``out_dir/state``, event log ``out_dir/events.jsonl``
unless the setup names others) and runs the bars: synthetic (seeded, on the
real calendar) or a CSV file (streamed). Each bar goes to the venue first, then
to the runner. During a data outage (``outages``) the venue still sees the bar
(it keeps working orders) but the runner only gets a heartbeat at the bar's
end, as a live bot whose feed is down. ``restart_after_bars`` closes the runner
after that many bars and opens a new one on the same state folder and log.
``kill_after_bars`` kills the bot after that many bars: the runner is abandoned
as a killed process leaves it (its log lines written, no checkpoint, no
close), the venue alone sees the next ``down_bars`` bars (its GTC protective
orders keep working and may fill), then a new runner starts on the same state
folder and log and learns from the venue what happened meanwhile.
``reject_next`` asks the venue to refuse the next N submissions from a time on.

The report is read back from the runner's own event log through the one fold
(``statebot.journal.replay.run_record``: the fold's pass keeps the run's record,
``RunHistory``), so it says what a risk reviewer would find there; only the
decisions that log nothing (a throttled entry's SKIP) are counted as they are made. Money is Decimal USD; in ``as_dict()`` money
and ticks are strings, times ISO-8601 with offsets.

A scenario (``load_scenario``, TOML) is a setup, optional Monte Carlo seeds
and an ``[expect]`` table; ``check_expectations`` returns one line per failed
expectation.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from statebot.venues.sim import FaultPlan, FixedSlippage, SimBroker
from statebot.core.instruments import instrument
from statebot.core.time.calendar import get_calendar
from statebot.core.time.clock import Bar
from statebot.config.model import (
    Config,
    apply_overrides,
    check_bar_size,
    check_runnable,
    from_data,
    load_config,
    parse_config,
    with_defaults,
)
from statebot.core.time.durations import parse_duration
from statebot.errors import ConfigError
from statebot.journal.log import (
    BAR_FLAGGED,
    BAR_REJECTED,
    KILL_SWITCH,
    POSITION_TRANSITION,
    SESSION_TRANSITION,
    THROTTLE_TRANSITION,
)
from statebot.journal.replay import run_record
from statebot.feeds import SyntheticBars, read_bars
from statebot.core.fsm.killswitch import POSITION_HELD_AT_CLOSE
from statebot.core.fsm.throttle import ACTIVE
from statebot.core.risk.sizing import CAPPED_TO_ZERO, ONE_CONTRACT_EXCEEDS_BUDGET, STOP_TICKS_ABOVE_MAX, STOP_TICKS_BELOW_ONE
from statebot.app.progress import Progress
from statebot.app.runner import SKIP, BotRunner, Decision
from statebot.app.simstats import Trade, TradeStats, percentile, trade_stats
from statebot.app.simulation import trade_totals
from statebot.app.pricebuckets import PriceBucket, PriceBuckets
from statebot.core.engine.fold import entry_bracket, outcome_from_payload
from statebot.store.persistence import resolve_state_dir
from statebot.store.preflight import check_files_usable
from statebot.core.strategy.protocol import get_strategy

SIM_DEFAULTS: Mapping[str, Any] = {
    "durability": {"mode": "simulation"},
}
"""Config settings a simulation uses unless its config file says otherwise: simulation
durability (the event log buffered and fsynced at each session's checkpoint and at exit, the
checkpoint replaced atomically without fsync: a crash loses the day, which a simulation can
re-run). A config file that does not name ``[durability]`` keeps ``durability.mode`` from here."""

DEMO_START = dt.date(2026, 11, 23)
DEMO_END = dt.date(2026, 11, 27)


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _when(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{what} {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{what} {value!r} needs a UTC offset, e.g. 2026-11-24T15:50:00-05:00")
    return moment


@attrs.frozen(kw_only=True)
class SimSetup:
    """Everything one simulation run needs. Build from the CLI, a scenario file or code.

    Synthetic bars (``bars_csv`` None) cover ``start``..``end`` on the calendar
    with ``seed``; a CSV file is read with ``bar_label``, ``bar_size`` (None:
    inferred), ``tz`` (for naive timestamps), ``timestamp_format`` (strptime codes for
    a vendor's layout; None: ISO-8601) and ``skip_bad_rows``.
    ``config`` None means ``Config()`` with ``SIM_DEFAULTS``; ``symbol`` and
    ``calendar`` override the config's when given. A ``module:Class`` strategy
    is looked up in the ``strategy_search`` folders first (a scenario's folder;
    the CLI adds the current folder). ``stop_on_strategy_error``: the run ends
    with ``StrategyFailed`` at the strategy's first exception (False: the bar is
    skipped and counted as ``strategy_error``).
    """

    strategy: str = "sma-cross"
    strategy_params: Mapping[str, Any] = attrs.field(factory=dict)
    strategy_search: tuple[Path, ...] = ()
    stop_on_strategy_error: bool = True
    config: Config | None = None
    symbol: str | None = None
    calendar: str | None = None
    equity: Decimal = Decimal(20000)
    start: dt.date = DEMO_START
    end: dt.date = DEMO_END
    seed: int = 7
    daily_vol: float = 0.01
    bar_size: dt.timedelta | None = None
    bars_csv: Path | None = None
    bar_label: str = "start"
    tz: str | None = None
    timestamp_format: str | None = None
    skip_bad_rows: bool = False
    slippage_ticks: int = 1
    faults: FaultPlan = attrs.field(factory=FaultPlan)
    outages: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    reject_next: tuple[tuple[dt.datetime, int], ...] = ()
    restart_after_bars: tuple[int, ...] = ()
    kill_after_bars: int | None = None
    down_bars: int = 0
    state_dir: Path | None = None
    event_log: Path | None = None

    def build_config(self) -> Config:
        """The runner's config: the given one (or the simulation defaults) with symbol and calendar applied."""
        config = self.config if self.config is not None else from_data(Config, dict(SIM_DEFAULTS))
        if self.symbol is not None:
            config = attrs.evolve(config, instrument=attrs.evolve(config.instrument, symbol=self.symbol))
        if self.calendar is not None:
            config = attrs.evolve(config, calendar=attrs.evolve(config.calendar, name=self.calendar))
        return config


@attrs.frozen(kw_only=True)
class SessionRow:
    """One session: when the flatten started (exchange time), lateness, and whether nothing was held at its
    close (the runner's check at the close, from the log: ``RunHistory.closes``; None: the run never reached it)."""

    session: str
    flatten_at: str | None
    late: bool
    flat_at_close: bool | None


@attrs.frozen(kw_only=True)
class SimReport:
    """What one run did, from its event log. See ``as_dict`` for the JSON form."""

    seed: int | None
    """The seed that shaped the run; None for bars from a file on a venue that draws nothing at random."""
    bars: int
    bars_rejected: int
    rejected_reasons: Mapping[str, int]
    """BAR_REJECTED events by reason (bad_row, price_jump, bad_price, not_after_previous, ...)."""
    bars_flagged: int
    trades: int
    gross_pnl: Decimal
    commission: Decimal
    net_pnl: Decimal
    max_drawdown: Decimal
    slippage_ticks_mean: Decimal | None
    slippage_expected_ticks_mean: Decimal | None
    throttle_path: tuple[str, ...]
    throttle_events: int
    throttle_continuous: bool
    """Each THROTTLE_TRANSITION starts where the previous one ended (from ACTIVE at first):
    no throttle state was lost or invented, across restarts too."""
    kill_switch_trips: tuple[str, ...]
    sessions: tuple[SessionRow, ...]
    restarts: int
    log_verifies: bool
    log_error: str
    final_flat: bool
    equity_curve: tuple[tuple[str, str], ...]
    timeline: tuple[tuple[str, str, str, int], ...]
    skips: Mapping[str, int] = attrs.field(factory=dict)
    """Bars whose wanted entry (or the bar itself) was refused, by reason (throttled, session, a sizing reason, ...)."""
    trade_list: tuple[Trade, ...] = ()
    """Every closed trade, read from TRADE_CLOSED through the fold's ``outcome_from_payload``."""
    stats: TradeStats | None = None
    """Statistics of ``trade_list`` (``statebot.app.simstats``)."""
    sessions_without_data: tuple[str, ...] = ()
    """Whole sessions the bars never reached, passed over with nothing held or working
    (``SESSIONS_WITHOUT_DATA``); they have no row in ``sessions``."""
    market_time: dt.timedelta = dt.timedelta(0)
    """Bars the runner traded on (not refused) x bar size: the denominator of the exposure."""
    session_states: tuple[tuple[str, str, str], ...] = ()
    """Every SESSION_TRANSITION as (time ISO in exchange time, session date, state it entered)."""
    prices: tuple[PriceBucket, ...] = ()
    """The bars downsampled for a picture (``statebot.app.pricebuckets``), ``price_width_s`` a bucket."""
    price_width_s: int = 0
    strategy: str = ""
    strategy_params: Mapping[str, Any] = attrs.field(factory=dict)
    data: str = ""
    """Where the bars came from: the CSV file, or the synthetic generator's seed and dates."""
    symbol: str = ""
    calendar: str = ""
    config_hashes: tuple[str, ...] = ()
    """The config hash(es) the event log's events carry, in order of first appearance."""
    killed_holding: int = 0
    """What the venue held when the bot was killed (``kill_after_bars``): signed contracts."""
    fills_while_down: tuple[str, ...] = ()
    """Order ids the venue filled while the killed bot was down (its venue-held stops and targets)."""

    @property
    def late_flattens(self) -> int:
        return sum(1 for s in self.sessions if s.late)

    @property
    def flat_at_every_close(self) -> bool:
        held = POSITION_HELD_AT_CLOSE in self.kill_switch_trips
        return not held and all(s.flat_at_close is not False for s in self.sessions)

    def as_dict(self, *, detail: bool = False) -> dict[str, Any]:
        """The summary as JSON-ready data; ``detail`` adds the equity curve and the state timeline."""
        data: dict[str, Any] = {} if self.seed is None else {"seed": self.seed}
        data["run"] = {"strategy": self.strategy, "params": {k: v if isinstance(v, (bool, int, float, str)) else str(v)
                                                             for k, v in self.strategy_params.items()},
                       "data": self.data, "symbol": self.symbol, "calendar": self.calendar,
                       "config_hash": list(self.config_hashes)}
        data |= {
            "bars": self.bars, "bars_rejected": self.bars_rejected, "rejected_reasons": dict(self.rejected_reasons),
            "bars_flagged": self.bars_flagged, "trades": self.trades,
            "gross_pnl": str(self.gross_pnl), "commission": str(self.commission), "net_pnl": str(self.net_pnl),
            "max_drawdown": str(self.max_drawdown),
            "slippage": {"mean_ticks": _s(self.slippage_ticks_mean), "expected_mean_ticks": _s(self.slippage_expected_ticks_mean)},
            "skips": dict(self.skips),
            "throttle_path": list(self.throttle_path), "throttle_events": self.throttle_events,
            "throttle_continuous": self.throttle_continuous,
            "kill_switch_trips": list(self.kill_switch_trips),
            "sessions": [attrs.asdict(s) for s in self.sessions],
            "late_flattens": self.late_flattens, "flat_at_every_close": self.flat_at_every_close,
            "sessions_without_data": list(self.sessions_without_data),
            "final_flat": self.final_flat, "restarts": self.restarts,
            "log_verifies": self.log_verifies, "log_error": self.log_error,
        }
        if self.killed_holding or self.fills_while_down:
            data["killed"] = {"holding": self.killed_holding, "fills_while_down": list(self.fills_while_down)}
        if self.stats is not None:
            data["stats"] = self.stats.as_dict()
        data["trade_list"] = [t.row() for t in self.trade_list]
        if detail:
            data["equity_curve"] = [list(p) for p in self.equity_curve]
            data["timeline"] = [list(p) for p in self.timeline]
        return data


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def setup_bars(setup: SimSetup, config: Config, bad_rows: list[tuple[int, str]]) -> Iterator[Bar]:
    """The setup's bars: its file's (CSV or Parquet, read with its options; skipped rows are appended to
    ``bad_rows`` as (line, reason)) or the seeded synthetic ones."""
    symbol = config.instrument.symbol
    if setup.bars_csv is not None:
        zone = None
        if setup.tz is not None:
            try:
                zone = ZoneInfo(setup.tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"unknown time zone {setup.tz!r} (use an IANA name such as America/New_York)") from None
        return read_bars(setup.bars_csv, symbol=symbol, bar_label=setup.bar_label, bar_size=setup.bar_size, tz=zone,
                             skip_bad_rows=setup.skip_bad_rows, on_bad_row=lambda line, why: bad_rows.append((line, why)),
                             check_size=lambda size: check_bar_size(config, size), timestamp_format=setup.timestamp_format)
    calendar = get_calendar(config.instrument.session_calendar(config.calendar.name))
    return iter(SyntheticBars(start=setup.start, end=setup.end, symbol=symbol, calendar=calendar, seed=setup.seed,
                              bar_size=setup.bar_size or dt.timedelta(minutes=1), daily_vol=setup.daily_vol,
                              tick_size=config.instrument.spec().tick_size))


def run_setup(setup: SimSetup, out_dir: str | os.PathLike[str], *, progress: Progress | None = None,
              stop: Callable[[], bool] | None = None) -> SimReport:
    """Run one simulation with its state and log under ``out_dir`` (or the setup's paths); return its report.

    Raises ``ConfigError`` for a bad setup, ``BarDataError`` for a malformed
    bar row (unless ``skip_bad_rows``) and ``JournalWriteFailed`` when the event
    log cannot be written. The venue's faults are the setup's. ``stop`` is asked
    between bars: once it is true the run ends there (the runner closed, its log
    flushed and a checkpoint written) and the report covers the bars run.
    """
    out = Path(out_dir)
    config = setup.build_config()
    if setup.bars_csv is None or setup.bar_size is not None:
        check_bar_size(config, setup.bar_size or dt.timedelta(minutes=1))  # an inferred size: as the file is read
    state_dir = setup.state_dir or out / "state"
    log_path = setup.event_log or (setup.state_dir / "events.jsonl" if setup.state_dir else out / "events.jsonl")
    strategy = get_strategy(setup.strategy, search=setup.strategy_search, **dict(setup.strategy_params))
    broker = sim_broker(setup, config)
    bad_rows: list[tuple[int, str]] = []
    bars = setup_bars(setup, config, bad_rows)
    guard = config.bar_checks.guard(instrument(config.instrument.symbol, config.instrument.specs()), live=False)

    def open_runner(first: dt.datetime | None) -> BotRunner:
        return BotRunner(strategy, broker, equity=setup.equity, config=config, state_dir=state_dir, event_log=log_path,
                         start=first, stop_on_strategy_error=setup.stop_on_strategy_error)

    runner: BotRunner | None = None
    start_seq = 0
    outages = setup.outages
    rejects = sorted(setup.reject_next)
    restarts = set(setup.restart_after_bars)
    count = restarted = traded = 0
    refusals = Refusals()
    down = 0  # bars the killed bot has still to miss
    killed_holding = 0
    fills_while_down: list[str] = []
    prices = PriceBuckets()
    # a file's bar size, when not given, is the smallest step between bars (as the reader infers it)
    size = setup.bar_size or (dt.timedelta(minutes=1) if setup.bars_csv is None else None)
    previous_end: dt.datetime | None = None
    try:
        for bar in bars:
            if stop is not None and stop():
                break
            if setup.bar_size is None and previous_end is not None and bar.end > previous_end:
                step = bar.end - previous_end
                size = step if size is None else min(size, step)
            previous_end = bar.end
            if down:
                # the bot is dead: the venue alone sees the market (its working orders may fill)
                fills_while_down += [f.order_id for f in broker.on_bar(bar)]
                count += 1
                down -= 1
                if not down:
                    runner = open_runner(None)
                    restarted += 1
                if progress is not None:
                    progress.advance()
                continue
            if runner is None:
                # after the first bar was read (a bad file changes nothing on disk), before anything is written
                check_files_usable(resolve_state_dir(state_dir), log_path)
                runner = open_runner(bar.end)
                start_seq = runner.events.head.seq
            while rejects and bar.end >= rejects[0][0]:
                broker.reject_next(rejects.pop(0)[1])
            problem = guard.check(bar)
            if problem is not None and problem.refused:
                # neither the venue nor the strategy sees its prices; the clock still moves to its end
                decision = runner.run_heartbeat(bar.end)
                runner.events.append(runner.now or bar.end, BAR_REJECTED,
                                     {"reason": problem.reason, "detail": problem.detail, "bar_end": bar.end})
            else:
                traded += 1
                prices.add(bar.end, size or dt.timedelta(minutes=1), float(bar.open), float(bar.high), float(bar.low),
                           float(bar.close))
                broker.on_bar(bar)
                if problem is not None:
                    runner.events.append(runner.now or bar.end, BAR_FLAGGED,
                                         {"reason": problem.reason, "detail": problem.detail, "bar_end": bar.end})
                if outages and any(a <= bar.end < b for a, b in outages):
                    decision = runner.run_heartbeat(bar.end)
                else:
                    decision = runner.run_once(bar)
            refusals.count(decision)
            count += 1
            _log_bad_rows(runner, bad_rows)
            if progress is not None:
                progress.advance()
            if count in restarts:
                runner.close()
                runner = open_runner(None)
                restarted += 1
            if count == setup.kill_after_bars and setup.down_bars:
                killed_holding = broker.book.get(config.instrument.symbol, 0)
                _kill(runner)
                down = setup.down_bars
        if runner is None:
            if stop is not None and stop():
                raise ConfigError("stopped before the first bar")
            raise ConfigError("no bars to simulate (empty file or no sessions between start and end)")
        if down:
            runner = open_runner(None)  # the data ended while the bot was down: it starts once more at the end
            restarted += 1
        _log_bad_rows(runner, bad_rows)  # rows after the last good bar
        runner.events.sync()
    finally:
        if runner is not None:
            runner.close()
    calendar_name = config.instrument.session_calendar(config.calendar.name)
    report = _report(setup.seed if _seed_matters(setup) else None, log_path, start_seq, count, restarted,
                     final_flat=not broker.book, tz=get_calendar(calendar_name).tz, instruments=config.instrument.specs(),
                     market_time=traded * (size or dt.timedelta(minutes=1)), skips=refusals.by_reason())
    width, buckets = prices.series()
    data = (str(setup.bars_csv) if setup.bars_csv is not None
            else f"synthetic bars, seed {setup.seed}, {setup.start}..{setup.end}, daily vol {setup.daily_vol}")
    return attrs.evolve(report, killed_holding=killed_holding, fills_while_down=tuple(fills_while_down),
                        prices=buckets, price_width_s=width, strategy=setup.strategy,
                        strategy_params=dict(setup.strategy_params), data=data, symbol=config.instrument.symbol,
                        calendar=calendar_name)


class Refusals:
    """The bars whose wanted entry (or the bar itself) was refused, by reason, counted from each bar's
    ``Decision`` as the run goes: the event log does not hold them all (a throttled SKIP logs nothing).
    ``statebot sim`` and the dry run (``statebot run --adapter sim``) count the same way."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def count(self, decision: Decision) -> None:
        """Count ``decision`` (the runner's answer to one bar) when it is a SKIP."""
        if decision.action == SKIP:
            self._counts[decision.reason] = self._counts.get(decision.reason, 0) + 1

    def by_reason(self) -> dict[str, int]:
        """The counts, largest first (ties by reason)."""
        return dict(sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0])))


def sim_broker(setup: SimSetup, config: Config) -> SimBroker:
    """The setup's simulated venue: its seed, faults and slippage, the config's commission, contracts and
    both-reached rule ([protection] both_reached)."""
    return SimBroker(seed=setup.seed, commission=config.instrument.commission(config.commission),
                     slippage=FixedSlippage(setup.slippage_ticks), faults=setup.faults, instruments=config.instrument.specs(),
                     both_reached=config.protection.both_reached)


def report_from_log(log_path: Path, start_seq: int, bars: int, *, final_flat: bool, config: Config,
                    market_time: dt.timedelta = dt.timedelta(0), refusals: Refusals | None = None) -> SimReport:
    """The report of a run read back from its event log (events after ``start_seq``), as ``run_setup`` makes it;
    ``market_time`` (bars traded on x bar size) is the denominator of the exposure; ``refusals`` the
    bars' refused entries, counted as the run went (the log does not hold them all)."""
    tz = get_calendar(config.instrument.session_calendar(config.calendar.name)).tz
    return _report(None, log_path, start_seq, bars, 0, final_flat=final_flat, tz=tz,
                   instruments=config.instrument.specs(), market_time=market_time,
                   skips=refusals.by_reason() if refusals is not None else {})


def _kill(runner: BotRunner) -> None:
    """What a killed process leaves of its runner: the log's lines as written, no checkpoint, no close; its
    lock goes with the process."""
    runner.events.sync()
    runner._closed = True
    runner._release_lock()
    runner.events.close()


def _log_bad_rows(runner: BotRunner, bad_rows: list[tuple[int, str]]) -> None:
    """Each skipped row as ``BAR_REJECTED {reason: bad_row, line}`` at the runner's time."""
    if bad_rows and runner.now is not None:
        for line, why in bad_rows:
            runner.events.append(runner.now, BAR_REJECTED, {"reason": "bad_row", "line": line, "detail": why})
        bad_rows.clear()


def _seed_matters(setup: SimSetup) -> bool:
    """Synthetic bars are drawn from the seed; a file's are not, and the venue uses it only for random faults."""
    faults = setup.faults
    random_faults = (faults.reject_p, faults.partial_p, faults.delay_p, faults.duplicate_p, faults.disconnect_p,
                     faults.stale_status_p)
    return setup.bars_csv is None or any(p > 0 for p in random_faults)


def _report(seed: int | None, log_path: Path, start_seq: int, bars: int, restarts: int, *,
            final_flat: bool, tz: Any, instruments: Mapping[str, Any] | None = None,
            market_time: dt.timedelta = dt.timedelta(0), skips: Mapping[str, int] | None = None) -> SimReport:
    trades: list[Mapping[str, Any]] = []
    session_states: list[tuple[str, str, str]] = []
    trade_list: list[Trade] = []
    path: list[str] = [ACTIVE]
    throttle_events = throttle_gaps = 0
    throttle_now = ACTIVE
    trips: list[str] = []
    flattens: dict[str, tuple[str, bool]] = {}
    sessions: list[str] = []
    curve: list[tuple[str, str]] = []
    timeline: list[tuple[str, str, str, int]] = []
    cumulative = Decimal(0)
    record = run_record(log_path, after_seq=start_seq)  # the one fold, keeping this run's record
    history = record.history
    log_ok, log_error = not record.error, record.error
    for (ts, p), entry in zip(history.trades, history.trade_entries):
        trades.append(p)
        outcome = outcome_from_payload(p)
        bracket = entry_bracket(entry) if entry is not None else None
        stop = target = None
        if bracket is not None:
            stop, target = bracket.prices_at(outcome.entry_price, instrument(outcome.symbol, instruments).tick_size)
        trade_list.append(Trade(outcome=outcome, session=str(p.get("session") or ""), stop_price=stop,
                                target_price=target))
        cumulative += Decimal(str(p["net_pnl"]))
        curve.append((ts.astimezone(tz).isoformat(), str(cumulative)))
    for ts, p in history.flattens:
        flattens.setdefault(str(p.get("session", "")), (ts.astimezone(tz).strftime("%H:%M"), bool(p["late"])))
    for ts, kind, p in history.transitions:
        at = ts.astimezone(tz)
        if kind == SESSION_TRANSITION:
            timeline.append((at.isoformat(), "session", str(p["to"]), 0))
            session = str(p.get("session") or "")
            session_states.append((at.isoformat(), session, str(p["to"])))
            if session and session not in sessions:
                sessions.append(session)
        elif kind == POSITION_TRANSITION:
            timeline.append((at.isoformat(), "position", str(p["to"]), int(p["qty"])))
        elif kind == THROTTLE_TRANSITION:
            throttle_events += 1
            if str(p["from"]) != throttle_now:
                throttle_gaps += 1
            throttle_now = str(p["to"])
            if path[-1] != p["to"]:
                path.append(str(p["to"]))
            timeline.append((at.isoformat(), "throttle", str(p["to"]), 0))
        elif kind == KILL_SWITCH:
            if p["to"] == "TRIPPED":
                trips.append(str(p["reason"]))
            timeline.append((at.isoformat(), "kill_switch", str(p["to"]), 0))
    rejected, reasons = sum(history.bars_rejected.values()), dict(history.bars_rejected)
    flagged, without_data = history.bars_flagged, list(history.sessions_without_data)
    hashes = dict(history.config_hashes)
    gross, commission, drawdown = trade_totals(trades)
    n = len(trades)
    slip = sum((Decimal(str(t["slippage_ticks"])) for t in trades), Decimal(0)) / n if n else None
    expected = sum((Decimal(str(t["slippage_expected_ticks"])) for t in trades), Decimal(0)) / n if n else None
    close_flat = dict(history.closes)
    rows = tuple(
        SessionRow(session=s, flatten_at=flattens.get(s, (None, False))[0], late=flattens.get(s, (None, False))[1],
                   flat_at_close=close_flat.get(s))
        for s in sessions
    )
    return SimReport(
        seed=seed, bars=bars, bars_rejected=rejected, rejected_reasons=dict(sorted(reasons.items())), bars_flagged=flagged,
        trades=n, gross_pnl=gross, commission=commission,
        net_pnl=gross - commission, max_drawdown=drawdown,
        slippage_ticks_mean=None if slip is None else slip.quantize(Decimal("0.01")),
        slippage_expected_ticks_mean=None if expected is None else expected.quantize(Decimal("0.01")),
        throttle_path=tuple(path), throttle_events=throttle_events, throttle_continuous=not throttle_gaps, kill_switch_trips=tuple(trips), sessions=rows,
        restarts=restarts, sessions_without_data=tuple(without_data), log_verifies=log_ok, log_error=log_error, final_flat=final_flat, equity_curve=tuple(curve),
        timeline=tuple(timeline), trade_list=tuple(trade_list),
        stats=trade_stats(trade_list, sessions, market_time=market_time), market_time=market_time,
        session_states=tuple(session_states), config_hashes=tuple(hashes), skips=dict(skips or {}),
    )


# -- summaries ---------------------------------------------------------------------


def _rejected(report: SimReport) -> str:
    """``  (3 rejected: bad_row 1, price_jump 2; 1 flagged)`` or nothing."""
    parts = []
    if report.bars_rejected:
        reasons = ", ".join(f"{k} {v}" for k, v in report.rejected_reasons.items())
        parts.append(f"{report.bars_rejected} rejected" + (f": {reasons}" if reasons else ""))
    if report.bars_flagged:
        parts.append(f"{report.bars_flagged} flagged")
    return f"  ({'; '.join(parts)})" if parts else ""


def refusal_hints(skips: Mapping[str, int], config: Config) -> list[str]:
    """One line for each kind of refusal in ``skips`` (in its order) that a setting or the strategy
    can change: why entries were refused and how to change it. The gates and the risk limits are
    fail-closed on purpose; the line says which key decides, not that it should change."""
    g, z, t = config.gates, config.sizing, config.throttle
    risk = ", ".join(f"{tier} {usd} USD" for tier, usd in z.max_risk_per_trade.items())
    why = {
        "gate_DVS": f"the signal's dvs was missing or below [gates] dvs_threshold {g.dvs_threshold} (a missing score "
                    "refuses: the gates are fail-closed); a strategy with no measure of its own passes dvs=1 "
                    "(docs/strategies.md), or --set gates.dvs_threshold=X",
        "gate_EQS": f"the signal's eqs was missing or below [gates] eqs_threshold {g.eqs_threshold} (a missing score "
                    "refuses: the gates are fail-closed); a strategy with no measure of its own passes eqs=1 "
                    "(docs/strategies.md), or --set gates.eqs_threshold=X",
        STOP_TICKS_ABOVE_MAX: f"the signal's stop_ticks was wider than [sizing] max_stop_ticks {z.max_stop_ticks}; "
                              "a tighter stop from the strategy (-p), or --set sizing.max_stop_ticks=N",
        STOP_TICKS_BELOW_ONE: "the signal's stop_ticks was below 1 tick; the strategy must give a stop of 1 tick or more",
        ONE_CONTRACT_EXCEEDS_BUDGET: f"one contract at the signal's stop risked more than the budget, the smaller of "
                                     f"[sizing] max_risk_per_trade ({risk}) and equity x equity_risk_fraction "
                                     f"{z.equity_risk_fraction}; a tighter stop, a smaller contract (MES, not ES) "
                                     "or --set sizing.max_risk_per_trade.default=USD",
        CAPPED_TO_ZERO: "the throttle's PROBATION cap allowed no contract; see [throttle] (statebot config default)",
        "throttled": f"the throttle paused the strategy's entries after a poor run of trades ([throttle] "
                     f"max_consecutive_losses {t.max_consecutive_losses}, min_win_rate {t.min_win_rate} over "
                     f"{t.window} trades, cooldown {t.cooldown}, ...; statebot config default lists them all); "
                     "--set throttle.KEY=VALUE to change one",
        "kill_switch": "the kill switch was tripped (the summary's kill switch line says why): entries stay refused "
                       "until a person re-arms it; its limits are in [kill_switch]",
    }
    return [f"refused {reason} ({count}): {why[reason]}" for reason, count in skips.items() if reason in why]


def summary_table(report: SimReport, title: str = "") -> str:
    """The terminal summary: money, slippage, throttle and kill switch, then one line per session."""
    slip = ("-" if report.slippage_ticks_mean is None
            else f"{report.slippage_ticks_mean} ticks realized vs {report.slippage_expected_ticks_mean} modelled (mean per trade)")
    lines = [title] if title else []
    lines += [
        f"{'bars':<22}{report.bars:,}" + _rejected(report),
        f"{'trades':<22}{report.trades}",
        f"{'net P&L':<22}{report.net_pnl:,.2f} USD  (gross {report.gross_pnl:,.2f})",
        f"{'commission':<22}{report.commission:,.2f} USD",
        f"{'slippage calibration':<22}{slip}",
        f"{'max drawdown':<22}{report.max_drawdown:,.2f} USD" + _drawdown_dates(report.stats),
        *_stats_lines(report.stats),
        f"{'entries refused':<22}" + (", ".join(f"{k} {v}" for k, v in list(report.skips.items())[:4]) or "none"),
        f"{'throttle':<22}{throttle_summary(report)}",
        f"{'kill switch':<22}{len(report.kill_switch_trips)} trip(s)" + (f": {', '.join(report.kill_switch_trips)}" if report.kill_switch_trips else ""),
        f"{'restarts':<22}{report.restarts}",
        *([f"{'bot killed':<22}holding {report.killed_holding}; the venue filled "
           f"{', '.join(report.fills_while_down) or 'nothing'} while it was down"]
          if report.killed_holding or report.fills_while_down else []),
        *([f"{'sessions without data':<22}{len(report.sessions_without_data)} "
           f"({report.sessions_without_data[0]} .. {report.sessions_without_data[-1]}): no bars, nothing held"]
          if report.sessions_without_data else []),
        f"{'event log':<22}{'verifies' if report.log_verifies else 'DOES NOT VERIFY: ' + report.log_error}",
        "",
        f"{'session':<12}{'flatten':>8}  {'late':<5} {'flat at close':<14}{'net P&L':>10}",
    ]
    pnl = report.stats.session_pnl if report.stats is not None else {}
    seen = {s.session for s in report.sessions}
    no_data = set(report.sessions_without_data)
    previous: dt.date | None = None
    for s in report.sessions:
        day = dt.date.fromisoformat(s.session)
        gap = previous + dt.timedelta(days=1) if previous is not None else day
        skipped = []
        while gap < day:
            if gap.isoformat() in no_data:
                skipped.append(gap.isoformat())
            elif gap.weekday() < 5 and gap.isoformat() not in seen and not skipped:
                lines.append(f"{gap.isoformat():<12}{'':>8}  {'':<5} no session (holiday)")
            gap += dt.timedelta(days=1)
        if skipped:
            lines.append(f"{skipped[0]:<12}{'':>8}  {'':<5} .. {skipped[-1]}: {len(skipped)} session(s) without data")
        previous = day
        flat = "-" if s.flat_at_close is None else ("yes" if s.flat_at_close else "NO")
        money = f"{pnl[s.session]:>10,.2f}" if s.session in pnl else ""
        lines.append(f"{s.session:<12}{s.flatten_at or '-':>8}  {'LATE' if s.late else 'no':<5} {flat:<14}{money}".rstrip())
    return "\n".join(lines)


def throttle_summary(report: SimReport) -> str:
    """The throttle in one short line: transitions, how often it entered each state, where it ended
    (the full path is ``throttle_path`` in the JSON report)."""
    if not report.throttle_events:
        return f"0 transitions, {report.throttle_path[-1]} throughout"
    entered: dict[str, int] = {}
    for state in report.throttle_path[1:]:
        entered[state] = entered.get(state, 0) + 1
    counts = ", ".join(f"{state} {n}x" for state, n in entered.items())
    return f"{report.throttle_events} transition(s), entered {counts}; ended {report.throttle_path[-1]}"


def _drawdown_dates(stats: TradeStats | None) -> str:
    if stats is None or not stats.max_drawdown:
        return ""
    peak = stats.drawdown_peak[:10] if stats.drawdown_peak else "the start"
    trough = stats.drawdown_trough[:10] if stats.drawdown_trough else "?"
    return f"  (from {peak} to {trough})"


def _stats_lines(stats: TradeStats | None) -> list[str]:
    if stats is None or not stats.trades:
        return []

    def money(v: Decimal | None) -> str:
        return "-" if v is None else f"{v:,.2f}"

    def ratio(v: float | Decimal | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    win_rate = "-" if stats.win_rate is None else f"{stats.win_rate * 100:.1f}%"
    share = "-" if stats.commission_share is None else f"{stats.commission_share * 100:.1f}% of the winners' gross"
    return [
        f"{'win rate':<22}{win_rate} ({stats.wins} won, {stats.losses} lost)   profit factor {ratio(stats.profit_factor)}",
        f"{'average win / loss':<22}{money(stats.average_win)} / {money(stats.average_loss)} USD   "
        f"expectancy {money(stats.expectancy)} USD a trade",
        f"{'Sharpe / Sortino':<22}{ratio(stats.sharpe)} / {ratio(stats.sortino)} (daily net P&L, annualised)",
        f"{'commission share':<22}{share}",
        f"{'exposure':<22}{exposure_text(stats.exposure)}",
    ]


def exposure_text(value: Decimal | None) -> str:
    """``12.5% of market time in a position`` (``-`` without market time)."""
    return "-" if value is None else f"{value * 100:.1f}% of market time in a position"


# -- scenarios ----------------------------------------------------------------------

EXPECTATIONS = ("flat_at_every_close", "late_flattens", "late_flattens_max", "kill_switch_trips_min", "kill_switch_trips_max",
                "throttle_path", "log_verifies", "final_flat", "trades_min", "restarts", "sessions", "flatten_times",
                "throttle_continuous", "killed_holding", "fills_while_down_min")


@attrs.frozen(kw_only=True)
class Scenario:
    """A named setup, the seeds it runs (Monte Carlo: several) and what must hold for each."""

    name: str
    description: str
    setup: SimSetup
    seeds: tuple[int, ...]
    expect: Mapping[str, Any]
    random_faults: Mapping[str, float] = attrs.field(factory=dict)


def _faults(data: Mapping[str, Any], where: str) -> FaultPlan:
    data = dict(data)
    windows = tuple((_when(a, f"{where} disconnect window"), _when(b, f"{where} disconnect window"))
                    for a, b in data.pop("disconnect_windows", ()))
    try:
        return FaultPlan(**data, disconnect_windows=windows)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def choose_strategy(config: Config | None, name: str | None, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The strategy to run and its parameters: ``name`` when given, else the config's
    ``[strategy] name``, else sma-cross; the config's ``[strategy.params]`` (when the config
    names that strategy or none) updated by ``params``."""
    named = config.strategy.name if config is not None else None
    chosen = name or named or "sma-cross"
    base = dict(config.strategy.params) if config is not None and named in (None, chosen) else {}
    return chosen, {**base, **params}


def load_scenario(path: str | os.PathLike[str], *, overrides: Sequence[str] = ()) -> Scenario:
    """Read a scenario TOML file; ``overrides`` (``SECTION.KEY=VALUE``) set keys of its config,
    checked like the file. Raises ``ConfigError`` naming the file and the bad key."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"scenario {p}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"scenario {p}: not valid TOML ({exc})") from None
    where = f"scenario {p.name}"
    sim = dict(data.get("sim", {}))
    expect = dict(data.get("expect", {}))
    unknown = set(expect) - set(EXPECTATIONS)
    if unknown:
        raise ConfigError(f"{where}: unknown expectation(s) {', '.join(sorted(unknown))}; known: {', '.join(EXPECTATIONS)}")
    config = None
    if "config" in data:
        config = from_data(Config, apply_overrides(with_defaults(data["config"], SIM_DEFAULTS), overrides))
        check_runnable(config)
        config = attrs.evolve(config, base_dir=p.parent)
    elif "config_file" in sim:
        config = load_config(p.parent / sim.pop("config_file"), defaults=SIM_DEFAULTS, overrides=overrides)
    elif overrides:
        config = parse_config("", base_dir=p.parent, defaults=SIM_DEFAULTS, overrides=overrides)
    bars_csv = sim.pop("bars", None)
    known = {"strategy", "strategy_params", "symbol", "calendar", "equity", "start", "end", "seed", "seeds", "daily_vol",
             "bar_size", "bar_label", "tz", "timestamp_format", "skip_bad_rows", "slippage_ticks", "outages", "reject_next", "restart_after_bars",
             "kill_after_bars", "down_bars"}
    bad = set(sim) - known
    if bad:
        raise ConfigError(f"{where}: unknown [sim] key(s) {', '.join(sorted(bad))}")
    seeds_value = sim.pop("seeds", None)
    seed = int(sim.pop("seed", 7))
    if isinstance(seeds_value, int):
        seeds = tuple(range(seed, seed + seeds_value))
    elif seeds_value is None:
        seeds = (seed,)
    else:
        seeds = tuple(int(s) for s in seeds_value)
    strategy, params = choose_strategy(config, sim.get("strategy"), dict(sim.get("strategy_params", {})))
    setup = SimSetup(
        strategy=str(strategy), strategy_params=params,
        strategy_search=(p.resolve().parent,), config=config,
        symbol=sim.get("symbol"), calendar=sim.get("calendar"), equity=Decimal(str(sim.get("equity", 20000))),
        start=_date(sim.get("start", DEMO_START), f"{where} start"), end=_date(sim.get("end", DEMO_END), f"{where} end"),
        seed=seeds[0], daily_vol=float(sim.get("daily_vol", 0.01)),
        bar_size=parse_duration(sim["bar_size"]) if "bar_size" in sim else None,
        bars_csv=(p.parent / bars_csv) if bars_csv else None, bar_label=str(sim.get("bar_label", "start")), tz=sim.get("tz"),
        timestamp_format=sim.get("timestamp_format"),
        skip_bad_rows=bool(sim.get("skip_bad_rows", False)), slippage_ticks=int(sim.get("slippage_ticks", 0)),
        faults=_faults(data.get("faults", {}), where),
        outages=tuple((_when(a, f"{where} outage"), _when(b, f"{where} outage")) for a, b in sim.get("outages", ())),
        reject_next=tuple((_when(r["at"], f"{where} reject_next"), int(r["count"])) for r in sim.get("reject_next", ())),
        restart_after_bars=tuple(int(n) for n in sim.get("restart_after_bars", ())),
        kill_after_bars=int(sim["kill_after_bars"]) if "kill_after_bars" in sim else None,
        down_bars=int(sim.get("down_bars", 0)),
    )
    return Scenario(name=str(data.get("name", p.stem)), description=str(data.get("description", "")), setup=setup,
                    seeds=seeds, expect=expect, random_faults={k: float(v) for k, v in data.get("random_faults", {}).items()})


def seed_setup(scenario: Scenario, seed: int) -> SimSetup:
    """The scenario's setup for one seed: bars and venue reseeded; random faults drawn from the seed."""
    setup = attrs.evolve(scenario.setup, seed=seed)
    if scenario.random_faults:
        import random

        rng = random.Random(seed)
        chosen: dict[str, Any] = {k: rng.uniform(0.0, v) for k, v in scenario.random_faults.items()}
        setup = attrs.evolve(setup, faults=attrs.evolve(setup.faults, **chosen))
    return setup


def check_expectations(report: SimReport, expect: Mapping[str, Any]) -> list[str]:
    """One line per expectation the report does not meet (empty: all hold)."""
    failed = []
    where = "" if report.seed is None else f"seed {report.seed}: "

    def need(ok: bool, text: str) -> None:
        if not ok:
            failed.append(where + text)

    for key, want in expect.items():
        if key == "flat_at_every_close":
            need(report.flat_at_every_close == bool(want), f"flat_at_every_close is {report.flat_at_every_close}, expected {want}")
        elif key == "late_flattens":
            need(report.late_flattens == int(want), f"late_flattens is {report.late_flattens}, expected {want}")
        elif key == "late_flattens_max":
            need(report.late_flattens <= int(want), f"late_flattens is {report.late_flattens}, expected at most {want}")
        elif key == "kill_switch_trips_min":
            n = len(report.kill_switch_trips)
            need(n >= int(want), f"kill switch tripped {n} time(s), expected at least {want}")
        elif key == "kill_switch_trips_max":
            n = len(report.kill_switch_trips)
            need(n <= int(want), f"kill switch tripped {n} time(s) ({', '.join(report.kill_switch_trips)}), expected at most {want}")
        elif key == "throttle_path":
            wanted, got = list(want), list(report.throttle_path)
            ok = any(got[i:i + len(wanted)] == wanted for i in range(len(got) - len(wanted) + 1))
            need(ok, f"throttle path {' -> '.join(got)} does not contain {' -> '.join(wanted)}")
        elif key == "log_verifies":
            need(report.log_verifies == bool(want), f"log_verifies is {report.log_verifies} ({report.log_error})")
        elif key == "final_flat":
            need(report.final_flat == bool(want), f"final_flat is {report.final_flat}, expected {want}")
        elif key == "trades_min":
            need(report.trades >= int(want), f"{report.trades} trade(s), expected at least {want}")
        elif key == "restarts":
            need(report.restarts == int(want), f"{report.restarts} restart(s), expected {want}")
        elif key == "killed_holding":
            need(bool(report.killed_holding) == bool(want),
                 f"the bot was killed holding {report.killed_holding}, expected {'a position' if want else 'nothing'}")
        elif key == "fills_while_down_min":
            n = len(report.fills_while_down)
            need(n >= int(want), f"{n} fill(s) at the venue while the bot was down, expected at least {want}")
        elif key == "sessions":
            got_sessions = [s.session for s in report.sessions]
            need(got_sessions == list(want), f"sessions {got_sessions}, expected {list(want)}")
        elif key == "throttle_continuous":
            need(report.throttle_continuous == bool(want), f"throttle_continuous is {report.throttle_continuous}, expected {want}")
        elif key == "flatten_times":
            got_times = [s.flatten_at for s in report.sessions]
            need(got_times == list(want), f"flatten times {got_times} (exchange time), expected {list(want)}")
    return failed


def _run_seed(args: tuple[SimSetup, str]) -> SimReport:
    setup, out_dir = args
    return run_setup(setup, out_dir)


def run_seeds(setups: Sequence[SimSetup], out_root: str | os.PathLike[str], *, jobs: int = 1,
              progress: Progress | None = None, stop: Callable[[], bool] | None = None) -> list[SimReport]:
    """Run each setup in ``out_root/seed-<seed>``; with ``jobs`` > 1 across processes.

    Each run depends only on its setup (seeded venue, seeded bars, its own
    folder), so the merged list, in the order given, is the same serially or in
    parallel. ``progress`` advances by one per finished run. ``stop`` is asked
    between runs (and between bars, serially): once true, no further run starts.
    """
    work = [(s, str(Path(out_root) / f"seed-{s.seed}")) for s in setups]
    reports: list[SimReport] = []
    if jobs <= 1 or len(work) <= 1:
        for setup, out in work:
            if stop is not None and stop():
                break
            reports.append(run_setup(setup, out, stop=stop))
            if progress is not None:
                progress.advance()
        return reports
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for report in pool.map(_run_seed, work):
            reports.append(report)
            if progress is not None:
                progress.advance()
            if stop is not None and stop():
                pool.shutdown(cancel_futures=True)
                break
    return reports


def monte_carlo_table(reports: Sequence[SimReport]) -> str:
    """One line per seed, then totals."""
    lines = [f"{'seed':>6} {'trades':>7} {'net P&L':>11} {'max DD':>9} {'trips':>6} {'late':>5}  flat  log"]
    for r in reports:
        lines.append(f"{'-' if r.seed is None else r.seed:>6} {r.trades:>7} {r.net_pnl:>11,.2f} {r.max_drawdown:>9,.2f} {len(r.kill_switch_trips):>6} "
                     f"{r.late_flattens:>5}  {'yes' if r.flat_at_every_close else 'NO':<4}  {'ok' if r.log_verifies else 'BAD'}")
    total = sum((r.net_pnl for r in reports), Decimal(0))
    lines.append(f"{len(reports)} seeds, net P&L total {total:,.2f} USD, mean {total / max(1, len(reports)):,.2f}")
    if reports:
        for name, pcts in monte_carlo_percentiles(reports).items():
            lines.append(f"{name:<14}" + "  ".join(f"{k} {v:>10,.2f}" for k, v in pcts.items()))
    return "\n".join(lines)


def monte_carlo_percentiles(reports: Sequence[SimReport]) -> dict[str, dict[str, Decimal]]:
    """P5 / P50 / P95 over the seeds of net P&L and of max drawdown (USD)."""
    return {
        "net P&L": {f"P{q}": percentile([r.net_pnl for r in reports], q) for q in (5, 50, 95)},
        "max drawdown": {f"P{q}": percentile([r.max_drawdown for r in reports], q) for q in (5, 50, 95)},
    }
