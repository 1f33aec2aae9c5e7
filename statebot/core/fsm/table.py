"""Transition tables as data, and the small base class that runs them.

A lifecycle is declared once as a ``MachineSpec``: its states, its initial
state and a tuple of ``Transition`` rows (trigger, source, dest, guard,
actions, why). The same spec builds the running ``transitions.Machine``, the
mermaid diagram and the risk-review tables, so the docs cannot drift from the
code.

Guards and actions are names. A machine class implements a guard ``g`` as the
method ``_guard_g`` and an action ``a`` as ``_act_a``; a missing method is an
error when the class is instantiated, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import attrs
from transitions import Machine, MachineError

from statebot.errors import InvalidTransition


def _states(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _rows(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(value)


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class Transition:
    """One row of a transition table.

    ``source`` is one state name or several; ``guard`` (optional) names a
    predicate that must hold; ``actions`` name what runs after the state
    changed; ``why`` is the one-line reason shown to risk reviewers.
    """

    trigger: str
    source: tuple[str, ...] = attrs.field(converter=_names)
    dest: str
    why: str
    guard: str | None = None
    actions: tuple[str, ...] = attrs.field(default=(), converter=_names)


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
                if key in seen and row.guard is None:
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
        return tuple(dict.fromkeys(r.guard for r in self.transitions if r.guard))

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for r in self.transitions for a in r.actions))


class _Model:
    """What ``transitions`` decorates, kept apart so it cannot shadow our API."""

    state: str
    trigger: Callable[..., bool]  # added by transitions.Machine(model=...)


class TableMachine:
    """Runs a ``MachineSpec`` with ``transitions``.

    Subclasses set ``SPEC`` and implement ``_guard_<name>`` and ``_act_<name>``
    for every guard and action the table names. ``fire`` is the only way the
    state changes; a trigger the table does not allow from the current state
    raises ``InvalidTransition`` and changes nothing. Building one costs about
    a hundred microseconds and each ``fire`` a few: fine for state changes,
    never for a per-bar path that changes nothing.
    """

    SPEC: ClassVar[MachineSpec]

    def __init__(self, initial: str | None = None) -> None:
        spec = self.SPEC
        self._model = _Model()
        rows = []
        for row in spec.transitions:
            rows.append(
                {
                    "trigger": row.trigger,
                    "source": list(row.source),
                    "dest": row.dest,
                    "conditions": [self._callable("_guard_", row.guard)] if row.guard else [],
                    "after": [self._callable("_act_", a) for a in row.actions],
                }
            )
        self._machine = Machine(
            model=self._model,
            states=list(spec.states),
            transitions=rows,
            initial=initial or spec.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def _callable(self, prefix: str, name: str) -> Callable[..., Any]:
        method = getattr(self, prefix + name, None)
        if method is None:
            raise TypeError(f"{type(self).__name__} lacks {prefix}{name} named in {self.SPEC.name}'s table")
        return method

    @property
    def state(self) -> str:
        """The current state's name."""
        return self._model.state

    def fire(self, trigger: str, **data: Any) -> bool:
        """Fire ``trigger``; keyword ``data`` reaches guards and actions.

        Returns True when a transition happened, False when every matching row's
        guard refused. Raises ``InvalidTransition`` when no row allows the
        trigger from the current state.
        """
        try:
            return bool(self._model.trigger(trigger, **data))
        except MachineError:
            raise InvalidTransition(self.SPEC.name, self.state, trigger) from None
        except AttributeError:
            if trigger not in self.SPEC.triggers:
                raise InvalidTransition(self.SPEC.name, self.state, trigger) from None
            raise

    def may_fire(self, trigger: str) -> bool:
        """True when the table has a row for ``trigger`` from the current state."""
        state = self.state
        return any(r.trigger == trigger and state in r.source for r in self.SPEC.transitions)
