"""What a transition asks to happen: the typed effects a table row lists.

A row's ``actions`` are ``Effect`` members. Firing a machine returns the row it took, and
with it these effects; whoever owns an effect executes it by type: the machine itself for
its own bookkeeping (the throttle's cooldown), the engine (``BotRunner``) for what reaches
the venue (cancel, flatten, reconcile). Every effect a table declares has exactly one
executor; a test enumerates them.

The values are the names the risk-review tables and diagrams show.
"""

from __future__ import annotations

from enum import StrEnum


class Effect(StrEnum):
    """One effect of a transition, named for what happens."""

    # executed by the engine
    CANCEL_ENTRY_ORDERS = "cancel_entry_orders"
    FLATTEN_ALL_POSITIONS = "flatten_all_positions"
    CHECK_FLAT_AT_CLOSE = "check_flat_at_close"
    RECONCILE_POSITIONS = "reconcile_positions"
    # executed by the protection desk (statebot.core.engine.protection)
    CANCEL_OCA_SIBLINGS = "cancel_oca_siblings"
    RESTORE_PROTECTION = "restore_protection"
    # executed by the throttle machine on itself
    START_COOLDOWN = "start_cooldown"
    HOLD_WITHOUT_COOLDOWN = "hold_without_cooldown"
    START_PROBATION = "start_probation"
    CLEAR = "clear"
    RECORD_RESET = "record_reset"
