"""Bar feeds: the synthetic generator and the streaming CSV reader."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statebot import FixedHoursCalendar, SessionMachine
from statebot.errors import ConfigError
from statebot.feeds import BarDataError, SyntheticBars, read_bars_csv

UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")
THANKSGIVING_WEEK = dict(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 27))


def test_synthetic_bars_are_reproducible_per_seed() -> None:
    a = list(SyntheticBars(seed=7, **THANKSGIVING_WEEK))
    b = list(SyntheticBars(seed=7, **THANKSGIVING_WEEK))
    c = list(SyntheticBars(seed=8, **THANKSGIVING_WEEK))
    assert a == b and a != c


def test_synthetic_bars_cover_each_session_open_to_close_on_the_real_calendar() -> None:
    bars = list(SyntheticBars(**THANKSGIVING_WEEK))
    days = sorted({b.end.astimezone(NY).date() for b in bars})
    assert dt.date(2026, 11, 26) not in days
    friday = [b for b in bars if b.end.astimezone(NY).date() == dt.date(2026, 11, 27)]
    assert friday[-1].end.astimezone(NY).time() == dt.time(13, 0)
    assert len(friday) == 210  # 09:30 -> 13:00 in one-minute bars
    assert len(bars) == 3 * 390 + 210


def test_synthetic_prices_sit_on_the_tick_grid_and_bars_are_valid() -> None:
    for b in SyntheticBars(**THANKSGIVING_WEEK):
        for p in (b.open, b.high, b.low, b.close):
            assert (p / 0.25).is_integer()
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high


def test_synthetic_last_bar_is_cut_at_an_odd_close() -> None:
    bars = list(SyntheticBars(start=dt.date(2026, 11, 27), end=dt.date(2026, 11, 27), bar_size=dt.timedelta(minutes=8)))
    assert bars[-1].end.astimezone(NY).time() == dt.time(13, 0)
    assert bars[-2].end.astimezone(NY).time() == dt.time(12, 58)


def test_synthetic_bars_on_a_fixed_calendar_drive_the_session_machine() -> None:
    cal = FixedHoursCalendar(open="08:00", close="12:00", tz_name="Europe/London")
    machine = SessionMachine(cal)
    flattens = []
    machine.subscribe(lambda e: flattens.append(e) if e.dest == "FLATTENING" else None)
    for b in SyntheticBars(calendar=cal, bar_size=dt.timedelta(minutes=5), **THANKSGIVING_WEEK):
        machine.advance(b.end)
    assert len(flattens) == 5 and not any(e.late for e in flattens)


def test_synthetic_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="bar_size"):
        SyntheticBars(bar_size=dt.timedelta(0), **THANKSGIVING_WEEK)
    with pytest.raises(ConfigError, match="before start"):
        SyntheticBars(start=dt.date(2026, 11, 27), end=dt.date(2026, 11, 23))


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bars.csv"
    p.write_text(text)
    return p


HEADER = "timestamp,open,high,low,close,volume\n"


def test_start_labelled_rows_end_one_inferred_bar_later(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "".join(f"2026-11-24T09:{m:02d}:00-05:00,100,101,99,100.5,10\n" for m in range(30, 40)))
    bars = list(read_bars_csv(p))
    assert bars[0].end == dt.datetime(2026, 11, 24, 9, 31, tzinfo=NY)
    assert len(bars) == 10


def test_end_labelled_rows_end_at_their_timestamp(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "2026-11-24T14:35:00+00:00,100,101,99,100.5,10\n")
    (bar,) = read_bars_csv(p, bar_label="end")
    assert bar.end == dt.datetime(2026, 11, 24, 14, 35, tzinfo=UTC)


def test_naive_timestamps_need_a_zone(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "2026-11-24 09:30:00,100,101,99,100.5,10\n2026-11-24 09:31:00,100,101,99,100.5,10\n")
    with pytest.raises(BarDataError, match="line 2: .*no UTC offset"):
        list(read_bars_csv(p))
    bars = list(read_bars_csv(p, tz=NY))
    assert bars[0].end == dt.datetime(2026, 11, 24, 9, 31, tzinfo=NY)


def test_a_naive_time_in_the_repeated_dst_hour_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "2026-11-01 01:30:00,100,101,99,100.5,10\n")
    with pytest.raises(BarDataError, match="ambiguous"):
        list(read_bars_csv(p, tz=NY, bar_size=dt.timedelta(minutes=1)))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-11-24T09:32:00-05:00,100,99,101,100,10", "high"),
        ("2026-11-24T09:32:00-05:00,abc,101,99,100,10", "open 'abc' is not a number"),
        ("2026-11-24T09:32:00-05:00,100,101,99,100,-3", "volume"),
        ("2026-11-24T09:32:00-05:00,100,101,99", "expected 6 fields"),
        ("yesterday,100,101,99,100,10", "not ISO-8601"),
        ("2026-11-24T09:30:00-05:00,100,101,99,100,10", "not after the previous"),
    ],
)
def test_a_malformed_row_stops_with_its_line_number(tmp_path: Path, row: str, message: str) -> None:
    good = "2026-11-24T09:30:00-05:00,100,101,99,100,10\n2026-11-24T09:31:00-05:00,100,101,99,100,10\n"
    p = write(tmp_path, HEADER + good + row + "\n")
    with pytest.raises(BarDataError, match=f"line 4: .*{message}"):
        list(read_bars_csv(p))


def test_skip_bad_rows_reports_each_and_goes_on(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "2026-11-24T09:30:00-05:00,100,101,99,100,10\nbad,1,1,1,1,1\n2026-11-24T09:31:00-05:00,100,101,99,100,10\n")
    seen: list[tuple[int, str]] = []
    bars = list(read_bars_csv(p, bar_size=dt.timedelta(minutes=1), skip_bad_rows=True, on_bad_row=lambda n, r: seen.append((n, r))))
    assert len(bars) == 2 and [n for n, _ in seen] == [3]


def test_header_must_name_the_columns(tmp_path: Path) -> None:
    p = write(tmp_path, "time,o,h,l,c,v\n")
    with pytest.raises(BarDataError, match="line 1: header lacks column"):
        list(read_bars_csv(p))


def test_reading_streams_with_memory_flat_in_file_length(tmp_path: Path) -> None:
    """Peak memory for 40,000 rows stays near that for 4,000: bars are not held."""

    def peak(rows: int) -> int:
        p = tmp_path / f"b{rows}.csv"
        start = dt.datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        with p.open("w") as f:
            f.write(HEADER)
            for i in range(rows):
                f.write(f"{(start + dt.timedelta(minutes=i)).isoformat()},100,101,99,100,10\n")
        tracemalloc.start()
        count = sum(1 for _ in read_bars_csv(p))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == rows
        return top

    assert peak(40_000) < 2 * peak(4_000)
