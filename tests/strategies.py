"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")

# 2026 holds both DST switches (03-08, 11-01), Thanksgiving (11-26) and early closes (11-27, 12-24).
YEAR_START = dt.datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = dt.datetime(2026, 12, 20, tzinfo=UTC)

interesting_instants = st.sampled_from(
    [
        dt.datetime(2026, 3, 6, 20, 50, tzinfo=UTC),   # Friday before spring-forward
        dt.datetime(2026, 3, 9, 19, 50, tzinfo=UTC),   # Monday after: close is 20:00 UTC
        dt.datetime(2026, 10, 30, 19, 50, tzinfo=UTC),  # Friday before fall-back
        dt.datetime(2026, 11, 2, 20, 50, tzinfo=UTC),  # Monday after: close is 21:00 UTC
        dt.datetime(2026, 11, 25, 20, 50, tzinfo=UTC),  # the day before Thanksgiving
        dt.datetime(2026, 11, 27, 17, 50, tzinfo=UTC),  # early close 13:00 ET
        dt.datetime(2026, 12, 24, 17, 50, tzinfo=UTC),  # Christmas Eve early close
    ]
)

start_instants = st.one_of(
    interesting_instants,
    st.datetimes(min_value=YEAR_START.replace(tzinfo=None), max_value=YEAR_END.replace(tzinfo=None)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
)

time_steps = st.one_of(
    st.sampled_from([dt.timedelta(seconds=5), dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(hours=1)]),
    st.integers(min_value=1, max_value=10**6).map(lambda us: dt.timedelta(microseconds=us)),
    st.integers(min_value=1, max_value=4 * 3600).map(lambda s: dt.timedelta(seconds=s)),
    st.integers(min_value=1, max_value=3 * 86400).map(lambda s: dt.timedelta(seconds=s)),
)

# Bars and times may arrive in any zone; the machines must not care.
zones = st.sampled_from([UTC, NY, ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/London")])


# -- sizing ------------------------------------------------------------------
from decimal import Decimal  # noqa: E402

money = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("10000000"), places=2, allow_nan=False, allow_infinity=False)
"""USD amounts with cents, including zero and negatives."""
tick_values = st.sampled_from([Decimal("1.25"), Decimal("12.50"), Decimal("0.50"), Decimal("5.00"), Decimal("0.01")])
"""Tick values of the built-in futures (MES, ES, MNQ, NQ) and an extreme one."""
risk_fractions = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1"), places=4)

# -- event payloads ----------------------------------------------------------

payload_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12), st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
    st.datetimes(timezones=zones), st.dates(),
)
"""Values an event payload may hold (no floats: they are refused)."""
payloads = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.recursive(payload_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8),
    max_size=5,
)

# --- learning: closed trades ---------------------------------------------------

from decimal import Decimal  # noqa: E402,F811

from statebot.core.costs import FixedCommission, IBKRFuturesCommission  # noqa: E402
from statebot.core.learning.outcomes import TradeOutcome  # noqa: E402

TRADE_T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

