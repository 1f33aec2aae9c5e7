"""Transition tables as data, compiled once into the dispatch that fires them.

A lifecycle is declared once as a ``MachineSpec``: its states, its initial state and a
tuple of ``Transition`` rows (trigger, source, dest, guards, effects, why). The same spec
is built and validated by ``transitions`` (once per spec, see ``reference_machine``), drawn
by it for the risk-review docs, and compiled into a dispatch table that fires it:
``(state, trigger) -> rows in table order``; the first row whose guards pass is taken.

Theory of operation (what ``transitions`` does, kept exactly, and proven equal to it by
``tests/core/fsm/test_dispatch_equivalence.py``):

- no row for ``(state, trigger)``: ``InvalidTransition`` naming machine, state and trigger;
  nothing changes;
- rows for it: each in table order; a row passes when every ``guard`` returns a value
  ``== True`` and every ``unless`` a value ``== False``, checked in that order and stopping
  at the first that fails (so ``1`` passes a guard, ``"yes"`` and ``None`` do not; ``0``
  passes an unless, ``None`` does not); the first passing row is taken: the state becomes
  its ``dest`` and ``fire`` returns the row (a ``Route``) with its effects;
- no row passes: ``fire`` returns None and nothing changes.

Guards are names: a machine class implements guard ``g`` as the method ``_guard_g(data)``
(``data`` is the keyword arguments given to ``fire``). Effects (``statebot.core.fsm.effects``)
are returned to the caller, who executes them by type; a machine that executes some itself
declares them in ``OWN_EFFECTS`` (effect -> method name, called as ``method(data, route)``
after the state changed). A guard or own effect without its method is a ``TypeError`` when
the class is defined, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import attrs

from statebot.core.fsm.effects import Effect
from statebot.errors import InvalidTransition


def _states(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _rows(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(value)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _effects(value: Any) -> tuple[Effect, ...]:
    return tuple(Effect(name) for name in _names(value))


@attrs.frozen(kw_only=True)
class Transition:
    """One row of a transition table.

    ``source`` is one state name or several; ``guard`` names one predicate or several that
    must all hold, ``unless`` one or several that must all fail; ``actions`` are the
    ``Effect`` members (or their names) asked for once the state changed; ``why`` is the
    one-line reason shown to risk reviewers.
    """

    trigger: str
    source: tuple[str, ...] = attrs.field(converter=_names)
    dest: str
    why: str
    guard: tuple[str, ...] = attrs.field(default=(), converter=_names)
    unless: tuple[str, ...] = attrs.field(default=(), converter=_names)
    actions: tuple[Effect, ...] = attrs.field(default=(), converter=_effects)


@attrs.frozen(kw_only=True)
class MachineSpec:
    """A lifecycle: name, states in their natural order, initial state, table.

    ``invariants`` lists the one-line guarantees the test suite must prove for
    this machine, each word for word as a test's
    ``@pytest.mark.invariant(text, machine=name)`` marker says it; the
    risk-review generator fails when one of them has no test.
    """

    name: str
    states: tuple[str, ...] = attrs.field(converter=_states)
    initial: str
    transitions: tuple[Transition, ...] = attrs.field(converter=_rows)
    description: str = ""
    invariants: tuple[str, ...] = attrs.field(default=(), converter=_states)

    def __attrs_post_init__(self) -> None:
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not a state")
        seen: set[tuple[str, str]] = set()
        for row in self.transitions:
            for state in (*row.source, row.dest):
                if state not in known:
                    raise ValueError(f"{self.name}: {row.trigger!r} names unknown state {state!r}")
            for src in row.source:
                key = (row.trigger, src)
                if key in seen and not row.guard and not row.unless:
                    raise ValueError(f"{self.name}: {row.trigger!r} from {src} is ambiguous")
                seen.add(key)
        for text in self.invariants:
            if not text.strip() or "\n" in text:
                raise ValueError(f"{self.name}: invariant {text!r} must be one non-empty line")
        if len(set(self.invariants)) != len(self.invariants):
            raise ValueError(f"{self.name}: an invariant is listed twice")

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, in table order, without repeats."""
        return tuple(dict.fromkeys(row.trigger for row in self.transitions))

    @property
    def guards(self) -> tuple[str, ...]:
        """Every guard and unless name, in table order, without repeats."""
        return tuple(dict.fromkeys(g for r in self.transitions for g in (*r.guard, *r.unless)))

    @property
    def actions(self) -> tuple[Effect, ...]:
        """Every effect the table declares, in table order, without repeats."""
        return tuple(dict.fromkeys(a for r in self.transitions for a in r.actions))


@attrs.frozen(kw_only=True)
class Route:
    """One row as taken from one source state: what ``fire`` returns. Built once per spec."""

    trigger: str
    source: str
    dest: str
    effects: tuple[Effect, ...]


GuardFn = Callable[[Any, Mapping[str, Any]], object]
"""A guard as the dispatch calls it: ``guard(machine, data)``; its outcome is compared ``== True``."""

Candidate = tuple[tuple[tuple[GuardFn, bool], ...], Route]
"""One row from one state: its checks ``(guard, target)`` in order, and the route it takes."""


