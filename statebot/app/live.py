"""Run a ``BotRunner`` live on Interactive Brokers: bars, a wall-time heartbeat, reconnects, a clean stop.

``LiveSession(runner, ib, ...)`` owns the loop that ``statebot run`` drives;
it is a module of its own so tests can run it without the command line. One
``step()``:

1. While the connection is down, ``ib.reconnect_if_due(now)`` tries again on
   the adapter's backoff schedule (never giving up; a flatten keeps waiting
   for it). After a reconnect the real-time bars are requested again; the
   runner reconciles positions before it trades again. On a new exchange date
   whose front month (roll rule in ``statebot.venues.ibkr.contracts``)
   differs from the contract traded, the loop switches to it as soon as the
   runner is flat with no working order (reconnecting to qualify it).
2. Every N-minute bar completed since the last step (and any bar overdue by
   the aggregator's ``late_after``) goes to ``runner.run_once``, oldest first,
   after the price guard: a refused bar only moves the clock (``BAR_REJECTED``),
   a flagged one is logged (``BAR_FLAGGED``) and used.
3. ``runner.run_heartbeat`` at wall time, so the session flattens and closes
   even when bars stop. The heartbeat stays just before the end of a bar still
   being built (at most ``late_after`` behind wall time), so that bar is not
   refused as older than the clock when its last 5-second bar arrives.

``run(stop)`` repeats ``step()`` every ``heartbeat`` (the client library's
event loop runs during the wait: ``ib.ib.sleep``) until ``stop()`` is true,
then ``shutdown()``: outside OBSERVE mode the runner flattens
(``flatten_now("shutdown")``) and the loop keeps stepping until the venue is
flat or ``stop_timeout`` passes; then the runner (event log, state) is closed
and the connection dropped. Working orders other than the flatten's are
cancelled by the flatten; nothing else is left at IB by statebot.

Time: ``now`` is a callable giving aware UTC wall time
(``LiveClock.wall_time``, i.e. ``datetime.now(timezone.utc)``, by default);
``sleep`` waits a number of seconds while the client library runs. Tests
inject both, so a whole session runs in seconds.

A dry run (``statebot run --adapter sim``, ``statebot.app.dry_run``) drives the
same loop with a ``ReplayFeed`` of recorded bars in place of the IB adapter, a
replay clock as ``now`` and ``sleep``, and ``on_bar``: the simulated venue's
``on_bar``, given each bar the runner gets, just before it (as ``statebot sim``
does). Contract rolls are IB's only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from statebot.venues.ibkr.adapter import IBKRAdapter
from statebot.venues.ibkr.contracts import front_month
from statebot.venues.ibkr.settings import MODES, OBSERVE
from statebot.app.live_clock import LiveClock
from statebot.core.time.clock import require_aware
from statebot.errors import AdapterUnavailable, ConfigError
from statebot.app.runner import SKIP, BotRunner, Decision
from statebot.core.time.clock import Bar
from statebot.feeds.guard import PriceGuard
from statebot.journal.log import BAR_FLAGGED, BAR_REJECTED

if TYPE_CHECKING:
    from statebot.app.dry_run import ReplayFeed

log = logging.getLogger("statebot.live")

_TICK = dt.timedelta(microseconds=1)


class LiveSession:
    """The live loop of one runner on one ``IBKRAdapter``.

    ``mode`` is OBSERVE, PAPER or LIVE (OBSERVE never flattens on shutdown:
    it cannot send orders). ``bar_minutes`` is the bar size the strategy
    trades (it must divide a day). ``heartbeat`` (> 0) is the wall-time
    cadence. ``session_date`` picks the front-month contract (default: the
    date of ``now()`` in the runner's exchange time zone). ``guard`` checks each
    completed bar's prices first (``statebot.feeds.guard``; ``statebot run`` gives
    the config's ``bar_checks``, which flag jumps by default). Bad settings raise
    ``ConfigError``. ``ib`` may be a ``ReplayFeed`` (a dry run): then ``sleep``
    is required, and ``on_bar`` sees each bar the runner is given, first.
    ``on_decision`` gets the runner's answer to each bar (not to the heartbeats),
    as ``statebot sim`` counts them (the dry run's refusals).
    """

    def __init__(
        self,
        runner: BotRunner,
        ib: IBKRAdapter | ReplayFeed,
        *,
        mode: str,
        bar_minutes: int,
        heartbeat: dt.timedelta = dt.timedelta(seconds=1),
        session_date: dt.date | None = None,
        stop_timeout: dt.timedelta = dt.timedelta(minutes=2),
        bar_late_after: dt.timedelta = dt.timedelta(seconds=10),
        now: Callable[[], dt.datetime] = LiveClock.wall_time,
        sleep: Callable[[float], object] | None = None,
        guard: PriceGuard | None = None,
        on_bar: Callable[[Bar], object] | None = None,
        on_decision: Callable[[Decision], object] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode {mode!r} must be one of {', '.join(MODES)}")
        if heartbeat <= dt.timedelta(0):
            raise ConfigError(f"heartbeat {heartbeat} must be positive")
        if stop_timeout < dt.timedelta(0):
            raise ConfigError(f"stop timeout {stop_timeout} must not be negative")
        self.runner = runner
        self.ib = ib
        self.mode = mode
        self.symbol = runner.symbol
        self.bar_minutes = bar_minutes
        self.heartbeat = heartbeat
        self.stop_timeout = stop_timeout
        self.bar_late_after = bar_late_after
        self._now = now
        if sleep is None:
            if not isinstance(ib, IBKRAdapter):
                raise ConfigError("a replayed feed needs its clock's sleep")
            sleep = ib.ib.sleep
        self._sleep = sleep
        self._venue_bar = on_bar
        self._bar_decision = on_decision
        self._session_date = session_date
        self.guard = guard
        self.reconnects = 0
        self.rolls = 0
        self._day: dt.date | None = None
        self.stopped_flat: bool | None = None

    def now(self) -> dt.datetime:
        """Wall time from the injected clock (aware; ``BarRejected`` if naive)."""
        return require_aware(self._now(), "wall time")

    def start(self) -> None:
        """Connect (unless connected already), qualify the front month, request real-time bars.

        Raises ``AdapterUnavailable`` when TWS cannot be reached (nothing
        started), ``ConfigError`` for an account of the wrong kind.
        """
        day = self._session_date
        if day is None:
            day = self.now().astimezone(self.runner.session.schedule.tz).date()
        if not self.ib.connected:
            self.ib.connect(day)
        self._day = day
        if isinstance(self.ib, IBKRAdapter):
            log.info("connected to %s:%s as client %s, trading %s", self.ib.host, self.ib.port, self.ib.client_id,
                     self.ib.contract(self.symbol).localSymbol)
        self._subscribe()

    def _subscribe(self) -> None:
        self.ib.subscribe_bars(self.symbol, self.bar_minutes, late_after=self.bar_late_after)

    def step(self) -> list[Decision]:
        """One pass: reconnect if due, feed completed bars, then a heartbeat. Returns the runner's decisions."""
        now = self.now()
        ib, runner = self.ib, self.runner
        if not ib.connected and ib.reconnect_if_due(now):
            self.reconnects += 1
            log.warning("reconnected to TWS (reconnect %d); positions are reconciled before trading again", self.reconnects)
            self._subscribe()
        if ib.connected:
            self._roll_if_due(now)
        return self._feed(now)

    def _feed(self, now: dt.datetime) -> list[Decision]:
        """The bars completed by ``now`` to the runner, oldest first, then a heartbeat at ``now``, kept
        just before the end of a bar still being built."""
        ib, runner = self.ib, self.runner
        out = [self._on_bar(agg.bar) for agg in ib.bars(now)]
        if self._bar_decision is not None:
            for decision in out:
                self._bar_decision(decision)
        beat = now
        pending = ib.open_bar_end()
        if pending is not None and beat >= pending:
            beat = pending - _TICK
        if runner.now is None or beat > runner.now:
            out.append(runner.run_heartbeat(beat))
        return out

    def _on_bar(self, bar: Bar) -> Decision:
        """The bar to the runner after the price guard: a refused bar only moves the clock to its end
        (``BAR_REJECTED``), a flagged one is logged (``BAR_FLAGGED``) and used."""
        runner, guard = self.runner, self.guard
        problem = guard.check(bar) if guard is not None else None
        if problem is None:
            if self._venue_bar is not None:
                self._venue_bar(bar)
            return runner.run_once(bar)
        payload = {"reason": problem.reason, "detail": problem.detail, "bar_end": bar.end}
        if not problem.refused:
            log.warning("bar flagged: %s", problem.detail)
            if self._venue_bar is not None:
                self._venue_bar(bar)
            runner.events.append(runner.now or bar.end, BAR_FLAGGED, payload)
            return runner.run_once(bar)
        log.warning("bar refused: %s", problem.detail)
        decision = runner.run_heartbeat(bar.end) if runner.now is None or bar.end > runner.now else Decision(
            action=SKIP, reason="bar_rejected", detail=problem.detail)
        runner.events.append(runner.now or bar.end, BAR_REJECTED, payload)
        return decision

    def _roll_if_due(self, now: dt.datetime) -> None:
        """On a new exchange date whose front month differs from the contract traded, switch to it once flat.

        The switch reconnects (qualifying the new front month) and requests its
        bars; while the runner holds a position or an order works it waits.
        """
        ib = self.ib
        if not isinstance(ib, IBKRAdapter):
            return  # a replayed file holds the contracts it recorded
        day = now.astimezone(self.runner.session.schedule.tz).date()
        if day == self._day:
            return
        wanted = front_month(self.symbol, day, roll_days=ib.roll_days).local_symbol
        trading = ib.contract(self.symbol).localSymbol
        if wanted == trading:
            self._day = day
            return
        try:
            busy = bool(self.runner.book.expected_positions()) or bool(ib.open_orders())
        except AdapterUnavailable:
            return
        if busy:
            return
        log.warning("front month for %s is %s: switching from %s", day, wanted, trading)
        ib.disconnect()
        try:
            ib.connect(day)
        except AdapterUnavailable as exc:
            log.warning("reconnect for the roll failed (%s); retrying on the backoff schedule", exc)
            return
        self._day = day
        self.rolls += 1
        self._subscribe()

    def run(self, stop: Callable[[], bool]) -> bool:
        """Step every ``heartbeat`` until ``stop()``; then ``shutdown()``. Returns True when it stopped flat."""
        wait = self.heartbeat.total_seconds()
        try:
            while not stop():
                self.step()
                self._wait(wait)
        finally:
            flat = self.shutdown()
        return flat

    def _wait(self, seconds: float) -> None:
        """Sleep while the client library runs; a connection that drops meanwhile is not an error here
        (the client library raises ``ConnectionError`` from its sleep; the adapter has noted the drop
        and the next step reconnects)."""
        try:
            self._sleep(seconds)
        except ConnectionError as exc:
            log.warning("connection to TWS dropped: %r", exc)

    def shutdown(self) -> bool:
        """Flatten (unless OBSERVE), close the runner and the connection. Idempotent.

        Returns True when the runner ended with no flatten under way (flat as far
        as it knows); False when ``stop_timeout`` passed first (the event log
        says what is still held).
        """
        if self.stopped_flat is not None:
            return self.stopped_flat
        runner = self.runner
        flat = True
        try:
            if self.mode != OBSERVE:
                start = self.now()
                runner.flatten_now("shutdown", start)
                while runner.flattening and self.now() - start <= self.stop_timeout:
                    self._wait(min(self.heartbeat.total_seconds(), 0.5))
                    now = self.now()
                    if not self.ib.connected and self.ib.reconnect_if_due(now):
                        self.reconnects += 1
                    # bars keep coming while the flatten works: the runner (no entries now) keeps its clock
                    # and marks with them, and a simulated venue fills the flatten on them
                    self._feed(now)
                flat = not runner.flattening
                if not flat:
                    log.error("stopped after %s with a flatten still under way; check the positions in TWS", self.stop_timeout)
        finally:
            self.stopped_flat = flat
            runner.close()
            if self.ib.connected:
                self.ib.disconnect()
        return flat
