"""The compiled dispatch fires every table exactly as ``transitions`` would.

For every machine's spec (and two made-up specs with guard and unless lists), every state,
every trigger (and one the table never names) and every combination of outcomes of the
guards that trigger consults, drawn from the values ``transitions`` treats specially
(truthy and falsy non-bools, None), the compiled dispatch and a ``transitions.Machine``
built from the same spec agree on: raising or not, the row taken (its destination and
effects), and which guards were asked, in which order. Hypothesis then drives both
through random sequences.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import MachineError

from statebot.core.fsm import all_specs
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, TableMachine, Transition, reference_machine
from statebot.errors import InvalidTransition

OUTCOMES: tuple[object, ...] = (True, False, None, 1, 0, 2, 1.0, "yes", "")
"""What a guard may return: ``transitions`` compares with ``== True`` / ``== False``, so 1 and
1.0 pass a guard, 2 and "yes" fail it, 0 passes an unless and None fails both."""

LISTS = MachineSpec(
    name="lists", states=("A", "B", "C"), initial="A",
    transitions=(
        Transition(trigger="go", source="A", dest="B", guard=("g1", "g2"), unless="u1", why="all guards, no unless"),
        Transition(trigger="go", source="A", dest="C", unless=("u1", "u2"), actions=Effect.CLEAR, why="unless list"),
        Transition(trigger="go", source=("A", "B"), dest="A", guard="g2", why="a later row from two states"),
        Transition(trigger="back", source=("B", "C"), dest="A", why="no guard"),
        Transition(trigger="stay", source="C", dest="C", guard="g1", unless="u2",
                   actions=(Effect.CANCEL_ENTRY_ORDERS, Effect.FLATTEN_ALL_POSITIONS), why="a guarded self-loop"),
    ),
)
UNLESS_ONLY = MachineSpec(
    name="unless_only", states=("X", "Y"), initial="X",
    transitions=(
        Transition(trigger="flip", source="X", dest="Y", unless="u1", why="only an unless"),
        Transition(trigger="flip", source="X", dest="X", guard="g1", why="fallback"),
        Transition(trigger="flip", source="Y", dest="X", why="back"),
    ),
)
SPECS = (*all_specs(), LISTS, UNLESS_ONLY)
UNKNOWN = "no_such_trigger"


class Pair:
    """The compiled machine and the ``transitions`` one for one spec, fed the same guard outcomes."""

    def __init__(self, spec: MachineSpec) -> None:
        self.spec = spec
        self.outcomes: dict[str, object] = {}
        self.asked: list[str] = []
        self.taken: list[tuple[str, tuple[Effect, ...]]] = []

        def probe(name: str) -> Callable[[Any, Any], object]:
            def guard(machine: Any, data: Any) -> object:
                self.asked.append(name)
                return self.outcomes[name]
            return guard

        probe_cls = type(f"Probe_{spec.name}", (TableMachine,),
                         {"SPEC": spec, **{f"_guard_{g}": probe(g) for g in spec.guards}})
        self.compiled: TableMachine = probe_cls()

        class Model:
            state: str

        self.model = Model()

        def ref_guard(name: str) -> Callable[[Any], object]:
            return lambda event: probe(name)(None, None)

        def after(row: Transition) -> Callable[[Any], None]:
            return lambda event: self.taken.append((row.dest, row.actions))

        self.reference = reference_machine(spec, self.model, ref_guard, after=after)

    def place(self, state: str) -> None:
        self.compiled._state = state
        self.reference.set_state(state)

    def compiled_fire(self, trigger: str) -> tuple[object, ...]:
        self.asked = []
        try:
            route = self.compiled.fire(trigger)
        except InvalidTransition as exc:
            assert (exc.machine, exc.state, exc.trigger) == (self.spec.name, self.compiled.state, trigger)
            return ("invalid", self.compiled.state, tuple(self.asked))
        taken = None if route is None else (route.dest, route.effects)
        return ("fired" if route else "refused", self.compiled.state, taken, tuple(self.asked))

    def reference_fire(self, trigger: str) -> tuple[object, ...]:
        self.asked, self.taken = [], []
        try:
            fired = self.model.trigger(trigger)  # type: ignore[attr-defined]
        except (MachineError, AttributeError):
            return ("invalid", self.model.state, tuple(self.asked))
        assert len(self.taken) == (1 if fired else 0)
        taken = self.taken[0] if fired else None
        return ("fired" if fired else "refused", self.model.state, taken, tuple(self.asked))

    def guards_of(self, state: str, trigger: str) -> tuple[str, ...]:
        rows = [r for r in self.spec.transitions if r.trigger == trigger and state in r.source]
        return tuple(dict.fromkeys(g for r in rows for g in (*r.guard, *r.unless)))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_state_trigger_and_guard_outcome_fires_as_transitions_does(spec: MachineSpec) -> None:
    pair = Pair(spec)
    for state in spec.states:
        for trigger in (*spec.triggers, UNKNOWN):
            names = pair.guards_of(state, trigger)
            for values in itertools.product(OUTCOMES, repeat=len(names)):
                pair.outcomes = dict(zip(names, values))
                pair.place(state)
                compiled = pair.compiled_fire(trigger)
                reference = pair.reference_fire(trigger)
                assert compiled == reference, (state, trigger, pair.outcomes)


def test_an_invalid_trigger_names_machine_state_and_trigger_and_changes_nothing() -> None:
    pair = Pair(LISTS)
    pair.place("B")
    with pytest.raises(InvalidTransition, match=r"lists: trigger 'stay' is not allowed in state B"):
        pair.compiled.fire("stay")
    assert pair.compiled.state == "B"


@st.composite
def runs(draw: st.DrawFn) -> tuple[MachineSpec, list[tuple[str, dict[str, object]]]]:
    spec = draw(st.sampled_from(SPECS))
    triggers = st.sampled_from((*spec.triggers, UNKNOWN))
    outcomes = st.fixed_dictionaries({g: st.sampled_from(OUTCOMES) for g in spec.guards})
    return spec, draw(st.lists(st.tuples(triggers, outcomes), max_size=30))


@given(runs())
def test_random_sequences_fire_as_transitions_does(run: tuple[MachineSpec, list[tuple[str, dict[str, object]]]]) -> None:
    """Invariant: from the initial state, any sequence of triggers and guard outcomes leaves the
    compiled machine and the ``transitions`` one in the same state after every step, having
    taken the same rows and asked the same guards."""
    spec, steps = run
    pair = Pair(spec)
    for trigger, outcomes in steps:
        pair.outcomes = outcomes
        assert pair.compiled_fire(trigger) == pair.reference_fire(trigger)
        assert pair.compiled.state == pair.model.state


def test_transitions_builds_a_spec_when_its_class_is_defined_never_per_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    import transitions

    from statebot.core.fsm import KillSwitch, SessionMachine

    built: list[object] = []
    real_init = transitions.Machine.__init__

    def counting_init(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    for _ in range(3):
        KillSwitch().trip("manual", dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc))
        SessionMachine()
    assert built == []
    type("Probe", (TableMachine,), {"SPEC": UNLESS_ONLY, "_guard_u1": lambda self, data: False,
                                    "_guard_g1": lambda self, data: True})
    assert len(built) == 1
