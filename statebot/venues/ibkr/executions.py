"""Apply every IB execution exactly once: duplicates, corrections and late commission reports.

What IB sends, and what the client libraries pass on (checked against the fake
gateway with ib_insync and ib_async):

- ``execDetails`` may repeat with the same execId. The library drops a repeat
  only while it remembers the execId, and it forgets everything on
  reconnect; ``reqExecutions`` after a reconnect reports the day's executions
  again.
- A correction is a new ``execDetails`` whose execId differs only after its
  last period (``....01.01`` -> ``....01.02``). It REPLACES the execution it
  corrects (same fill, new price or size); the libraries append it as one more
  fill, which would double the quantity if added.
- ``commissionReport`` comes separately, keyed by execId, possibly long after
  the fill, possibly repeated, possibly (after a reconnect) before the
  execution is seen again.

``ExecutionLedger`` turns that stream into changes to apply: each new
execution once, each correction as the difference to the version it replaces,
each commission once. It is pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from statebot.core.time.clock import require_aware
from statebot.errors import ConfigError
from statebot.core.money import to_money

SIDES = {"BOT": 1, "SLD": -1}
"""IB's execution sides and the sign they give a quantity."""


def exec_id_parts(exec_id: str) -> tuple[str, int]:
    """``(base, version)`` of an execId: ``"0000e1.65.01.02"`` -> ``("0000e1.65.01", 2)``.

    An id without a numeric last part is its own base at version 0.
    """
    base, dot, last = exec_id.rpartition(".")
    if dot and last.isdigit():
        return base, int(last)
    return exec_id, 0


def _side(instance: object, attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    if value not in SIDES:
        raise ConfigError(f"execution side {value!r} must be BOT or SLD")


@attrs.frozen(kw_only=True)
class Execution:
    """One execution as statebot records it: ``shares`` > 0, ``price`` a Decimal, ``time`` aware."""

    exec_id: str
    order_id: int
    perm_id: int
    side: str = attrs.field(validator=_side)
    shares: int
    price: Decimal = attrs.field(converter=lambda v: to_money(v, "execution price"))
    time: dt.datetime
    order_ref: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.exec_id:
            raise ConfigError("execution without an execId cannot be applied once")
        if isinstance(self.shares, bool) or not isinstance(self.shares, int) or self.shares <= 0:
            raise ConfigError(f"execution {self.exec_id}: shares {self.shares!r} must be a positive integer")
        require_aware(self.time, f"execution {self.exec_id} time")

    @classmethod
    def from_ib(cls, execution: Any) -> Execution:
        """Convert a client library's ``Execution`` (ib_insync or ib_async; read by attribute name).

        Shares must be whole (futures); the float price becomes the Decimal of
        its shortest repr (``5000.25`` -> ``Decimal("5000.25")``). Raises
        ``ConfigError`` for fractional shares or an unknown side.
        """
        shares = float(execution.shares)
        if not shares.is_integer():
            raise ConfigError(f"execution {execution.execId}: shares {shares} are not whole")
        return cls(
            exec_id=str(execution.execId),
            order_id=int(execution.orderId),
            perm_id=int(execution.permId),
            side=str(execution.side),
            shares=int(shares),
            price=Decimal(repr(float(execution.price))),
            time=execution.time,
            order_ref=str(execution.orderRef or ""),
        )

    @property
    def signed_shares(self) -> int:
        """Shares with the side's sign: bought > 0, sold < 0."""
        return SIDES[self.side] * self.shares


@attrs.frozen(kw_only=True)
class ExecutionChange:
    """What to apply for one accepted execution.

    ``replaces`` is None for a new execution; for a correction it is the
    version it replaces, and ``quantity_delta`` is the signed-share
    difference to apply (0 when only the price was corrected).
    """

    execution: Execution
    replaces: Execution | None = None

    @property
    def is_correction(self) -> bool:
        return self.replaces is not None

    @property
    def quantity_delta(self) -> int:
        old = 0 if self.replaces is None else self.replaces.signed_shares
        return self.execution.signed_shares - old


@attrs.frozen(kw_only=True)
class CommissionChange:
    """A commission to book: the fill's ``commission`` now, and ``delta`` to add to what was booked.

    ``delta`` equals ``commission`` the first time; a commission report for a
    correction books only the difference. Decimal, account currency.
    """

    execution: Execution
    commission: Decimal
    delta: Decimal


class ExecutionLedger:
    """Every execution and commission seen, so each is applied exactly once.

    Feed it everything: live reports, repeats and the replies to
    ``reqExecutions`` after a reconnect. ``on_execution`` and
    ``on_commission`` return the change to apply, or None when there is
    nothing new. Versions of one execution (corrections) share a base id;
    the highest version wins, for the fill and for its commission.
    """

    def __init__(self) -> None:
        self._current: dict[str, Execution] = {}  # base id -> latest version applied
        self._seen: set[str] = set()  # every execId ever received
        self._reported: dict[str, tuple[int, Decimal]] = {}  # base id -> (version, commission) latest report
        self._booked: dict[str, Decimal] = {}  # base id -> commission booked so far

    def __len__(self) -> int:
        """How many distinct executions (corrections counted once) were applied."""
        return len(self._current)

    def on_execution(self, execution: Execution) -> tuple[ExecutionChange | None, CommissionChange | None]:
        """Record ``execution``; return (its change or None, a commission that was waiting for it or None).

        The change is None when the execId was seen before, or when it is an
        older version of one already corrected (a late original).
        """
        if execution.exec_id in self._seen:
            return None, None
        self._seen.add(execution.exec_id)
        base, version = exec_id_parts(execution.exec_id)
        current = self._current.get(base)
        if current is not None and exec_id_parts(current.exec_id)[1] > version:
            return None, None
        self._current[base] = execution
        return ExecutionChange(execution=execution, replaces=current), self._book(base)

    def on_commission(self, exec_id: str, commission: Decimal | int | str) -> CommissionChange | None:
        """Record the commission reported for ``exec_id``; the change to book, or None.

        None for a repeat, for a report older than one already received for
        the same execution, or while the execution itself has not been seen
        (it is kept, and ``on_execution`` returns it when the execution
        arrives). Raises ``ConfigError`` for an empty execId, a float or a
        negative amount.
        """
        if not exec_id:
            raise ConfigError("a commission report without an execId cannot be matched to a fill")
        amount = to_money(commission, f"commission of {exec_id}")
        if amount < 0:
            raise ConfigError(f"commission {amount} of {exec_id} must not be negative")
        base, version = exec_id_parts(exec_id)
        known = self._reported.get(base)
        if known is not None and known[0] > version:
            return None
        self._reported[base] = (version, amount)
        return self._book(base)

    def _book(self, base: str) -> CommissionChange | None:
        execution, reported = self._current.get(base), self._reported.get(base)
        if execution is None or reported is None:
            return None
        booked = self._booked.get(base, Decimal(0))
        delta = reported[1] - booked
        if delta == 0 and base in self._booked:
            return None
        self._booked[base] = reported[1]
        return CommissionChange(execution=execution, commission=reported[1], delta=delta)

    def executions(self) -> tuple[Execution, ...]:
        """The latest version of every execution applied, in the order first seen."""
        return tuple(self._current.values())

    def net_shares(self) -> int:
        """Signed shares of every applied execution (latest versions only)."""
        return sum(e.signed_shares for e in self._current.values())

    def commission_total(self) -> Decimal:
        """Sum of every commission booked (latest report per execution)."""
        return sum(self._booked.values(), Decimal(0))
