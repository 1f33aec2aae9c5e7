"""Operator controls: what a person (or the shell around the runner) does to a running bot.

``reset_kill_switch`` re-arms a tripped kill switch with a note once the machines
match the venue; ``write_off_positions`` accepts that the venue holds none of what
the machines still count (after a mismatch trip); ``flatten_now`` stops entering and
flattens everything (before a shutdown); ``set_equity`` replaces the account value
sizing uses. Each is logged before it takes effect and checkpointed.

A mixin of ``BotRunner`` on the runner's own attributes (``RunnerBase``).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from statebot.app.decision import FLATTEN, Decision
from statebot.app.runner_base import RunnerBase
from statebot.core.fsm.killswitch import ARMED, TRIPPED
from statebot.core.money import to_money
from statebot.core.positions.reconcile import reconcile
from statebot.core.time.clock import require_aware
from statebot.errors import ConfigError
from statebot.journal.log import EQUITY_SET, KILL_SWITCH, POSITION_WRITTEN_OFF, SESSION_EXIT_FLATTEN, minutes

log = logging.getLogger("statebot.runner")


class OperatorControls(RunnerBase):
    """The public controls of ``BotRunner`` a person uses."""

    def reset_kill_switch(self, note: str, now: dt.datetime | None = None) -> None:
        """A person re-arms the kill switch with a note (``KILL_SWITCH`` TRIPPED -> ARMED, reason manual_reset).

        Raises ``ConfigError`` for an empty note, ``InvalidTransition`` when ARMED, and, staying
        TRIPPED, ``PositionMismatch`` while the book differs from the broker's positions or
        ``AdapterUnavailable`` when the broker cannot be asked (the book is unverified).
        """
        at = now or self._now or self._start
        mismatches = reconcile(self.book.expected_positions(), self.adapter.positions())
        self.killswitch.reset(note, at, mismatches=mismatches)
        self._ks_logged = 0
        self._log(at, KILL_SWITCH, {"from": TRIPPED, "to": ARMED, "reason": "manual_reset", "detail": note})
        self._save(at)

    def write_off_positions(self, note: str, now: dt.datetime | None = None) -> tuple[tuple[str, str, int], ...]:
        """A person accepts that the venue holds none of what the machines still count: after a
        ``position_mismatch`` trip where the flattener closed the venue (e.g. with an unowned
        order while a fill report was still on its way), the machines keep a position the
        venue does not have, and ``reset_kill_switch`` refuses while they differ.

        For every machine holding a quantity, with no order live, in a symbol the venue
        reports flat with no order working: the position is written off (``POSITION_WRITTEN_OFF
        {strategy, symbol, qty, note}``, then ``POSITION_TRANSITION`` to FLAT); no order is sent.
        A symbol the venue still holds is left to the flattener. Returns the written-off
        ``(strategy, symbol, qty)``. Raises ``ConfigError`` for an empty note or while the kill
        switch is ARMED, ``AdapterUnavailable`` when the venue cannot be asked (nothing changes).
        Re-arm afterwards with ``reset_kill_switch``.
        """
        if not isinstance(note, str) or not note.strip():
            raise ConfigError("a position write-off needs a non-empty operator note")
        if self.killswitch.allows_entries:
            raise ConfigError("positions are written off only while the kill switch is TRIPPED (trading stopped)")
        at = now or self._now or self._start
        venue = self.adapter.positions()
        working = {o.symbol for o in self.adapter.open_orders()}
        chosen = [m for m in self.book.machines()
                  if m.qty and not m.live_orders() and not venue.get(m.symbol) and m.symbol not in working]
        done = []
        for m in chosen:
            qty = m.write_off()
            self.brackets.pop((m.strategy, m.symbol))
            self._log(at, POSITION_WRITTEN_OFF, {"strategy": m.strategy, "symbol": m.symbol, "qty": qty, "note": note.strip()})
            log.warning("position %s %s of %d written off by a person: %s", m.strategy, m.symbol, qty, note.strip())
            done.append((m.strategy, m.symbol, qty))
        self._log_positions(at)
        if done:
            self._save(at)
        return tuple(done)

    def flatten_now(self, reason: str, now: dt.datetime | None = None) -> Decision:
        """Stop entering and flatten every position, e.g. before a shutdown.

        Logs ``SESSION_EXIT_FLATTEN {reason}``, cancels working entries and
        steps the flatten at ``now`` (default: the ``LiveClock``'s wall time, or
        the last clock time); later ``run_heartbeat`` calls keep stepping it
        until the venue is flat (``flattening`` turns False). From then on this
        runner sends no entry (``SKIP stopping``). Raises ``BarRejected`` for a
        naive ``now``.
        """
        t = now if now is not None else (self.clock.wall_time() if self.clock is not None else (self._now or self._start))
        require_aware(t, "flatten time")
        t = max(t, self._now) if self._now is not None else t
        self._now = t
        if self._pending is not None:
            self._flush_pending(t)
        self._stopping = True
        self._process_adapter(t)
        self.brackets.note_exit_refs(self._last_bar)
        session = self.session.session
        remaining = max(dt.timedelta(0), session.close - t) if session is not None else dt.timedelta(0)
        self._log(t, SESSION_EXIT_FLATTEN, {"reason": reason, "session": session.date if session is not None else None,
                                            "minutes_remaining": minutes(remaining),
                                            "positions": dict(sorted(self.book.expected_positions().items())),
                                            "late": False})
        self._cancel_working_entries(t)
        self.flatten_coordinator.start()
        acted = self._step_flatten(t)
        if self._dirty:
            self._save(t)
        return acted or Decision(action=FLATTEN, reason=reason)

    def set_equity(self, equity: Decimal | int | str) -> None:
        """Replace the equity sizing uses (USD), e.g. with the broker's account value."""
        self.equity = to_money(equity, "equity")
        if self._now is not None:
            self._log(self._now, EQUITY_SET, {"equity": self.equity})
            self._changed = self._dirty = True
        elif self._pending is not None:
            self._pending.append((EQUITY_SET, {"equity": self.equity}))