quantities = st.integers(min_value=-50, max_value=50).filter(bool)
commission_models = st.one_of(
    st.builds(FixedCommission, st.decimals(min_value=0, max_value=10, places=2, allow_nan=False, allow_infinity=False)),
    st.just(IBKRFuturesCommission()),
)
slippage_ticks = st.decimals(min_value=-4, max_value=8, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def trade_outcomes(draw, strategy: st.SearchStrategy[str] = st.sampled_from(["orb", "vwap"])) -> TradeOutcome:  # type: ignore[no-untyped-def]
    """Valid MES round trips: whole-tick moves, any side and size, real commission models."""
    entry_ticks = draw(st.integers(min_value=16000, max_value=28000))
    moved = draw(st.integers(min_value=-60, max_value=60))
    held = draw(st.integers(min_value=0, max_value=4 * 3600))
    entry = TRADE_T0 + dt.timedelta(seconds=draw(st.integers(min_value=0, max_value=200 * 86400)))
    return TradeOutcome.from_prices(
        strategy=draw(strategy), symbol="MES", quantity=draw(quantities),
        entry_time=entry, exit_time=entry + dt.timedelta(seconds=held),
        entry_price=Decimal(entry_ticks) * Decimal("0.25"), exit_price=Decimal(entry_ticks + moved) * Decimal("0.25"),
        tick_size=Decimal("0.25"), tick_value=Decimal("1.25"), commission_model=draw(commission_models),
        slippage_ticks=draw(slippage_ticks), expected_slippage_ticks=draw(slippage_ticks),
        spread_ticks=draw(st.integers(min_value=0, max_value=4)),
    )


# --- IB real-time bars (statebot.venues.ibkr.bars) -------------------------------------------
bar_minutes = st.sampled_from([1, 2, 3, 5, 15, 30, 60])


@st.composite
def realtime_bar_streams(draw: st.DrawFn, max_bars: int = 300) -> list:  # type: ignore[type-arg]
    """Strictly increasing 5-second bars (starts on IB's grid, in any zone), with gaps of any length.

    Prices are multiples of a 0.25 tick, so sums and extremes are exact.
    """
    from statebot.venues.ibkr.bars import RealTimeBar

    start = draw(st.integers(min_value=int(YEAR_START.timestamp()) // 5, max_value=int(YEAR_END.timestamp()) // 5)) * 5
    gaps = draw(st.lists(st.one_of(st.just(1), st.just(1), st.just(1), st.integers(min_value=2, max_value=800)), max_size=max_bars))
    zone = draw(zones)
    out = []
    t = start
    for gap in [0, *gaps]:
        t += gap * 5
        ticks = draw(st.lists(st.integers(min_value=19_000, max_value=21_000), min_size=4, max_size=4))
        out.append(
            RealTimeBar(
                start=dt.datetime.fromtimestamp(t, UTC).astimezone(zone),
                open=ticks[0] * 0.25,
                high=max(ticks) * 0.25,
                low=min(ticks) * 0.25,
                close=ticks[1] * 0.25,
                volume=draw(st.integers(min_value=0, max_value=500)),
            )
        )
    return out


# persisted state ---------------------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=12))
"""JSON values a state file may hold: no floats (money and ticks are decimal strings)."""


def json_states(max_leaves: int = 30) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    """Float-free JSON objects, nested lists and objects included, any text (escapes, non-ASCII)."""
    tree = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=max_leaves)
    return st.dictionaries(st.text(max_size=8), tree, max_size=5)


# -- event log: any storable value, in odd zones ---------------------------------

odd_zones = st.one_of(
    st.sampled_from([
        UTC, NY, ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/London"),
        ZoneInfo("Asia/Kathmandu"),       # +05:45
        ZoneInfo("America/St_Johns"),     # -03:30, with DST
        ZoneInfo("Australia/Lord_Howe"),  # a 30-minute DST shift
        ZoneInfo("Pacific/Chatham"),      # +12:45 / +13:45
        ZoneInfo("Pacific/Kiritimati"),   # +14:00
    ]),
    # fixed offsets down to the second, as old local mean times have (sub-second offsets exist in no
    # zone, and Python 3.11's fromisoformat reads "+00:00:00.000001" back as UTC)
    st.integers(min_value=-86399, max_value=86399).map(lambda s: dt.timezone(dt.timedelta(seconds=s))),
)
"""Zones whose offsets are not whole hours, shift by 30 minutes, or are fixed at any value."""

_dst_folds = st.sampled_from([
    dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY),           # the first 01:30 (EDT)
    dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY),   # the second 01:30 (EST)
    dt.datetime(2026, 3, 8, 2, 30, tzinfo=NY),            # in the spring-forward gap
    dt.datetime(2026, 10, 25, 1, 15, fold=1, tzinfo=ZoneInfo("Europe/London")),
    dt.datetime(2026, 4, 5, 1, 45, fold=1, tzinfo=ZoneInfo("Australia/Lord_Howe")),
])
aware_datetimes = st.one_of(
    _dst_folds,
    st.builds(lambda d, fold: d.replace(fold=fold), st.datetimes(timezones=odd_zones), st.integers(min_value=0, max_value=1)),
)
"""Aware datetimes in odd zones, any year, either fold, DST gaps and overlaps included."""

storable_decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("-0"), Decimal("0E-7"), Decimal("-0E+3"), Decimal("1E+3"), Decimal("1.000"),
                     Decimal("-6000.25"), Decimal("123456789012345678901234567890.123456789")]),
)
"""Finite Decimals of any exponent, negative zero included."""

storable_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), storable_decimals, aware_datetimes, st.dates(),
)
"""Every kind of leaf value an event payload may hold (unicode text of any kind but lone surrogates)."""

storable_payloads = st.dictionaries(
    st.text(max_size=10),
    st.recursive(
        storable_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=10,
    ),
    max_size=6,
)
"""Event payloads with nested mappings, lists and tuples of any storable value."""
