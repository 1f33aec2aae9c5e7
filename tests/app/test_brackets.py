"""Brackets on their own: which closed bar reaches a stop or a target, the stop first, and the
exit reference a flatten notes; through a runner, a stop reached exits the whole position."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from statebot.app.brackets import Brackets
from statebot.core.engine.fold import Bracket
from statebot.core.engine.protection import ProtectionDesk
from statebot.core.instruments import instrument
from statebot.core.positions.book import PositionBook
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, events, long, make_runner

KEY = ("s", "MES")
T = et("2026-11-24", "10:00")


def brackets(side: int, stop: float | None, target: float | None) -> Brackets:
    """The runner's own stop check (the fallback: a venue without stop orders)."""
    b = Bracket(side=side, stop_ticks=8, target_ticks=8, expected_slippage_ticks=Decimal(0), entry_ref_ticks=None,
                stop_price=stop, target_price=target)
    book = PositionBook()
    return Brackets({KEY: b}, book=book, adapter=broker(), instrument=instrument("MES"), journal=Any,  # type: ignore[arg-type]
                    protection=ProtectionDesk(book), venue_held=False)


@pytest.mark.parametrize(("side", "low", "high", "hit"), [
    (1, 5998.0, 6001.0, "stop"),     # long: the low reached the stop
    (1, 5999.0, 6002.0, "target"),   # long: the high reached the target
    (1, 5998.0, 6002.0, "stop"),     # both in one bar: the stop counts
    (1, 5998.25, 6001.75, None),     # neither
    (-1, 5999.0, 6002.0, "stop"),    # short, mirrored
    (-1, 5998.0, 6001.0, "target"),
    (-1, 5998.0, 6002.0, "stop"),
    (-1, 5998.25, 6001.75, None),
])
def test_a_closed_bar_reaching_the_stop_or_target_is_a_hit(side: int, low: float, high: float, hit: str | None) -> None:
    stop, target = (5998.0, 6002.0) if side > 0 else (6002.0, 5998.0)
    bar = bar_at(T, 6000.0, low=low, high=high)
    assert brackets(side, stop, target).hit(KEY, bar) == hit


def test_no_bracket_or_an_unpriced_one_is_never_hit() -> None:
    bar = bar_at(T, 6000.0, low=1.0, high=9999.0)
    assert brackets(1, None, None).hit(KEY, bar) is None
    assert brackets(1, 5998.0, None).hit(("other", "MES"), bar) is None


def test_a_flatten_notes_the_last_close_as_the_exit_reference_once() -> None:
    b = brackets(1, 5998.0, 6002.0)
    b.note_exit_refs(None)
    assert b.by_key[KEY].exit_ref_ticks is None
    b.note_exit_refs(bar_at(T, 6000.0))
    b.note_exit_refs(bar_at(T + dt.timedelta(minutes=1), 6010.0))
    assert b.by_key[KEY].exit_ref_ticks == instrument("MES").to_ticks(6000.0)
    assert b.pop(KEY) is not None and b.pop(KEY) is None


def test_without_venue_stops_a_runner_exits_the_whole_position_when_a_bar_reaches_its_stop(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long(stop_ticks=4))
    runner = make_runner(tmp_path, strat, sim, cfg=config("[protection]\nenabled = false\n"))
    drive(runner, sim, [bar_at(et("2026-11-24", "10:00")), bar_at(et("2026-11-24", "10:01"))])
    assert runner.position_qty > 0
    strat.want = None
    [(_, decision)] = drive(runner, sim, [bar_at(et("2026-11-24", "10:02"), low=5990.0)])
    assert decision.action == "EXIT" and decision.reason == "stop" and decision.qty == -runner.position_qty
    exits = [e["payload"] for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "exit"]
    assert [e["qty"] for e in exits] == [decision.qty]
    runner.close()


def test_a_stop_working_at_the_venue_is_left_to_the_venue(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long(stop_ticks=4))
    runner = make_runner(tmp_path, strat, sim)
    drive(runner, sim, [bar_at(et("2026-11-24", "10:00")), bar_at(et("2026-11-24", "10:01"))])
    assert runner.position_qty > 0 and runner.protection.working_stop(runner.name, "MES") is not None
    assert runner.brackets.hit((runner.name, "MES"), bar_at(et("2026-11-24", "10:02"), low=5990.0)) is None
    runner.close()