def compile_dispatch(spec: MachineSpec, resolve: Callable[[str], GuardFn]) -> dict[str, dict[str, tuple[Candidate, ...]]]:
    """``state -> trigger -> candidates`` in table order, each guard name resolved once."""
    table: dict[str, dict[str, list[Candidate]]] = {state: {} for state in spec.states}
    for row in spec.transitions:
        checks = tuple((resolve(name), True) for name in row.guard) + tuple((resolve(name), False) for name in row.unless)
        for src in row.source:
            route = Route(trigger=row.trigger, source=src, dest=row.dest, effects=row.actions)
            table[src].setdefault(row.trigger, []).append((checks, route))
    return {state: {trigger: tuple(c) for trigger, c in rows.items()} for state, rows in table.items()}


def dispatch(machine: Any, table: Mapping[str, Mapping[str, tuple[Candidate, ...]]], spec_name: str, state: str,
             trigger: str, data: Mapping[str, Any]) -> Route | None:
    """The route ``trigger`` takes from ``state`` (see the module docstring), or None when every
    row's guards refused. Raises ``InvalidTransition`` when no row allows it."""
    candidates = table[state].get(trigger)
    if candidates is None:
        raise InvalidTransition(spec_name, state, trigger)
    for checks, route in candidates:
        for guard, target in checks:
            if not (guard(machine, data) == target):
                break
        else:
            return route
    return None


def reference_machine(spec: MachineSpec, model: Any, guard: Callable[[str], Callable[..., object]],
                      initial: str | None = None,
                      after: Callable[[Transition], Callable[..., object]] | None = None) -> Any:
    """``spec`` built by ``transitions`` itself (``auto_transitions=False``, ``send_event=True``):
    ``guard(name)`` gives the callable for each guard name, called with the ``EventData``;
    ``after(row)`` (optional) the callback run once that row was taken.

    ``transitions`` validates the table as it builds it; the compiled dispatch is tested
    against this machine, never run in its place.
    """
    from transitions import Machine

    rows = [
        {
            "trigger": row.trigger,
            "source": list(row.source),
            "dest": row.dest,
            "conditions": [guard(name) for name in row.guard],
            "unless": [guard(name) for name in row.unless],
            "after": [after(row)] if after is not None else [],
        }
        for row in spec.transitions
    ]
    return Machine(model=model, states=list(spec.states), transitions=rows, initial=initial or spec.initial,
                   auto_transitions=False, send_event=True, ignore_invalid_triggers=False)


class _Checked:
    """What ``transitions`` decorates when a spec is validated: never fired."""

    state: str


def validate_with_transitions(spec: MachineSpec) -> None:
    """Build ``spec`` with ``transitions`` (which raises on a table it cannot run); done once per
    spec, when the machine class that runs it is defined."""
    reference_machine(spec, _Checked(), lambda name: lambda event: True)


class TableMachine:
    """Runs a ``MachineSpec`` through its compiled dispatch.

    Subclasses set ``SPEC``, implement ``_guard_<name>(data)`` for every guard the table
    names and list the effects they execute themselves in ``OWN_EFFECTS``. The spec is
    validated by ``transitions`` and compiled when the class is defined; an instance costs
    a few attribute writes. ``fire`` is the only way the state changes.
    """

    SPEC: ClassVar[MachineSpec]
    OWN_EFFECTS: ClassVar[Mapping[Effect, str]] = {}
    _DISPATCH: ClassVar[dict[str, dict[str, tuple[Candidate, ...]]]]
    _OWN: ClassVar[dict[Effect, Callable[..., None]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("SPEC")
        if spec is None:
            return
        validate_with_transitions(spec)

        def method(prefix: str, name: str) -> Callable[..., Any]:
            found = getattr(cls, prefix + name, None)
            if found is None:
                raise TypeError(f"{cls.__name__} lacks {prefix}{name} named in {spec.name}'s table")
            return found  # type: ignore[no-any-return]

        cls._DISPATCH = compile_dispatch(spec, lambda name: method("_guard_", name))
        cls._OWN = {effect: method("", name) for effect, name in cls.OWN_EFFECTS.items()}
        unknown = set(cls.OWN_EFFECTS) - set(spec.actions)
        if unknown:
            raise TypeError(f"{cls.__name__} executes {sorted(unknown)}, which {spec.name}'s table never asks for")

    def __init__(self, initial: str | None = None) -> None:
        state = initial or self.SPEC.initial
        if state not in self._DISPATCH:
            raise ValueError(f"{self.SPEC.name}: {state!r} is not one of its states {', '.join(self.SPEC.states)}")
        self._state = state

    @property
    def state(self) -> str:
        """The current state's name."""
        return self._state

    def fire(self, trigger: str, **data: Any) -> Route | None:
        """Fire ``trigger``; keyword ``data`` reaches guards and own effects.

        Returns the ``Route`` taken (its ``effects`` are for the caller to execute, but for
        the machine's ``OWN_EFFECTS``, already done), or None when every matching row's guard
        refused. Raises ``InvalidTransition`` when no row allows the trigger from the current
        state; nothing changes then.
        """
        route = dispatch(self, self._DISPATCH, self.SPEC.name, self._state, trigger, data)
        if route is None:
            return None
        self._state = route.dest
        if route.effects and self._OWN:
            own = self._OWN
            for effect in route.effects:
                act = own.get(effect)
                if act is not None:
                    act(self, data, route)
        return route

    def may_fire(self, trigger: str) -> bool:
        """True when the table has a row for ``trigger`` from the current state."""
        return trigger in self._DISPATCH[self._state]
