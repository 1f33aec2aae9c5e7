"""Risk-based position sizing: how many contracts a stop distance allows.

    budget    = min(max risk per trade for the tier, equity x equity_risk_fraction)
    contracts = floor(budget / (stop_ticks x tick_value)), capped by max_contracts and cap

So the money at risk if the stop is hit (contracts x stop_ticks x tick_value,
before slippage and commission) never exceeds the budget. Pure and exact:
Decimal money, integer ticks and contracts, no floats.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from statebot.errors import ConfigError, SizingError
from statebot.core.money import to_money

DEFAULT_EQUITY_RISK_FRACTION = Decimal("0.02")
DEFAULT_MAX_STOP_TICKS = 12

# Why a size is 0 (``SizingResult.reason``).
STOP_TICKS_BELOW_ONE = "stop_ticks_below_one"
STOP_TICKS_ABOVE_MAX = "stop_ticks_above_max"
EQUITY_NOT_POSITIVE = "equity_not_positive"
CAPPED_TO_ZERO = "capped_to_zero"
ONE_CONTRACT_EXCEEDS_BUDGET = "one_contract_exceeds_budget"

# What bound a positive size (``SizingResult.limited_by``).
BY_BUDGET = "budget"
BY_MAX_CONTRACTS = "max_contracts"
BY_CAP = "cap"


@attrs.frozen(kw_only=True)
class SizingResult:
    """The size and why.

    ``contracts`` >= 0 (unsigned: the signal's side gives the sign).
    ``reason`` is None when ``contracts`` > 0, else one of
    ``stop_ticks_below_one``, ``stop_ticks_above_max``,
    ``equity_not_positive``, ``capped_to_zero``,
    ``one_contract_exceeds_budget``. ``limited_by`` names the bound that
    set a positive size (``budget``, ``max_contracts`` or ``cap``).
    ``budget`` and ``risk_per_contract`` are USD (0 when not computed).
    """

    contracts: int
    reason: str | None = None
    limited_by: str | None = None
    budget: Decimal = Decimal(0)
    risk_per_contract: Decimal = Decimal(0)

    @property
    def risk(self) -> Decimal:
        """Money lost if the stop is hit: contracts x stop ticks x tick value."""
        return self.contracts * self.risk_per_contract

    def __bool__(self) -> bool:
        return self.contracts > 0


def _money(value: object, what: str) -> Decimal:
    try:
        return to_money(value, what)
    except ConfigError as exc:
        raise SizingError(str(exc)) from None


def _int(value: object, what: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SizingError(f"{what} {value!r} must be an integer")
    if minimum is not None and value < minimum:
        raise SizingError(f"{what} {value} must be >= {minimum}")
    return value


def compute_position_size(
    equity: Decimal | int | str,
    max_risk_usd: Decimal | int | str,
    stop_ticks: int,
    *,
    tick_value: Decimal | int | str,
    max_contracts: int,
    equity_risk_fraction: Decimal | int | str = DEFAULT_EQUITY_RISK_FRACTION,
    max_stop_ticks: int = DEFAULT_MAX_STOP_TICKS,
    cap: int | None = None,
) -> SizingResult:
    """Contracts for a trade whose stop is ``stop_ticks`` away.

    ``equity`` and ``max_risk_usd`` (the tier's max risk per trade) are USD;
    ``tick_value`` is USD per tick per contract (MES 1.25). ``cap`` is an
    extra upper bound (the throttle's PROBATION cap; None = none).

    Returns 0 contracts with a reason when ``stop_ticks`` < 1 or >
    ``max_stop_ticks``, equity <= 0, ``cap`` is 0, or one contract would
    risk more than the budget. Raises ``SizingError`` for floats, non-integer
    ticks or contracts, a non-positive ``tick_value``, a negative
    ``max_risk_usd``, a fraction outside (0, 1], ``max_contracts`` < 1 or a
    negative ``cap``.
    """
    equity_d = _money(equity, "equity")
    max_risk = _money(max_risk_usd, "max_risk_usd")
    value = _money(tick_value, "tick_value")
    fraction = _money(equity_risk_fraction, "equity_risk_fraction")
    stop = _int(stop_ticks, "stop_ticks")
    limit = _int(max_contracts, "max_contracts", 1)
    max_stop = _int(max_stop_ticks, "max_stop_ticks", 1)
    if cap is not None:
        cap = _int(cap, "cap", 0)
    if value <= 0:
        raise SizingError(f"tick_value {value} must be positive")
    if max_risk < 0:
        raise SizingError(f"max_risk_usd {max_risk} must not be negative")
    if not 0 < fraction <= 1:
        raise SizingError(f"equity_risk_fraction {fraction} must be in (0, 1]")

    if stop < 1:
        return SizingResult(contracts=0, reason=STOP_TICKS_BELOW_ONE)
    if stop > max_stop:
        return SizingResult(contracts=0, reason=STOP_TICKS_ABOVE_MAX)
    if equity_d <= 0:
        return SizingResult(contracts=0, reason=EQUITY_NOT_POSITIVE)
    budget = min(max_risk, equity_d * fraction)
    per_contract = stop * value
    if cap == 0:
        return SizingResult(contracts=0, reason=CAPPED_TO_ZERO, budget=budget, risk_per_contract=per_contract)
    # Decimal integer division is exact: no rounding can push the risk over the budget
    affordable = int(budget // per_contract)
    if affordable < 1:
        return SizingResult(contracts=0, reason=ONE_CONTRACT_EXCEEDS_BUDGET, budget=budget, risk_per_contract=per_contract)
    contracts, limited_by = affordable, BY_BUDGET
    if limit < contracts:
        contracts, limited_by = limit, BY_MAX_CONTRACTS
    if cap is not None and cap < contracts:
        contracts, limited_by = cap, BY_CAP
    return SizingResult(contracts=contracts, limited_by=limited_by, budget=budget, risk_per_contract=per_contract)
