"""Each IB execution and its commission applied exactly once, whatever IB repeats or corrects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.venues.ibkr.executions import Execution, ExecutionLedger, exec_id_parts
from statebot.errors import ConfigError

T = dt.datetime(2026, 11, 24, 15, 0, 5, tzinfo=dt.timezone.utc)


def ex(exec_id: str, side: str = "BOT", shares: int = 1, price: str = "5000.25") -> Execution:
    return Execution(exec_id=exec_id, order_id=4, perm_id=900000001, side=side, shares=shares, price=Decimal(price), time=T, order_ref="entry:s1")


def test_exec_id_parts_split_off_the_correction_version() -> None:
    assert exec_id_parts("0000e1.6575c1b6.01.02") == ("0000e1.6575c1b6.01", 2)
    assert exec_id_parts("abc") == ("abc", 0)


def test_a_new_execution_is_applied_with_its_signed_quantity() -> None:
    change, _ = ExecutionLedger().on_execution(ex("e.01.01", side="SLD", shares=2))
    assert change is not None and (change.quantity_delta, change.is_correction) == (-2, False)


@pytest.mark.invariant("an execution repeated by IB (same execId) is applied once", machine="position")
def test_a_repeated_exec_id_is_applied_once() -> None:
    ledger = ExecutionLedger()
    assert ledger.on_execution(ex("e.01.01"))[0] is not None
    assert ledger.on_execution(ex("e.01.01")) == (None, None)
    assert ledger.net_shares() == 1


@pytest.mark.invariant("an execution correction replaces the fill it corrects instead of adding to it", machine="position")
def test_a_correction_replaces_the_execution_it_corrects() -> None:
    ledger = ExecutionLedger()
    ledger.on_execution(ex("e.01.01", price="5000.25"))
    change, _ = ledger.on_execution(ex("e.01.02", price="5000.50"))
    assert change is not None and change.is_correction
    assert change.quantity_delta == 0
    assert change.replaces is not None and change.replaces.price == Decimal("5000.25")
    assert (ledger.net_shares(), len(ledger)) == (1, 1)


def test_the_original_arriving_after_its_correction_is_ignored() -> None:
    ledger = ExecutionLedger()
    ledger.on_execution(ex("e.01.02", price="5000.50"))
    assert ledger.on_execution(ex("e.01.01", price="5000.25")) == (None, None)
    assert ledger.net_shares() == 1


def test_a_commission_after_its_execution_is_booked_once() -> None:
    ledger = ExecutionLedger()
    ledger.on_execution(ex("e.01.01"))
    booked = ledger.on_commission("e.01.01", Decimal("0.62"))
    assert booked is not None and (booked.commission, booked.delta) == (Decimal("0.62"), Decimal("0.62"))
    assert ledger.on_commission("e.01.01", Decimal("0.62")) is None
    assert ledger.commission_total() == Decimal("0.62")


def test_a_commission_before_its_execution_waits_for_it() -> None:
    ledger = ExecutionLedger()
    assert ledger.on_commission("e.01.01", "0.62") is None
    _, booked = ledger.on_execution(ex("e.01.01"))
    assert booked is not None and booked.delta == Decimal("0.62")


def test_a_corrected_commission_books_only_the_difference() -> None:
    ledger = ExecutionLedger()
    ledger.on_execution(ex("e.01.01"))
    ledger.on_commission("e.01.01", "0.62")
    ledger.on_execution(ex("e.01.02"))
    booked = ledger.on_commission("e.01.02", "0.85")
    assert booked is not None and booked.delta == Decimal("0.23")
    assert ledger.commission_total() == Decimal("0.85")


def test_a_float_or_negative_commission_is_a_config_error() -> None:
    ledger = ExecutionLedger()
    with pytest.raises(ConfigError):
        ledger.on_commission("e.01.01", 0.62)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ledger.on_commission("e.01.01", "-1")


def test_an_execution_needs_an_id_positive_whole_shares_a_known_side_and_an_aware_time() -> None:
    with pytest.raises(ConfigError):
        ex("")
    with pytest.raises(ConfigError):
        ex("e.01.01", shares=0)
    with pytest.raises(ConfigError):
        ex("e.01.01", side="BUY")
    with pytest.raises(Exception, match="naive"):
        Execution(exec_id="e.01.01", order_id=1, perm_id=1, side="BOT", shares=1, price=Decimal(1), time=T.replace(tzinfo=None))


# ----------------------------------------------------------------------------- property


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[tuple[str, object]], int, Decimal]:
    """Fills with 1..3 versions each; every version may arrive 0..2 times, the final one at least once;
    commission reports per version likewise; everything in any order. Returns the stream and the truth."""
    stream: list[tuple[str, object]] = []
    net, fees = 0, Decimal(0)
    for n in range(draw(st.integers(min_value=0, max_value=6))):
        versions = draw(st.integers(min_value=1, max_value=3))
        side = draw(st.sampled_from(["BOT", "SLD"]))
        for v in range(1, versions + 1):
            final = v == versions
            shares = draw(st.integers(min_value=1, max_value=5))
            fee = Decimal(draw(st.integers(min_value=0, max_value=500))) / 100
            exec_id = f"0000e{n:03x}.6575c1b6.01.{v:02d}"
            for _ in range(draw(st.integers(min_value=1 if final else 0, max_value=2))):
                stream.append(("exec", ex(exec_id, side=side, shares=shares)))
            for _ in range(draw(st.integers(min_value=1 if final else 0, max_value=2))):
                stream.append(("fee", (exec_id, fee)))
            if final:
                net += shares if side == "BOT" else -shares
                fees += fee
    return draw(st.permutations(stream)), net, fees


@given(deliveries())
def test_any_mix_of_repeats_corrections_and_late_commissions_applies_each_fill_once(case: tuple[list[tuple[str, object]], int, Decimal]) -> None:
    """Summing the returned quantity and commission deltas gives the final versions' shares and
    commissions, in any delivery order; delivering everything again changes nothing."""
    stream, net, fees = case
    ledger = ExecutionLedger()
    shares, booked = 0, Decimal(0)
    for _ in range(2):
        for kind, item in stream:
            if kind == "exec":
                change, fee = ledger.on_execution(item)  # type: ignore[arg-type]
                shares += change.quantity_delta if change else 0
                booked += fee.delta if fee else 0
            else:
                fee = ledger.on_commission(*item)  # type: ignore[misc]
                booked += fee.delta if fee else 0
    assert (shares, ledger.net_shares()) == (net, net)
    assert booked == fees == ledger.commission_total()
