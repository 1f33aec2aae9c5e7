"""Hypothesis strategies for what a bot meets: session starts, gaps in the bar stream, venue faults.

Imports Hypothesis: load it only in tests.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from statebot.venues.sim import FaultPlan

UTC = dt.UTC

SESSION_STARTS: tuple[dt.datetime, ...] = (
    dt.datetime(2026, 11, 24, 19, 40, tzinfo=UTC),  # an ordinary afternoon, 20 minutes before the flatten
    dt.datetime(2026, 11, 25, 20, 30, tzinfo=UTC),  # before Thanksgiving (a holiday follows)
    dt.datetime(2026, 11, 27, 17, 20, tzinfo=UTC),  # the 13:00 ET early close
    dt.datetime(2026, 3, 6, 20, 30, tzinfo=UTC),    # the Friday before the spring DST switch
    dt.datetime(2026, 10, 30, 19, 30, tzinfo=UTC),  # the Friday before the autumn DST switch
    dt.datetime(2026, 11, 23, 14, 20, tzinfo=UTC),  # just before an open
)
"""Instants (UTC) where XNYS sessions are interesting: early closes, holidays, DST switches, opens."""


def starts() -> st.SearchStrategy[dt.datetime]:
    """One of ``SESSION_STARTS``."""
    return st.sampled_from(SESSION_STARTS)


def bar_gaps() -> st.SearchStrategy[int]:
    """Minutes from one bar's end to the next: mostly one bar, sometimes coarse bars, an outage,
    a night or a long weekend (outages over the flatten and the close included)."""
    return st.sampled_from([1, 1, 1, 1, 2, 5, 13, 30, 60, 600, 1000, 3 * 1440])


def fault_plans() -> st.SearchStrategy[FaultPlan]:
    """Venue fault plans: rejects, partial, delayed and duplicated fills, disconnects, slow cancels."""
    return st.builds(
        FaultPlan,
        reject_p=st.sampled_from([0.0, 0.1, 0.3]),
        partial_p=st.sampled_from([0.0, 0.5]),
        delay_p=st.sampled_from([0.0, 0.3]),
        duplicate_p=st.sampled_from([0.0, 0.3]),
        disconnect_p=st.sampled_from([0.0, 0.05]),
        disconnect_bars=st.integers(1, 3),
        cancel_latency_bars=st.integers(0, 2),
    )
