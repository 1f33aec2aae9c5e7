"""statebot.testing: check your own bot, and any event log, against the lifecycle invariants.

``statebot.testing.invariants`` holds the invariants as plain functions over an event log
(``check_events``, ``check_log`` and one function per invariant, named in ``INVARIANTS``).
Nothing here imports Hypothesis or pytest until asked for.
"""

from __future__ import annotations

from statebot.testing.invariants import INVARIANTS, LogCheck, Verdict, check_events, check_log

__all__ = ["INVARIANTS", "LogCheck", "Verdict", "check_events", "check_log"]
