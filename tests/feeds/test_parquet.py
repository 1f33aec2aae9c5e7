"""Bars from Parquet files: the CSV reader's columns and rules, typed columns, one-line errors, a missing pyarrow."""

from __future__ import annotations

import builtins
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from statebot.cli import main
from statebot.errors import MissingDependency
from statebot.feeds import BarDataError, read_bars, read_bars_csv, read_bars_parquet

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"
NY = ZoneInfo("America/New_York")
UTC = dt.timezone.utc


def _sample_table() -> pa.Table:
    """The sample CSV as a typed table: an aware timestamp column, float prices, int64 volume."""
    rows = [line.split(",") for line in SAMPLE.read_text(encoding="utf-8").splitlines()[1:]]
    return pa.table({
        "timestamp": pa.array([dt.datetime.fromisoformat(r[0]) for r in rows], pa.timestamp("us", tz="America/New_York")),
        **{name: pa.array([float(r[i]) for r in rows]) for i, name in enumerate(("open", "high", "low", "close"), 1)},
        "volume": pa.array([int(r[5]) for r in rows], pa.int64()),
    })


def test_a_typed_parquet_file_gives_the_same_bars_as_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    pq.write_table(_sample_table(), path)
    assert list(read_bars_parquet(path)) == list(read_bars_csv(SAMPLE))
    assert list(read_bars(path)) == list(read_bars_csv(SAMPLE))  # told apart by its first bytes


def test_text_columns_split_date_time_upper_case_names_and_a_naive_zone(tmp_path: Path) -> None:
    table = pa.table({
        "Date": ["11/23/2026", "11/23/2026"], "TIME": ["09:30", "09:31"],
        "Open": [6000.0, 6000.25], "High": [6000.5, 6000.5], "Low": [5999.75, 6000.0], "Close": [6000.25, 6000.0],
        "Volume": [10.0, 12.0], "vendor_extra": ["x", "y"],
    })
    pq.write_table(table, tmp_path / "b.parquet")
    bars = list(read_bars_parquet(tmp_path / "b.parquet", tz=NY, timestamp_format="%m/%d/%Y %H:%M"))
    assert [b.end for b in bars] == [dt.datetime(2026, 11, 23, 9, 31, tzinfo=NY), dt.datetime(2026, 11, 23, 9, 32, tzinfo=NY)]
    assert [b.volume for b in bars] == [10, 12]


def test_typed_date_and_time_columns_are_joined(tmp_path: Path) -> None:
    table = pa.table({
        "date": pa.array([dt.date(2026, 11, 23)] * 2, pa.date32()),
        "time": pa.array([dt.time(14, 30), dt.time(14, 31)], pa.time64("us")),
        "open": [1.0, 1.0], "high": [1.0, 1.0], "low": [1.0, 1.0], "close": [1.0, 1.0], "volume": [1, 1],
    })
    pq.write_table(table, tmp_path / "b.parquet")
    bars = list(read_bars_parquet(tmp_path / "b.parquet", tz=ZoneInfo("UTC")))
    assert bars[0].end == dt.datetime(2026, 11, 23, 14, 31, tzinfo=UTC)


def test_a_naive_timestamp_column_needs_a_zone_and_says_so_with_its_row(tmp_path: Path) -> None:
    table = _sample_table()
    naive = table.set_column(0, "timestamp", table.column("timestamp").cast(pa.timestamp("us")))
    pq.write_table(naive, tmp_path / "b.parquet")
    with pytest.raises(BarDataError, match=r"b.parquet row 1: timestamp .* has no UTC offset"):
        list(read_bars_parquet(tmp_path / "b.parquet"))


@pytest.mark.parametrize(("column", "values", "expected"), [
    ("high", [6001.0, None, 6001.0], r"row 2: high is missing"),
    ("volume", [1.0, 2.5, 3.0], r"row 2: volume 2.5 must be a whole number of contracts"),
    ("open", [6000.0, 7000.0, 6000.0], r"row 2: .*high .* is below"),
])
def test_a_bad_value_is_one_error_naming_the_row(tmp_path: Path, column: str, values: list[Any], expected: str) -> None:
    data: dict[str, Any] = {
        "timestamp": pa.array([dt.datetime(2026, 11, 23, 14, m, tzinfo=UTC) for m in (30, 31, 32)], pa.timestamp("s", tz="UTC")),
        "open": [6000.0] * 3, "high": [6001.0] * 3, "low": [5999.0] * 3, "close": [6000.0] * 3, "volume": [1, 2, 3],
    }
    data[column] = values
    pq.write_table(pa.table(data), tmp_path / "b.parquet")
    with pytest.raises(BarDataError, match=expected):
        list(read_bars_parquet(tmp_path / "b.parquet"))
    skipped: list[tuple[int, str]] = []
    bars = list(read_bars_parquet(tmp_path / "b.parquet", skip_bad_rows=True, bar_size=dt.timedelta(minutes=1),
                                  on_bad_row=lambda n, why: skipped.append((n, why))))
    assert len(bars) == 2 and [n for n, _ in skipped] == [2]


def test_missing_columns_and_a_damaged_file_are_one_line(tmp_path: Path) -> None:
    pq.write_table(pa.table({"timestamp": ["2026-11-23T09:30:00-05:00"], "open": [1.0]}), tmp_path / "few.parquet")
    with pytest.raises(BarDataError, match=r"few.parquet: header lacks column\(s\) high, low, close, volume"):
        list(read_bars_parquet(tmp_path / "few.parquet"))
    good = (tmp_path / "few.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(good[: len(good) // 2])  # starts with PAR1, footer gone
    with pytest.raises(BarDataError, match=r"cut.parquet: not a readable Parquet file"):
        list(read_bars(tmp_path / "cut.parquet"))


def test_sim_reads_a_parquet_file_as_it_reads_the_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pq.write_table(_sample_table(), tmp_path / "bars.parquet")
    assert main(["sim", "--bars", str(SAMPLE), "--report", str(tmp_path / "a.json")]) == 0
    assert main(["sim", "--bars", str(tmp_path / "bars.parquet"),
                 "--report", str(tmp_path / "b.json")]) == 0
    a, b = (json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")) for n in ("a", "b"))
    assert a["trades"] > 0 and a["trade_list"] == b["trade_list"] and a["net_pnl"] == b["net_pnl"]


def test_without_pyarrow_a_parquet_file_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    pq.write_table(_sample_table(), tmp_path / "bars.parquet")
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    monkeypatch.setattr("importlib.import_module", lambda name, package=None: no_pyarrow(name))
    with pytest.raises(MissingDependency, match=r"install the parquet extra \(pip install '\.\[parquet\]'\)"):
        list(read_bars(tmp_path / "bars.parquet"))
    assert main(["sim", "--bars", str(tmp_path / "bars.parquet")]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install '.[parquet]'" in err and "Traceback" not in err
