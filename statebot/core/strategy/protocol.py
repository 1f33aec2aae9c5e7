"""What a strategy is to statebot: ``on_bar(bar, ctx) -> Signal | None``.

A strategy sees each completed bar of its instrument with a small
``StrategyContext`` and answers with a ``Signal`` (I want to hold a position
of this side, with this stop) or None (nothing new: keep what you have). The
runner decides the rest, in its fixed order: the gates (the signal's DVS and
EQS), the session (entries only in TRADING before the cut-off), the throttle
and kill switch, sizing (the signal's stop and tier) and the order. A signal
for the side already held is a HOLD; the opposite side means exit first.

Strategies keep their own indicator state; they never place orders, read
the clock or touch files.

``get_strategy(name, **params)`` builds ``"sma-cross"``, ``"orb"`` or any
``"package.module:ClassName"``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from statebot.core.time.clock import Bar, require_aware
from statebot.errors import ConfigError, SignalError
from statebot.core.time.schedule import SessionTimes

LONG = 1
SHORT = -1
FLAT = 0
_SIDES = {"LONG": LONG, "SHORT": SHORT, "FLAT": FLAT, "BUY": LONG, "SELL": SHORT, 1: LONG, -1: SHORT, 0: FLAT}


def _side(value: object) -> int:
    key = value.upper() if isinstance(value, str) else value
    if isinstance(value, bool) or key not in _SIDES:
        raise SignalError(f"signal side {value!r} must be LONG, SHORT or FLAT (or +1 / -1 / 0)")
    return _SIDES[key]


def _ticks(what: str, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise SignalError(f"signal {what} {value!r} must be an integer number of ticks")
    return check


def _slippage(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise SignalError(f"signal expected_slippage_ticks {value!r} must be a Decimal, int or decimal string")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise SignalError(f"signal expected_slippage_ticks {value!r} is not a number") from None
    if not result.is_finite() or result < 0:
        raise SignalError(f"signal expected_slippage_ticks {value!r} must be finite and >= 0")
    return result


@attrs.frozen(kw_only=True)
class Signal:
    """A strategy's wish to hold a position of ``side`` (``LONG`` = +1, ``SHORT`` = -1), or none (``FLAT`` = 0).

    ``FLAT`` closes what the strategy holds through the position machine (an
    exit order, logged like a stop or a reversal); flat already, it changes
    nothing. Its other fields are ignored: ``Signal(side="FLAT")`` is enough
    (``statebot.FLAT``, the position state's name, is the same string).
    ``stop_ticks``: distance from entry to the protective stop, in ticks
    (required for LONG/SHORT: sizing refuses < 1 and > max stop ticks); ``target_ticks``: optional
    profit target distance; ``expected_slippage_ticks``: the strategy's
    slippage estimate (Decimal, >= 0), compared later with the realized one;
    ``tier``: selects the max risk per trade in the sizing config; ``dvs`` /
    ``eqs``: the data validity and execution quality scores (0..1) the gates
    check against ``[gates] dvs_threshold`` / ``eqs_threshold``. The gates are
    fail-closed: a score left at None is unknown, and an entry with an unknown
    score is refused (counted as ``gate_DVS`` / ``gate_EQS``); a strategy that
    has no such measure says so with ``dvs=1, eqs=1``. ``side`` also accepts "LONG", "SHORT", "FLAT", "BUY", "SELL".
    Invalid values raise ``SignalError``.
    """

    side: int = attrs.field(converter=_side)
    stop_ticks: int = attrs.field(default=0, validator=_ticks("stop_ticks"))
    target_ticks: int | None = attrs.field(default=None, validator=_ticks("target_ticks", optional=True))
    expected_slippage_ticks: Decimal = attrs.field(default=Decimal(0), converter=_slippage)
    tier: str = attrs.field(default="default", validator=attrs.validators.instance_of(str))
    dvs: Decimal | float | None = None
    eqs: Decimal | float | None = None
    reason: str = ""

    @property
    def side_name(self) -> str:
        return {LONG: "LONG", SHORT: "SHORT"}.get(self.side, "FLAT")


def _positive_decimal(value: object, what: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ConfigError(f"{what} {value!r} must be a positive Decimal")


@attrs.frozen(kw_only=True)
class StrategyContext:
    """What a strategy may know besides the bar, at the bar's end time ``now`` (aware).

    ``position_qty``: this strategy's signed position in ``symbol``
    (long > 0, short < 0, flat 0) as the position machine has it;
    ``session_state``: PRE_OPEN / TRADING / FLATTENING / CLOSED;
    ``may_enter``: True only when a new entry would be allowed now (TRADING,
    before the entry cut-off); ``session``: the current (or last) session's
    instants (UTC), None before the first; ``tick_size``: the instrument's
    price increment (positive Decimal), for turning prices into ticks.
    A naive ``now`` raises ``BarRejected``; a bad ``tick_size`` ``ConfigError``.
    """

    now: dt.datetime = attrs.field(validator=lambda _, __, v: require_aware(v, "context now"))
    symbol: str
    tick_size: Decimal = attrs.field(validator=lambda _, __, v: _positive_decimal(v, "tick_size"))
    position_qty: int = 0
    session_state: str = "CLOSED"
    may_enter: bool = False
    session: SessionTimes | None = None


@runtime_checkable
class Strategy(Protocol):
    """Anything with a ``name`` and ``on_bar``; see the module docstring."""

    name: str

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Signal | None:
        """React to one completed bar; must not raise for ordinary bars."""
        ...


def price_ticks(price: object, tick_size: Decimal) -> int:
    """``price`` in whole ticks, nearest, halves away from zero: the same rounding as
    ``InstrumentSpec.to_ticks``, so a strategy and the runner agree on every price.
    Floats are read by their shortest repr."""
    value = Decimal(repr(price)) if isinstance(price, float) else Decimal(price)  # type: ignore[arg-type]
    return int((value / tick_size).to_integral_value(rounding=ROUND_HALF_UP))


def _builtins() -> dict[str, type]:
    from statebot.core.strategy.builtin.orb import OpeningRangeBreakout
    from statebot.core.strategy.builtin.sma_cross import SmaCross

    return {"sma-cross": SmaCross, "orb": OpeningRangeBreakout}


BUILTIN_STRATEGIES: tuple[str, ...] = ("orb", "sma-cross")


def _import(module_name: str, search: Sequence[str | os.PathLike[str]]) -> ModuleType:
    """``module_name`` imported with the ``search`` folders first on the import path (for this
    import only): a module beside the user's scenario or in the current folder is found without
    ``PYTHONPATH``, and an installed module of the same name does not shadow it."""
    folders = [os.fspath(f) for f in search]
    if not folders:
        return importlib.import_module(module_name)
    saved = list(sys.path)
    sys.path[:0] = folders
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path[:] = saved


def get_strategy(name: str, /, *, search: Sequence[str | os.PathLike[str]] = (), **params: Any) -> Strategy:
    """A new strategy instance: ``"sma-cross"``, ``"orb"`` or ``"package.module:ClassName"``.

    A module reference is looked up in the ``search`` folders first (in their
    order; the CLI passes a scenario's folder and the current folder), then on
    the ordinary import path. ``params`` go to the constructor (a ``TypeError`` or
    ``ValueError`` it raises becomes ``ConfigError``). Raises ``ConfigError`` for an unknown
    name, a module or class that cannot be found, bad parameters, or an
    object without ``name`` and ``on_bar``. The constructor is called only
    when the reference names a class with an ``on_bar`` method: a function
    (``os:system``) or any other callable is refused before it is called.
    Importing the module runs it, so a reference is code, to be trusted like
    any other code the bot runs.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"strategy name {name!r} must be a non-empty string")
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            module = _import(module_name, search)
        except ImportError as exc:
            where = f" (looked in {', '.join(os.fspath(f) for f in search)} and the import path)" if search else ""
            raise ConfigError(f"strategy {name!r}: cannot import module {module_name!r}{where}: {exc}") from None
        cls = getattr(module, class_name, None)
        if cls is None:
            raise ConfigError(f"strategy {name!r}: module {module_name!r} has no {class_name!r}")
        # nothing a reference names is called before it is known to be a strategy class: a shared
        # scenario saying "os:system" must not run a command
        if not isinstance(cls, type) or not callable(getattr(cls, "on_bar", None)):
            raise ConfigError(f"strategy {name!r}: {module_name}.{class_name} is not a strategy class "
                              "(a class with a 'name' and an 'on_bar(bar, ctx)' method)")
    else:
        cls = _builtins().get(name)
        if cls is None:
            raise ConfigError(f"unknown strategy {name!r}; built in: {', '.join(BUILTIN_STRATEGIES)}, or use 'package.module:ClassName'")
    try:
        strategy = cls(**params)
    except (TypeError, ValueError) as exc:  # the constructor's own refusal of a parameter
        raise ConfigError(f"strategy {name!r}: bad parameters {params!r} ({exc})") from None
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"strategy {name!r}: {cls!r} has no 'name' attribute and 'on_bar(bar, ctx)' method")
    return strategy
