"""A person's way out of a phantom position: the machines count what the venue no longer holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from statebot import BotRunner, FaultPlan, SimBroker, replay
from statebot.errors import ConfigError, PositionMismatch
from tests.runner_helpers import Scripted, bar_at, broker, et, events, long, make_runner

DAY = "2026-11-24"


def _phantom(tmp_path: Path) -> tuple[BotRunner, SimBroker, Scripted]:
    """An entry fills on the flatten bar but its report comes a bar late: the flattener closes the
    venue with an unowned order, the late report leaves the machine long, reconciliation trips.
    The flattener's own execution is not reported yet (once it is, it closes the machine's
    position by itself): until then, only a person can say the venue is flat."""
    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=1))
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "15:54")] = long(stop_ticks=4)
    for m in range(50, 57):
        b = bar_at(et(DAY, f"15:{m}"))
        sim.on_bar(b)
        runner.run_once(b)
    assert runner.killswitch_state == "TRIPPED" and runner.position_qty > 0 and sim.positions() == {}
    return runner, sim, strat


@pytest.mark.invariant("a machine's position the venue does not hold is written off only by a person, with a note, while tripped", machine="position")
def test_a_phantom_position_is_written_off_with_a_note_and_the_kill_switch_can_be_rearmed(tmp_path: Path) -> None:
    runner, sim, strat = _phantom(tmp_path)
    held = runner.position_qty
    with pytest.raises(PositionMismatch):
        runner.reset_kill_switch("venue checked: flat")
    done = runner.write_off_positions("venue checked in TWS: flat; the late fill was closed by the flattener")
    assert done == ((strat.name, "MES", held),)
    assert runner.position_qty == 0 and runner.position_state == "FLAT"
    (written,) = events(tmp_path, "POSITION_WRITTEN_OFF")
    assert written["payload"] == {"strategy": strat.name, "symbol": "MES", "qty": held,
                                  "note": "venue checked in TWS: flat; the late fill was closed by the flattener"}
    runner.reset_kill_switch("book and venue agree again")
    assert runner.killswitch_state == "ARMED"
    runner.close()
    assert replay(tmp_path / "events.jsonl").positions[(strat.name, "MES")].qty == 0
    again = make_runner(tmp_path, Scripted(), sim)
    assert again.position_qty == 0 and again.killswitch_state == "ARMED"
    again.close()


def test_a_write_off_needs_a_note_and_a_tripped_kill_switch(tmp_path: Path) -> None:
    runner, _, _ = _phantom(tmp_path)
    with pytest.raises(ConfigError, match="non-empty operator note"):
        runner.write_off_positions("  ")
    assert runner.position_qty > 0
    runner.close()
    armed = make_runner(tmp_path / "armed", Scripted(), broker())
    with pytest.raises(ConfigError, match="only while the kill switch is TRIPPED"):
        armed.write_off_positions("nothing to write off")
    armed.close()


def test_a_position_the_venue_still_holds_is_never_written_off(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "10:00")] = long(stop_ticks=4)
    for m in range(0, 3):
        b = bar_at(et(DAY, f"10:0{m}"))
        sim.on_bar(b)
        runner.run_once(b)
    assert runner.position_qty > 0 and sim.positions().get("MES") == runner.position_qty
    runner.killswitch.trip("consecutive_rejects", et(DAY, "10:02"), "test")
    assert runner.write_off_positions("the venue holds it: must not be written off") == ()
    assert runner.position_qty > 0 and not events(tmp_path, "POSITION_WRITTEN_OFF")
    runner.close()
