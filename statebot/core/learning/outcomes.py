"""A closed trade, net of costs: what the learning loop learns from.

``TradeOutcome`` carries the figures of one round trip. Quantity is SIGNED, as
everywhere in statebot: long > 0, short < 0; ``side`` is derived from its sign
so the two can never disagree. Money is Decimal in the instrument's currency
(USD for the built-in futures); ticks are Decimal (a partial-fill average may be
fractional); positive slippage is adverse (the fill was worse than the quote).

``net_pnl_usd`` is ``gross_pnl_usd - commission_usd`` by construction (it is
computed, never stored), and ``win`` is ``net_pnl_usd > 0``: a trade that only
covers its commission is not a win. Build outcomes with
``TradeOutcome.from_prices`` so gross P&L comes from ticks x tick value x
quantity and commission from a ``CommissionModel`` for both sides.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from statebot.core.costs import CommissionModel
from statebot.errors import InvalidOutcome

if TYPE_CHECKING:
    from statebot.core.instruments import InstrumentSpec
    from statebot.core.fsm.position import ClosedTrade

LONG = "long"
SHORT = "short"


def _text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidOutcome(f"{attribute.name} {value!r} must be a non-empty string")


def _quantity(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise InvalidOutcome(f"quantity {value!r} must be a non-zero int (long > 0, short < 0)")


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.datetime):
        raise InvalidOutcome(f"{attribute.name} {value!r} is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidOutcome(f"{attribute.name} {value.isoformat()} is naive; times must be timezone-aware")


def _decimal(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal):
        raise InvalidOutcome(f"{attribute.name} {value!r} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidOutcome(f"{attribute.name} {value!r} must be finite")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if value <= 0:
        raise InvalidOutcome(f"{attribute.name} {value} must be positive")


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if value < 0:
        raise InvalidOutcome(f"{attribute.name} {value} must not be negative")


def to_ticks(value: object, what: str = "ticks") -> Decimal:
    """``value`` (int or Decimal) as a finite Decimal number of ticks; floats refused."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise InvalidOutcome(f"{what} {value!r} must be an int or Decimal number of ticks, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise InvalidOutcome(f"{what} {value!r} must be finite")
    return result


def _ticks_field(name: str, *, non_negative: bool = False) -> Any:
    validators = [_non_negative] if non_negative else []
    return attrs.field(converter=lambda v: to_ticks(v, name), validator=validators)


_new = object.__new__
_set = object.__setattr__


def _machine_checked(f: dict[str, Any]) -> bool:
    """What the validators of ``TradeOutcome`` would accept, for the fields of a position
    machine's ``ClosedTrade``: its strategy, symbol and quantity were checked when its orders
    were, its times are fills' aware times and its money exact Decimals; what is left are
    the signs (a price at or below zero on an instrument that allows one, a negative
    commission), the order of the times and non-finite figures."""
    entry, exit_ = f["entry_time"], f["exit_time"]
    strategy, symbol, qty = f["strategy"], f["symbol"], f["quantity"]
    trade_id = f["trade_id"]
    return (
        strategy.__class__ is str and strategy.strip() != "" and symbol.__class__ is str and symbol.strip() != ""
        and qty.__class__ is int and qty != 0
        and entry.__class__ is dt.datetime and exit_.__class__ is dt.datetime
        and entry.utcoffset() is not None and exit_.utcoffset() is not None and exit_ >= entry
        and all(f[k].__class__ is Decimal and f[k].is_finite() for k in _MONEY)
        and f["entry_price"] > 0 and f["exit_price"] > 0 and f["commission_usd"] >= 0 and f["spread_ticks"] >= 0
        and (trade_id is None or (trade_id.__class__ is str and trade_id.strip() != ""))
    )


_MONEY = ("entry_price", "exit_price", "gross_pnl_usd", "commission_usd")


