"""Bars from a CSV file, streamed: memory does not grow with the file.

Columns (header required, any order, case-insensitive, extra columns ignored):
``timestamp,open,high,low,close,volume``, or ``date`` and ``time`` in place of
``timestamp`` (a vendor's split columns, joined with a space). The file is UTF-8 (a leading
byte-order mark, as spreadsheet programs write, is accepted); a gzip file
(``.csv.gz``, or gzip bytes under any name) is read transparently. Volume is
digits only. Timestamps are ISO-8601 with a UTC
offset, or whatever ``timestamp_format`` (``datetime.strptime`` codes, e.g.
``"%m/%d/%Y %H:%M"``; for split columns it reads ``"<date> <time>"``) describes;
naive timestamps are accepted only when a zone is given (``tz``), and a
local time that does not exist or is ambiguous in that zone (DST) is an error.

``bar_label="start"`` (the default, as most vendors and IB label bars) means a
row's bar ends at ``timestamp + bar_size``; ``"end"`` means at ``timestamp``.
When ``bar_size`` is not given it is inferred from the most common spacing of
the first rows (for end-labelled rows too, so that it can be checked).

A file that cannot be opened raises ``FileAccessError``; a malformed row
raises ``BarDataError`` naming the file and line, unless
``skip_bad_rows`` is set: then ``on_bad_row(line, reason)`` is called and the
row is skipped (the runner logs it as BAR_REJECTED).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import itertools
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from statebot.core.time.clock import Bar
from statebot.errors import BarRejected, FileAccessError, StatebotError

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_INFER_ROWS = 500
_GZIP_MAGIC = b"\x1f\x8b"

BadRowHandler = Callable[[int, str], object]


class BarDataError(StatebotError, ValueError):
    """A bar file cannot be read; ``line`` is the 1-based line number (0: the file itself), or the
    1-based row number of a Parquet file (``unit`` ``"row"``)."""

    def __init__(self, path: str, line: int, message: str, *, unit: str = "line") -> None:
        where = f"{path} {unit} {line}" if line else path
        super().__init__(f"{where}: {message}")
        self.line = line
        self.reason = message


# bars far outside these years are a typo or a sentinel, and date arithmetic near
# year 1 or 9999 overflows
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def _cell(value: Any) -> str | dt.datetime:
    """A timestamp cell: a datetime as it is (a Parquet timestamp), anything else as text."""
    return value if isinstance(value, dt.datetime) else _text(value, "timestamp")


def _text(value: Any, name: str) -> str:
    if value is None:
        raise ValueError(f"{name} is missing")
    return value if isinstance(value, str) else str(value)


def _timestamp(text: str | dt.datetime, tz: ZoneInfo | None, fmt: str | None = None) -> dt.datetime:
    if isinstance(text, dt.datetime):
        value = text
        text = value.isoformat()
    elif fmt is not None:
        try:
            value = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            raise ValueError(f"timestamp {text!r} does not match the timestamp format {fmt!r}") from None
    else:
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"timestamp {text!r} is not ISO-8601 (give its layout with --timestamp-format)") from None
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise ValueError(f"timestamp {text!r} is outside the years {_FIRST_YEAR}-{_LAST_YEAR}")
    if value.tzinfo is not None:
        return value
    if tz is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset (give the zone with --tz)")
    early, late = value.replace(tzinfo=tz, fold=0), value.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        raise ValueError(f"timestamp {text!r} is ambiguous in {tz} (DST fall-back); use offsets")
    back = early.astimezone(dt.timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != value:
        raise ValueError(f"timestamp {text!r} does not exist in {tz} (DST spring-forward)")
    return early


def _number(name: str, text: Any) -> float:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    text = _text(text, name)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    return value


def _volume(text: Any) -> int:
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if isinstance(text, float) and not text.is_integer() or text < 0:
            raise ValueError(f"volume {text!r} must be a whole number of contracts, 0 or more")
        return int(text)
    digits = _text(text, "volume").strip()
    # int() would also take "1_000", "+5" and non-ASCII digits
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"volume {text!r} must be digits only (a whole number of contracts)")
    return int(digits)


def _open_binary(path: str | Path, name: str) -> io.BufferedIOBase:
    """The file's bytes: gunzipped when they start with the gzip magic bytes, whatever the file's name."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise FileAccessError(f"{name}: cannot open: {exc.strerror}") from None
    try:
        magic = raw.peek(2)[:2]
    except OSError as exc:
        raw.close()
        raise FileAccessError(f"{name}: cannot read: {exc.strerror}") from None
    return gzip.GzipFile(fileobj=raw) if magic == _GZIP_MAGIC else raw


