"""Bars from a Parquet file (the ``parquet`` extra, pyarrow), read in batches: memory does not grow with the file.

The same columns and rules as the CSV reader (``statebot.feeds.csv``):
``timestamp,open,high,low,close,volume`` (any order, case-insensitive, other
columns not read), or ``date`` and ``time`` in place of ``timestamp``.
A column may be typed (a timestamp, with or without a zone; a date and a
time; numbers) or text, read as the CSV reader reads its cells. A timestamp
column without a zone needs ``tz``, as a naive CSV timestamp does. Errors
name the file and the 1-based row (``BarDataError``, ``unit`` ``"row"``);
``skip_bad_rows`` and ``on_bad_row`` work as for CSV.

``read_bars`` picks the reader by the file's first bytes (``PAR1`` is
Parquet; anything else is CSV, gzipped or not), whatever the file's name.
Without pyarrow a Parquet file raises ``MissingDependency`` naming the extra.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from statebot.core.time.clock import Bar
from statebot.errors import FileAccessError, MissingDependency
from statebot.feeds.csv import COLUMNS, BadRowHandler, BarDataError, bars_from_rows, read_bars_csv

PARQUET_MAGIC = b"PAR1"
_BATCH_ROWS = 65_536


def is_parquet(path: str | Path) -> bool:
    """True when the file starts with Parquet's magic bytes (``FileAccessError`` when it cannot be opened)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot open: {exc.strerror}") from None


def _pyarrow_parquet() -> Any:
    try:
        return importlib.import_module("pyarrow.parquet")
    except ModuleNotFoundError as exc:
        if exc.name not in ("pyarrow", "pyarrow.parquet"):
            raise
    raise MissingDependency("reading Parquet bars needs pyarrow: install the parquet extra (pip install '.[parquet]')")


def read_bars_parquet(
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
    """Yield the Parquet file's bars in order (the rules of ``read_bars_csv``; rows are numbered from 1)."""
    name = str(path)
    pq = _pyarrow_parquet()
    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow's ArrowInvalid and kin: a damaged or foreign file
        if isinstance(exc, OSError) and exc.strerror:
            raise FileAccessError(f"{name}: cannot open: {exc.strerror}") from None
        raise BarDataError(name, 0, f"not a readable Parquet file: {exc}") from None
    names = list(table.schema_arrow.names)
    lowered = {n.strip().lower(): n for n in reversed(names)}  # the first of two same-named columns wins
    header = [c for c in (*COLUMNS, "date", "time") if c in lowered]
    columns = [lowered[c] for c in header]
    yield from bars_from_rows(name, header, _batches(table, columns, name), symbol=symbol, bar_label=bar_label,
                              bar_size=bar_size, tz=tz, skip_bad_rows=skip_bad_rows, on_bad_row=on_bad_row,
                              check_size=check_size, timestamp_format=timestamp_format, unit="row")


def _batches(table: Any, columns: Sequence[str], name: str) -> Iterator[tuple[int, Sequence[Any]]]:
    number = 0
    try:
        for batch in table.iter_batches(batch_size=_BATCH_ROWS, columns=list(columns)):
            values = [column.to_pylist() for column in batch.columns]
            for row in zip(*values):
                number += 1
                yield number, row
    except BarDataError:
        raise
    except Exception as exc:  # pyarrow's errors for a truncated or corrupt page
        raise BarDataError(name, number + 1, f"cannot read: {exc}", unit="row") from None


def read_bars(
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
    """The bars of a CSV (``.csv``, ``.csv.gz``) or Parquet file, told apart by its first bytes."""
    reader = read_bars_parquet if is_parquet(path) else read_bars_csv
    return reader(path, symbol=symbol, bar_label=bar_label, bar_size=bar_size, tz=tz, skip_bad_rows=skip_bad_rows,
                  on_bad_row=on_bad_row, check_size=check_size, timestamp_format=timestamp_format)
