"""statebot.testing: check your own bot, and any event log, against the lifecycle invariants.

``statebot.testing.invariants`` holds the invariants as plain functions over an event log
(``check_events``, ``check_log``, ``InvariantChecker`` and one function per invariant, named in
``INVARIANTS``); ``statebot.testing.machine`` the ``BotStateMachine`` (Hypothesis) and
``statebot.testing.pytest_plugin`` the pytest fixtures and marker (docs/testing.md).

Names load lazily (PEP 562): pytest imports this package to load the plugin in every project
that installed statebot, so importing it loads nothing else; nothing here imports Hypothesis
until ``statebot.testing.machine`` or ``statebot.testing.strategies`` is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, tuple[str, str]] = {
    "INVARIANTS": ("statebot.testing.invariants", "INVARIANTS"),
    "InvariantChecker": ("statebot.testing.invariants", "InvariantChecker"),
    "LogCheck": ("statebot.testing.invariants", "LogCheck"),
    "Verdict": ("statebot.testing.invariants", "Verdict"),
    "check_events": ("statebot.testing.invariants", "check_events"),
    "check_log": ("statebot.testing.invariants", "check_log"),
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from statebot.testing.invariants import INVARIANTS, InvariantChecker, LogCheck, Verdict, check_events, check_log


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'statebot.testing' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