def _text_lines(binary: io.BufferedIOBase, name: str) -> Iterator[str]:
    """Each physical line decoded on its own, so an undecodable byte is reported at its own line."""
    number = 0
    try:
        for number, raw in enumerate(binary, 1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start:exc.start + 1]
                raise BarDataError(name, number, f"not UTF-8 text (byte {bad!r} at column {exc.start + 1}); "
                                   "save the file as UTF-8") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise BarDataError(name, number + 1, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _rows(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, row) for each non-empty row of ``reader``."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BarDataError(name, reader.line_num, f"not CSV: {exc}") from None
        if row:
            yield reader.line_num, row


def read_bars_csv(
    path: str | Path,
    *,
    symbol: str = "MES",
    bar_label: str = "start",
    bar_size: dt.timedelta | None = None,
    tz: ZoneInfo | None = None,
    skip_bad_rows: bool = False,
    on_bad_row: BadRowHandler | None = None,
    check_size: Callable[[dt.timedelta], object] | None = None,
    timestamp_format: str | None = None,
) -> Iterator[Bar]:
    """Yield the file's bars in order. See the module docstring for the rules.

    ``check_size`` is called with the bar size (given or inferred) before the
    first bar is yielded; what it raises stops the reading (e.g. a bar longer
    than the flatten lead).
    """
    name = str(path)
    _check_options(name, bar_label, bar_size)
    with _open_binary(path, name) as binary:
        reader = csv.reader(_text_lines(binary, name))
        lines = _rows(reader, name)
        try:
            _, header = next(lines)
        except StopIteration:
            raise BarDataError(name, 1, "empty file; expected a header " + ",".join(COLUMNS)) from None
        yield from bars_from_rows(name, header, lines, symbol=symbol, bar_label=bar_label, bar_size=bar_size, tz=tz,
                                  skip_bad_rows=skip_bad_rows, on_bad_row=on_bad_row, check_size=check_size,
                                  timestamp_format=timestamp_format)


def _check_options(name: str, bar_label: str, bar_size: dt.timedelta | None) -> None:
    if bar_label not in ("start", "end"):
        raise BarDataError(name, 0, f"bar label {bar_label!r} must be 'start' or 'end'")
    if bar_size is not None and bar_size <= dt.timedelta(0):
        raise BarDataError(name, 0, f"bar size {bar_size} must be positive")


def bars_from_rows(
    name: str,
    header: Sequence[str],
    lines: Iterator[tuple[int, Sequence[Any]]],
    *,
    symbol: str,
    bar_label: str,
    bar_size: dt.timedelta | None,
    tz: ZoneInfo | None,
    skip_bad_rows: bool,
    on_bad_row: BadRowHandler | None,
    check_size: Callable[[dt.timedelta], object] | None,
    timestamp_format: str | None,
    unit: str = "line",
) -> Iterator[Bar]:
    """The bars of ``(number, row)`` pairs under ``header``: the rules of the module docstring, for any
    tabular source. A cell is text (as CSV has it) or a typed value (a Parquet column's: a datetime,
    a date and a time, a number); ``unit`` names what the numbers count in messages (line, row)."""
    _check_options(name, bar_label, bar_size)
    cols = [str(c).strip().lower() for c in header]
    split = "timestamp" not in cols and "date" in cols and "time" in cols
    wanted = COLUMNS[1:] if split else COLUMNS
    missing = [c for c in wanted if c not in cols]
    if missing:
        raise BarDataError(name, 1 if unit == "line" else 0,
                           f"header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)} "
                           "(or date,time in place of timestamp)")
    idx = [cols.index(c) for c in wanted]
    date_at, time_at = (cols.index("date"), cols.index("time")) if split else (0, 0)

    def stamp(row: Sequence[Any]) -> str | dt.datetime:
        if not split:
            return _cell(row[idx[0]])
        day, clock = row[date_at], row[time_at]
        if isinstance(day, dt.date) and not isinstance(day, dt.datetime) and isinstance(clock, dt.time):
            return dt.datetime.combine(day, clock)
        return f"{_text(day, 'date').strip()} {_text(clock, 'time').strip()}"

    def parse(row: Sequence[Any]) -> tuple[dt.datetime, float, float, float, float, int]:
        if len(row) < len(cols):
            raise ValueError(f"expected {len(cols)} fields, found {len(row)}")
        o, h, low, c, v = (row[i] for i in idx[-5:])
        return (_timestamp(stamp(row), tz, timestamp_format), _number("open", o), _number("high", h),
                _number("low", low), _number("close", c), _volume(v))

    rows: Iterator[tuple[int, Sequence[Any]]] = lines
    size = bar_size
    if size is None:
        head = list(itertools.islice(rows, _INFER_ROWS))
        # end-labelled rows need no size for their end times, but a check of it still applies
        size = _infer_size(name, head, stamp, len(cols), tz, timestamp_format, required=bar_label == "start", unit=unit)
        rows = itertools.chain(head, rows)
    if size is not None and check_size is not None:
        check_size(size)
    last_end: dt.datetime | None = None
    for line, row in rows:
        try:
            ts, o, h, low, c, v = parse(row)
            end = ts + size if bar_label == "start" and size is not None else ts
            if last_end is not None and end <= last_end:
                raise ValueError(f"bar end {end.isoformat()} is not after the previous {last_end.isoformat()}")
            bar = Bar(symbol=symbol, end=end, open=o, high=h, low=low, close=c, volume=v)
        except (ValueError, OverflowError, BarRejected) as exc:
            if not skip_bad_rows:
                raise BarDataError(name, line, str(exc), unit=unit) from None
            if on_bad_row is not None:
                on_bad_row(line, str(exc))
            continue
        last_end = end
        yield bar


def _infer_size(name: str, head: list[tuple[int, Sequence[Any]]], stamp: Callable[[Sequence[Any]], str | dt.datetime],
                width: int, tz: ZoneInfo | None, fmt: str | None, *, required: bool, unit: str) -> dt.timedelta | None:
    """The most common positive spacing between consecutive parseable timestamps
    (None when there is none and the size is not ``required``)."""
    times = []
    first_error: tuple[int, str] | None = None
    for line, row in head:
        if len(row) >= width:
            try:
                times.append(_timestamp(stamp(row), tz, fmt))
            except ValueError as exc:
                # otherwise reported with its line number when the row itself is read
                first_error = first_error or (line, str(exc))
    gaps = Counter(b - a for a, b in zip(times, times[1:]) if b > a)
    if not gaps and not required:
        return None
    if not gaps:
        if first_error is not None:
            raise BarDataError(name, *first_error, unit=unit)
        raise BarDataError(name, 0, "cannot infer the bar size from fewer than two valid rows; give --bar-size")
    return gaps.most_common(1)[0][0]


def write_bars_csv(bars: Iterable[Bar], out: TextIO, *, bar_size: dt.timedelta, tz: dt.tzinfo) -> int:
    """Write ``bars`` as the CSV ``read_bars_csv`` reads with its defaults: the header, then one
    row per bar labelled with its start (``end - bar_size``) in ``tz`` with its UTC offset.
    Every bar must last ``bar_size`` (the caller ensures it). Returns the number of rows."""
    out.write(",".join(COLUMNS) + "\n")
    count = 0
    for bar in bars:
        start = (bar.end - bar_size).astimezone(tz).isoformat()
        out.write(f"{start},{bar.open!r},{bar.high!r},{bar.low!r},{bar.close!r},{bar.volume}\n")
        count += 1
    return count
