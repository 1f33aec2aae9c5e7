"""The CSV reader given what vendors, spreadsheets and typos produce: rows, or one ``BarDataError`` naming the line."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statebot.errors import StatebotError
from statebot.feeds import BarDataError, read_bars_csv

HEADER = "timestamp,open,high,low,close,volume\n"
ROWS = "".join(f"2026-11-24T09:{m:02d}:00-05:00,100,101,99,100.5,10\n" for m in range(30, 40))
MINUTE = dt.timedelta(minutes=1)


def test_a_gzip_file_named_csv_gz_is_read_transparently(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv.gz"
    p.write_bytes(gzip.compress((HEADER + ROWS).encode()))
    assert len(list(read_bars_csv(p))) == 10


def test_gzip_bytes_under_a_plain_csv_name_are_read_too(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv"
    p.write_bytes(gzip.compress((HEADER + ROWS).encode()))
    assert len(list(read_bars_csv(p))) == 10


def test_a_truncated_gzip_file_is_one_error_naming_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv.gz"
    p.write_bytes(gzip.compress((HEADER + ROWS).encode())[:-12])
    with pytest.raises(BarDataError, match="bars.csv.gz line .*cannot read"):
        list(read_bars_csv(p))


def test_an_undecodable_byte_is_one_error_with_its_line_number(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv"
    lines = (HEADER + ROWS).encode().splitlines(keepends=True)
    lines[6] = lines[6].replace(b",10\n", b",1\xe90\n")
    p.write_bytes(b"".join(lines))
    with pytest.raises(BarDataError, match=r"bars.csv line 7: not UTF-8"):
        list(read_bars_csv(p))


def test_a_utf8_byte_order_mark_before_the_header_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    assert len(list(read_bars_csv(p))) == 10


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00-05:00", "0001-01-01T00:00:00"])
def test_a_year_far_outside_trading_history_is_one_error_with_its_line(tmp_path: Path, stamp: str) -> None:
    p = tmp_path / "bars.csv"
    p.write_text(HEADER + ROWS + f"{stamp},100,101,99,100,10\n")
    with pytest.raises(BarDataError, match=r"line 12: timestamp .* is outside the years"):
        list(read_bars_csv(p, bar_size=MINUTE, tz=ZoneInfo("UTC")))


def test_a_year_9999_row_is_skipped_with_skip_bad_rows(tmp_path: Path) -> None:
    p = tmp_path / "bars.csv"
    p.write_text(HEADER + ROWS + "9999-12-31T23:59:00-05:00,100,101,99,100,10\n")
    seen: list[tuple[int, str]] = []
    bars = list(read_bars_csv(p, skip_bad_rows=True, on_bad_row=lambda n, r: seen.append((n, r))))
    assert len(bars) == 10 and [n for n, _ in seen] == [12]


@pytest.mark.parametrize("volume", ["1_000", "+5", "1e3", "10.0", "٣"])
def test_volume_is_digits_only(tmp_path: Path, volume: str) -> None:
    p = tmp_path / "bars.csv"
    p.write_text(HEADER + ROWS + f"2026-11-24T09:40:00-05:00,100,101,99,100,{volume}\n", encoding="utf-8")
    with pytest.raises(BarDataError, match=r"line 12: volume .* digits only"):
        list(read_bars_csv(p))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=400),
                      st.text(max_size=300).map(lambda t: (HEADER + t).encode("utf-8", "surrogatepass")),
                      st.lists(st.sampled_from(["2026-11-24T09:30:00-05:00", "100", "1e300", "nan", "-1", "", "x",
                                                "9999-12-31", "\"", "\r", "0"]), max_size=40)
                      .map(lambda parts: (HEADER + ",".join(parts)).encode())))
def test_any_bytes_give_rows_or_one_statebot_error(tmp_path: Path, data: bytes) -> None:
    """Whatever the file holds, reading it yields bars or raises one ``StatebotError``; never another exception."""
    p = tmp_path / "fuzz.csv"
    p.write_bytes(data)
    for gz in (False, True):
        if gz:
            p.write_bytes(gzip.compress(data))
        try:
            list(read_bars_csv(p))
            list(read_bars_csv(p, skip_bad_rows=True, bar_size=MINUTE))
        except StatebotError:
            pass
