"""Transition tables as data: what a ``MachineSpec`` refuses, what it says about itself,
and how a ``TableMachine`` subclass is checked when it is defined and fired afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, Route, TableMachine, Transition, reference_machine
from statebot.errors import InvalidTransition


def spec(*rows: Transition, states: tuple[str, ...] = ("A", "B"), initial: str = "A", **kw: Any) -> MachineSpec:
    return MachineSpec(name="toy", states=states, initial=initial, transitions=rows, **kw)


def row(trigger: str = "go", source: Any = "A", dest: str = "B", **kw: Any) -> Transition:
    return Transition(trigger=trigger, source=source, dest=dest, why="a reason", **kw)


# -- a row's fields -------------------------------------------------------------------------------------------

def test_a_row_takes_one_name_or_several_for_source_guard_and_unless() -> None:
    one = row(source="A", guard="g", unless="u")
    several = row(source=["A", "B"], guard=("g1", "g2"), unless=["u1", "u2"])
    assert (one.source, one.guard, one.unless) == (("A",), ("g",), ("u",))
    assert (several.source, several.guard, several.unless) == (("A", "B"), ("g1", "g2"), ("u1", "u2"))
    assert (row(guard=None).guard, row().guard, row().unless, row().actions) == ((), (), (), ())


def test_a_row_s_actions_are_effects_given_as_members_or_their_names() -> None:
    assert row(actions="clear").actions == (Effect.CLEAR,)
    assert row(actions=("clear", Effect.RECONCILE_POSITIONS)).actions == (Effect.CLEAR, Effect.RECONCILE_POSITIONS)
    with pytest.raises(ValueError):
        row(actions="no_such_effect")


# -- what a spec refuses --------------------------------------------------------------------------------------

def test_an_initial_state_that_is_not_a_state_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        spec(row(), initial="C")
    assert str(refused.value) == "toy: initial state 'C' is not a state"


@pytest.mark.parametrize(("source", "dest", "unknown"), [("C", "B", "C"), ("A", "C", "C"), (("A", "D"), "B", "D")])
def test_a_row_naming_an_unknown_state_is_refused(source: Any, dest: str, unknown: str) -> None:
    with pytest.raises(ValueError) as refused:
        spec(row(source=source, dest=dest))
    assert str(refused.value) == f"toy: 'go' names unknown state {unknown!r}"


def test_two_rows_for_one_trigger_and_state_are_ambiguous_unless_the_second_has_a_guard_or_an_unless() -> None:
    with pytest.raises(ValueError) as refused:
        spec(row(dest="B"), row(source=("B", "A"), dest="A"))
    assert str(refused.value) == "toy: 'go' from A is ambiguous"
    assert len(spec(row(dest="B"), row(dest="A", guard="g")).transitions) == 2
    assert len(spec(row(dest="B"), row(dest="A", unless="u")).transitions) == 2
    assert len(spec(row(dest="B"), row(trigger="other", dest="A")).transitions) == 2


def test_a_guarded_first_row_does_not_excuse_an_unguarded_repeat_after_it() -> None:
    with pytest.raises(ValueError, match="'go' from A is ambiguous"):
        spec(row(dest="B", guard="g"), row(dest="A"), row(dest="B"))


@pytest.mark.parametrize("text", ["", "   ", "two\nlines"])
def test_an_invariant_must_be_one_non_empty_line(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        spec(row(), invariants=(text,))
    assert str(refused.value) == f"toy: invariant {text!r} must be one non-empty line"


def test_an_invariant_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        spec(row(), invariants=("holds", "holds"))
    assert str(refused.value) == "toy: an invariant is listed twice"
    assert spec(row(), invariants=["holds", "also holds"]).invariants == ("holds", "also holds")


# -- what a spec says about itself ----------------------------------------------------------------------------

def test_triggers_guards_and_actions_are_listed_in_table_order_without_repeats() -> None:
    s = spec(
        row(trigger="go", dest="B", guard=("g2", "g1"), actions="clear"),
        row(trigger="stop", source="B", dest="A", unless="u1", actions=("reconcile_positions", "clear")),
        row(trigger="go", dest="A", guard="g1", unless=("u2", "u1")),
        states=["A", "B"],
    )
    assert s.states == ("A", "B")
    assert s.triggers == ("go", "stop")
    assert s.guards == ("g2", "g1", "u1", "u2")
    assert s.actions == (Effect.CLEAR, Effect.RECONCILE_POSITIONS)


# -- a machine class is checked when it is defined ------------------------------------------------------------

def guarded() -> MachineSpec:
    """Built inside each test (not at import), so a fault in building specs fails tests, not collection."""
    return spec(row(guard="ready", actions="clear"), row(trigger="back", source="B", dest="A"))


def test_a_machine_class_without_a_guard_s_method_is_refused_when_defined() -> None:
    with pytest.raises(TypeError) as refused:
        type("NoGuard", (TableMachine,), {"SPEC": guarded()})
    assert str(refused.value) == "NoGuard lacks _guard_ready named in toy's table"


def test_a_machine_class_executing_an_effect_its_table_never_asks_for_is_refused() -> None:
    body = {"SPEC": guarded(), "_guard_ready": lambda self, data: True, "do": lambda self, data, route: None,
            "OWN_EFFECTS": {Effect.FLATTEN_ALL_POSITIONS: "do"}}
    with pytest.raises(TypeError) as refused:
        type("Extra", (TableMachine,), body)
    assert str(refused.value) == "Extra executes [<Effect.FLATTEN_ALL_POSITIONS: 'flatten_all_positions'>], which toy's table never asks for"


def test_a_machine_class_naming_a_missing_method_for_its_own_effect_is_refused() -> None:
    body = {"SPEC": guarded(), "_guard_ready": lambda self, data: True, "OWN_EFFECTS": {Effect.CLEAR: "missing"}}
    with pytest.raises(TypeError, match="Own lacks missing named in toy's table"):
        type("Own", (TableMachine,), body)


class _Toy(TableMachine):
    """A machine that records what its own effect was given (its SPEC is set by ``Toy``)."""

    OWN_EFFECTS = {Effect.CLEAR: "_clear"}

    def __init__(self, initial: str | None = None) -> None:
        super().__init__(initial)
        self.cleared: list[tuple[str, Mapping[str, Any], Route]] = []

    def _guard_ready(self, data: Mapping[str, Any]) -> bool:
        return bool(data["ready"])

    def _clear(self, data: Mapping[str, Any], route: Route) -> None:
        self.cleared.append((self.state, dict(data), route))


def Toy(initial: str | None = None) -> _Toy:  # noqa: N802 - reads as the class it builds
    """A fresh machine of a class defined (checked and compiled) inside the test."""
    cls = type("Toy", (_Toy,), {"SPEC": guarded()})
    return cls(initial)  # type: ignore[no-any-return]


def test_a_machine_starts_in_the_spec_s_initial_state_or_the_one_given() -> None:
    assert Toy().state == "A"
    assert Toy("B").state == "B"


def test_a_machine_refuses_to_start_in_a_state_its_spec_does_not_have() -> None:
    with pytest.raises(ValueError) as refused:
        Toy("C")
    assert str(refused.value) == "toy: 'C' is not one of its states A, B"


def test_fire_returns_the_route_taken_and_runs_the_machine_s_own_effect_after_the_state_changed() -> None:
    toy = Toy()
    route = toy.fire("go", ready=True)
    assert route == Route(trigger="go", source="A", dest="B", effects=(Effect.CLEAR,))
    assert toy.state == "B"
    assert toy.cleared == [("B", {"ready": True}, route)]


def test_fire_returns_none_and_changes_nothing_when_the_guard_refuses() -> None:
    toy = Toy()
    assert toy.fire("go", ready=False) is None
    assert (toy.state, toy.cleared) == ("A", [])


def test_a_route_without_effects_runs_no_own_effect() -> None:
    toy = Toy("B")
    assert toy.fire("back") == Route(trigger="back", source="B", dest="A", effects=())
    assert toy.cleared == []


def test_a_trigger_the_table_does_not_allow_from_the_current_state_is_an_invalid_transition() -> None:
    toy = Toy()
    with pytest.raises(InvalidTransition) as refused:
        toy.fire("back")
    assert (refused.value.machine, refused.value.state, refused.value.trigger) == ("toy", "A", "back")
    assert toy.state == "A"


def test_may_fire_tells_whether_the_table_has_a_row_for_the_trigger_from_the_current_state() -> None:
    toy = Toy()
    assert (toy.may_fire("go"), toy.may_fire("back"), toy.may_fire("unknown")) == (True, False, False)
    toy.fire("go", ready=True)
    assert (toy.may_fire("go"), toy.may_fire("back")) == (False, True)


def test_the_reference_machine_allows_exactly_the_table_s_triggers_from_each_state() -> None:
    """No ``to_<state>`` shortcuts: ``transitions`` must allow what the table allows, nothing more."""
    s = spec(row(guard="ready"), row(trigger="back", source="B", dest="A"), row(trigger="stay", source=("A", "B"), dest="A"))

    class Model:
        state: str

    machine = reference_machine(s, Model(), lambda name: lambda event: True)
    assert {state: set(machine.get_triggers(state)) for state in s.states} == {"A": {"go", "stay"}, "B": {"back", "stay"}}
