"""Commission models: what one side (an entry or an exit) of a futures trade costs.

Commission is charged per contract per side and scales with quantity: a round
trip of ``q`` contracts costs ``per_side(q)`` twice. Every figure is a Decimal
in the instrument's currency (USD for the built-in futures).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from statebot.errors import ConfigError
from statebot.core.money import non_negative_money


@runtime_checkable
class CommissionModel(Protocol):  # pragma: no mutate block (an interface: mutmut's helpers would join its members)
    """Anything that prices one side of a trade."""

    def per_side(self, symbol: str, quantity: int, *, month_volume: int = 0) -> Decimal:
        """Commission for one side of ``abs(quantity)`` contracts of ``symbol``.

        ``month_volume`` is the contracts already traded this calendar month
        (for tiered brokers). Raises ``ConfigError`` for an unknown symbol.
        """
        ...


def _contracts(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ConfigError(f"quantity {quantity!r} must be an integer number of contracts")
    return abs(quantity)


@attrs.frozen
class FixedCommission:
    """A flat fee per contract per side; the seed's $2.50 round trip is ``FixedCommission("1.25")``."""

    per_contract_per_side: Decimal = attrs.field(
        default=Decimal("1.25"), converter=lambda v: non_negative_money(v, "per_contract_per_side")
    )

    def per_side(self, symbol: str, quantity: int, *, month_volume: int = 0) -> Decimal:
        return self.per_contract_per_side * _contracts(quantity)


def _tiers(value: object) -> tuple[tuple[int, Decimal], ...]:
    try:
        tiers = tuple((int(lo), non_negative_money(fee, "broker tier fee")) for lo, fee in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"broker tiers {value!r} must be (from_contracts, fee) pairs") from None
    if not tiers or tiers[0][0] != 0 or any(a[0] >= b[0] for a, b in zip(tiers, tiers[1:])):
        raise ConfigError(f"broker tiers {value!r} must start at 0 contracts and increase")
    return tiers


@attrs.frozen(kw_only=True)
class FeeSchedule:
    """One product's fees per contract per side: tiered broker fee + exchange fee + regulatory fee.

    ``broker_tiers`` are ``(from_monthly_contracts, fee)`` pairs starting at 0.
    """

    broker_tiers: tuple[tuple[int, Decimal], ...] = attrs.field(converter=_tiers)
    exchange_fee: Decimal = attrs.field(converter=lambda v: non_negative_money(v, "exchange_fee"))
    regulatory_fee: Decimal = attrs.field(default=Decimal("0.02"), converter=lambda v: non_negative_money(v, "regulatory_fee"))

    def broker_fee(self, month_volume: int) -> Decimal:
        fee = self.broker_tiers[0][1]
        for lo, tier_fee in self.broker_tiers:
            if month_volume >= lo:
                fee = tier_fee
        return fee

    def per_contract(self, month_volume: int = 0) -> Decimal:
        return self.broker_fee(month_volume) + self.exchange_fee + self.regulatory_fee


_MICRO_TIERS = ((0, "0.25"), (1001, "0.20"), (10001, "0.15"), (20001, "0.10"))
_STANDARD_TIERS = ((0, "0.85"), (1001, "0.65"), (10001, "0.45"), (20001, "0.25"))

# Sources, read 2026-11-29 in stored copies of Interactive Brokers' public pages (the copies carry no
# publication date of their own; tests/core/test_costs_fee_tables.py pins every figure to them):
# - broker tiers: "Commissions Futures" (interactivebrokers.com/en/pricing/commissions-futures.php and
#   the "Cost-Plus Tiered ... CME Group E-mini and E-micro Products" table): standard USD 0.85 / 0.65 /
#   0.45 / 0.25 and micro (MES, MNQ, M2K, MYM) USD 0.25 / 0.20 / 0.15 / 0.10 for <= 1,000 /
#   1,001-10,000 / 10,001-20,000 / > 20,000 contracts a month;
# - exchange fees: "Fees Charged to Offset CME (Electronic-Globex) Exchange and Regulatory Fees Paid by
#   IBKR" (interactivebrokers.com/en/accounts/fees/CME.php, two copies agree), non-member: Micro E-Mini
#   Futures MES, MNQ, M2K USD 0.35; E-mini Equity Futures NQ, RTY and E-Mini S&P ES USD 1.38;
# - regulatory (NFA) fee recovery USD 0.02 (the NYMEX and Small Exchange fee pages of the same site).
# MYM and YM trade on CBOT, whose fee page was not among the stored copies: their exchange fees are
# this table's earlier assumption (same classes as the CME micros and e-minis), not a cited figure.
IBKR_FUTURES_FEES: Mapping[str, FeeSchedule] = {
    "MES": FeeSchedule(broker_tiers=_MICRO_TIERS, exchange_fee="0.35"),
    "MNQ": FeeSchedule(broker_tiers=_MICRO_TIERS, exchange_fee="0.35"),
    "ES": FeeSchedule(broker_tiers=_STANDARD_TIERS, exchange_fee="1.38"),
    "NQ": FeeSchedule(broker_tiers=_STANDARD_TIERS, exchange_fee="1.38"),
    "M2K": FeeSchedule(broker_tiers=_MICRO_TIERS, exchange_fee="0.35"),
    "MYM": FeeSchedule(broker_tiers=_MICRO_TIERS, exchange_fee="0.30"),
    "RTY": FeeSchedule(broker_tiers=_STANDARD_TIERS, exchange_fee="1.38"),
    "YM": FeeSchedule(broker_tiers=_STANDARD_TIERS, exchange_fee="1.38"),
}
"""Interactive Brokers style tiered futures fees per contract per side (USD).
MES at the first tier: 0.25 broker + 0.35 exchange + 0.02 regulatory = 0.62.
Exchange fees change: override them in configuration for real accounts."""


@attrs.frozen
class IBKRFuturesCommission:
    """Broker fee by monthly volume tier + exchange fee + regulatory fee, per contract per side."""

    schedules: Mapping[str, FeeSchedule] = attrs.field(factory=lambda: dict(IBKR_FUTURES_FEES))

    def per_side(self, symbol: str, quantity: int, *, month_volume: int = 0) -> Decimal:
        schedule = self.schedules.get(symbol)
        if schedule is None:
            raise ConfigError(f"no IBKR fee schedule for symbol {symbol!r}; known: {', '.join(sorted(self.schedules))}")
        if month_volume < 0:
            raise ConfigError(f"month_volume {month_volume} must not be negative")
        return schedule.per_contract(month_volume) * _contracts(quantity)