@attrs.frozen(kw_only=True)
class TradeOutcome:
    """One closed round trip of ``abs(quantity)`` contracts.

    Raises ``InvalidOutcome`` (a ``ValueError``) naming the field for: an empty
    strategy or symbol, a zero or non-int quantity, a naive time, an exit before
    the entry, a non-Decimal or non-finite money figure or price, a non-positive
    price, a negative commission or spread, float ticks.
    """

    strategy: str = attrs.field(validator=_text)
    symbol: str = attrs.field(validator=_text)
    quantity: int = attrs.field(validator=_quantity)
    entry_time: dt.datetime = attrs.field(validator=_aware)
    exit_time: dt.datetime = attrs.field(validator=_aware)
    entry_price: Decimal = attrs.field(validator=[_decimal, _positive])
    exit_price: Decimal = attrs.field(validator=[_decimal, _positive])
    gross_pnl_usd: Decimal = attrs.field(validator=_decimal)
    commission_usd: Decimal = attrs.field(validator=[_decimal, _non_negative])
    slippage_ticks: Decimal = _ticks_field("slippage_ticks")
    expected_slippage_ticks: Decimal = _ticks_field("expected_slippage_ticks")
    spread_ticks: Decimal = _ticks_field("spread_ticks", non_negative=True)
    trade_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(_text))

    def __attrs_post_init__(self) -> None:
        if self.exit_time < self.entry_time:
            raise InvalidOutcome(
                f"exit_time {self.exit_time.isoformat()} is before entry_time {self.entry_time.isoformat()}"
            )

    @property
    def side(self) -> str:
        """``"long"`` for a positive quantity, ``"short"`` for a negative one."""
        return LONG if self.quantity > 0 else SHORT

    @property
    def contracts(self) -> int:
        """``abs(quantity)``."""
        return abs(self.quantity)

    @property
    def net_pnl_usd(self) -> Decimal:
        """Gross P&L minus the round trip's commission."""
        return self.gross_pnl_usd - self.commission_usd

    @property
    def actual_pnl_usd(self) -> Decimal:
        """The seed's name for ``net_pnl_usd`` (P&L after commission)."""
        return self.net_pnl_usd

    @property
    def win(self) -> bool:
        """True only when the trade made money after commission."""
        return self.net_pnl_usd > 0

    @property
    def slippage_error_ticks(self) -> Decimal:
        """Realized minus expected slippage: positive when fills were worse than modelled."""
        return self.slippage_ticks - self.expected_slippage_ticks

    @classmethod
    def from_prices(
        cls,
        *,
        strategy: str,
        symbol: str,
        quantity: int,
        entry_time: dt.datetime,
        exit_time: dt.datetime,
        entry_price: Decimal,
        exit_price: Decimal,
        tick_size: Decimal,
        tick_value: Decimal,
        commission_model: CommissionModel,
        slippage_ticks: Decimal | int,
        expected_slippage_ticks: Decimal | int,
        spread_ticks: Decimal | int = 0,
        month_volume: int = 0,
        trade_id: str | None = None,
    ) -> TradeOutcome:
        """The outcome of a round trip at these fill prices, with costs computed.

        Gross P&L is ``price ticks moved x tick_value x quantity`` (a short gains
        when the price falls); the move must be a whole number of ticks.
        Commission is ``2 x commission_model.per_side(symbol, quantity,
        month_volume=month_volume)``: both sides at the same monthly tier.
        Raises ``InvalidOutcome`` for bad figures and ``ConfigError`` from the
        commission model (unknown symbol).
        """
        for name, value in (("entry_price", entry_price), ("exit_price", exit_price), ("tick_size", tick_size), ("tick_value", tick_value)):
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise InvalidOutcome(f"{name} {value!r} must be a positive finite Decimal")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
            raise InvalidOutcome(f"quantity {quantity!r} must be a non-zero int (long > 0, short < 0)")
        moved = (exit_price - entry_price) / tick_size
        if moved != moved.to_integral_value():
            raise InvalidOutcome(
                f"price move {exit_price} - {entry_price} is not a whole number of ticks of {tick_size}"
            )
        gross = moved.to_integral_value() * tick_value * quantity
        commission = commission_model.per_side(symbol, quantity, month_volume=month_volume) * 2
        return cls(
            strategy=strategy, symbol=symbol, quantity=quantity, entry_time=entry_time, exit_time=exit_time,
            entry_price=entry_price, exit_price=exit_price, gross_pnl_usd=gross, commission_usd=commission,
            slippage_ticks=to_ticks(slippage_ticks, "slippage_ticks"),
            expected_slippage_ticks=to_ticks(expected_slippage_ticks, "expected_slippage_ticks"),
            spread_ticks=to_ticks(spread_ticks, "spread_ticks"), trade_id=trade_id,
        )

    @classmethod
    def from_closed_trade(
        cls,
        closed: ClosedTrade,
        instrument: InstrumentSpec,
        *,
        slippage_ticks: Decimal | int,
        expected_slippage_ticks: Decimal | int,
        spread_ticks: Decimal | int = 0,
        trade_id: str | None = None,
    ) -> TradeOutcome:
        """The outcome of a position machine's ``ClosedTrade``: its exact gross P&L and
        the commission its fills actually paid; prices are the average fill ticks x
        ``instrument.tick_size``. Slippage comes from the caller (it knows the
        intended prices). Raises ``InvalidOutcome`` when the symbols differ.
        """
        if closed.symbol != instrument.symbol:
            raise InvalidOutcome(f"closed trade symbol {closed.symbol!r} is not the instrument's {instrument.symbol!r}")
        fields: dict[str, Any] = {
            "strategy": closed.strategy, "symbol": closed.symbol, "quantity": closed.qty,
            "entry_time": closed.entry_time, "exit_time": closed.exit_time,
            "entry_price": closed.avg_entry_ticks * instrument.tick_size,
            "exit_price": closed.avg_exit_ticks * instrument.tick_size,
            "gross_pnl_usd": closed.gross_pnl, "commission_usd": closed.commission,
            "slippage_ticks": to_ticks(slippage_ticks, "slippage_ticks"),
            "expected_slippage_ticks": to_ticks(expected_slippage_ticks, "expected_slippage_ticks"),
            "spread_ticks": to_ticks(spread_ticks, "spread_ticks"), "trade_id": trade_id,
        }
        if _machine_checked(fields):
            outcome = _new(cls)
            for name, value in fields.items():
                _set(outcome, name, value)
            return outcome
        return cls(**fields)  # something the machine does not promise: the validators name it

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: Decimals as strings, times as ISO-8601 with offset,
        plus the derived ``side``, ``net_pnl_usd`` and ``win`` for readers."""
        return {
            "strategy": self.strategy,
            "symbol": self.symbol,
            "quantity": self.quantity,
            "side": self.side,
            "entry_time": self.entry_time.isoformat(),
            "exit_time": self.exit_time.isoformat(),
            "entry_price": str(self.entry_price),
            "exit_price": str(self.exit_price),
            "gross_pnl_usd": str(self.gross_pnl_usd),
            "commission_usd": str(self.commission_usd),
            "net_pnl_usd": str(self.net_pnl_usd),
            "win": self.win,
            "slippage_ticks": str(self.slippage_ticks),
            "expected_slippage_ticks": str(self.expected_slippage_ticks),
            "spread_ticks": str(self.spread_ticks),
            "trade_id": self.trade_id,
        }

    def event_payload(self) -> dict[str, Any]:
        """The payload of a ``TRADE_CLOSED`` event: the keys the event log requires
        (``qty``, ``gross_pnl``, ``commission``, ``net_pnl``, ``slippage_ticks``,
        ``slippage_expected_ticks``; USD and ticks as Decimals) plus the rest of the trade."""
        return {
            "strategy": self.strategy, "symbol": self.symbol, "qty": self.quantity, "side": self.side,
            "gross_pnl": self.gross_pnl_usd, "commission": self.commission_usd, "net_pnl": self.net_pnl_usd,
            "win": self.win, "slippage_ticks": self.slippage_ticks, "slippage_expected_ticks": self.expected_slippage_ticks,
            "spread_ticks": self.spread_ticks, "entry_time": self.entry_time, "exit_time": self.exit_time,
            "entry_price": self.entry_price, "exit_price": self.exit_price, "trade_id": self.trade_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TradeOutcome:
        """The inverse of ``to_dict`` (derived keys are ignored). Raises ``InvalidOutcome``."""
        try:
            return cls(
                strategy=data["strategy"],
                symbol=data["symbol"],
                quantity=data["quantity"],
                entry_time=dt.datetime.fromisoformat(data["entry_time"]),
                exit_time=dt.datetime.fromisoformat(data["exit_time"]),
                entry_price=Decimal(data["entry_price"]),
                exit_price=Decimal(data["exit_price"]),
                gross_pnl_usd=Decimal(data["gross_pnl_usd"]),
                commission_usd=Decimal(data["commission_usd"]),
                slippage_ticks=Decimal(data["slippage_ticks"]),
                expected_slippage_ticks=Decimal(data["expected_slippage_ticks"]),
                spread_ticks=Decimal(data["spread_ticks"]),
                trade_id=data.get("trade_id"),
            )
        except (KeyError, TypeError, ArithmeticError, ValueError) as exc:
            if isinstance(exc, InvalidOutcome):
                raise
            raise InvalidOutcome(f"trade outcome {data!r} is malformed: {exc!r}") from None
