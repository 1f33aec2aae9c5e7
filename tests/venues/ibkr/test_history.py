"""``statebot bars fetch --adapter ibkr``: historical bars in paced chunks, with the real client library
against the fake gateway, on a fake clock (nothing waits)."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from statebot.cli import main
from statebot.errors import AdapterUnavailable, ConfigError
from statebot.feeds import read_bars_csv
from statebot.venues.ibkr.history import HistoryPacer, fetch_history, ib_bar_size, windows
from tests.venues.ibkr.fake_gateway import FakeGateway, HistBar

INSTALLED = [name for name in ("ib_insync", "ib_async") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("neither ib_insync nor ib_async is installed (the ibkr extra)", allow_module_level=True)

NY = ZoneInfo("America/New_York")
UTC = dt.timezone.utc
EPOCH = dt.datetime(2026, 12, 1, tzinfo=UTC)


class FakeClock:
    """Monotonic seconds that move only when slept: the pacer's and the gateway's clock."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def wall(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.t)


def day_bars(day: dt.date, price: float, n: int = 10) -> list[HistBar]:
    """``n`` one-minute bars from 09:30 New York on ``day``."""
    first = dt.datetime.combine(day, dt.time(9, 30), NY)
    return [HistBar(start=first + dt.timedelta(minutes=i), open=price, high=price + 0.5, low=price - 0.25,
                    close=price + 0.25, volume=100 + i) for i in range(n)]


# MESZ6 expires 2026-12-18; the roll (8 days before the third Friday) is Thursday 2026-12-10
DAYS = [dt.date(2026, 12, d) for d in (1, 2, 3, 4, 7, 8, 9, 10, 11)]
ARCHIVE = {"MESZ6": [b for d in DAYS for b in day_bars(d, 6000.0)], "MESH7": [b for d in DAYS for b in day_bars(d, 6050.0)]}


@pytest.fixture(params=INSTALLED)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(clock: FakeClock) -> Iterator[FakeGateway]:
    with FakeGateway(clock=clock.wall) as gw:
        gw.serve_history(ARCHIVE)
        yield gw


@pytest.fixture
def ib(lib: ModuleType, gateway: FakeGateway) -> Iterator[object]:
    client = lib.IB()
    client.connect(gateway.host, gateway.port, clientId=17, readonly=True)
    yield client
    client.disconnect()


# ----------------------------------------------------------------------------- the pacer alone


def test_the_pacer_keeps_sixty_requests_in_any_ten_minutes() -> None:
    clock = FakeClock()
    pacer = HistoryPacer(clock, clock.sleep, same_contract_max=1000)
    for i in range(61):
        clock.t += 1.0  # one request a second, each for another contract
        pacer.wait(("r", i), ("c", i))
    assert pacer.requests == 61 and clock.slept == [pytest.approx(600.0 - 60.0)]  # the 61st waits for the 1st to age out


def test_the_pacer_keeps_five_requests_per_contract_in_two_seconds_and_spaces_identical_ones() -> None:
    clock = FakeClock()
    pacer = HistoryPacer(clock, clock.sleep)
    for i in range(6):
        pacer.wait(("r", i), "MESZ6")
    assert clock.slept == [2.0]  # the sixth for one contract waits two seconds
    pacer.wait(("r", 5), "MESH7")  # the same request as the sixth: 15 s after it
    assert clock.slept == [2.0, 15.0]


def test_windows_cover_the_range_newest_first_at_most_a_day_each() -> None:
    start = dt.datetime(2026, 11, 1, 4, tzinfo=UTC)  # 2026-11-01 is the DST fall-back: a 25-hour day in New York
    end = dt.datetime(2026, 11, 3, 5, tzinfo=UTC)
    cut = windows(start, end)
    assert cut[0][1] == end and cut[-1][0] == start
    assert all(b - a <= dt.timedelta(days=1) for a, b in cut)
    assert all(later[0] == earlier[1] for earlier, later in zip(cut[1:], cut))


def test_a_bar_size_ib_does_not_offer_is_one_line() -> None:
    assert ib_bar_size(dt.timedelta(minutes=5)) == "5 mins"
    with pytest.raises(ConfigError, match="bar size 0:07:00 is not one IB offers .*1m, 2m, 3m"):
        ib_bar_size(dt.timedelta(minutes=7))


# ----------------------------------------------------------------------------- against the fake gateway


def test_two_weeks_across_the_roll_are_stitched_from_each_days_front_month_without_a_pacing_violation(
        lib: ModuleType, ib: object, gateway: FakeGateway, clock: FakeClock) -> None:
    """Twelve requests for two contracts on a clock the gateway shares: the pacer's waits keep IB's rules
    (the gateway enforces them), and the weekend windows IB answers 'no data' are just empty."""
    seen: list[tuple[str, int]] = []
    bars = fetch_history(ib, lib, symbol="MES", start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 12), tz=NY,
                         pacer=HistoryPacer(clock, clock.sleep), on_window=lambda sym, a, b, n: seen.append((sym, n)))
    assert [b.end for b in bars] == sorted({b.end for b in bars})
    by_day = {d: {b.open for b in bars if b.end.astimezone(NY).date() == d} for d in DAYS}
    assert by_day == {d: {6000.0} if d < dt.date(2026, 12, 10) else {6050.0} for d in DAYS}  # MESZ6, then MESH7
    assert len(bars) == 90 and bars[0].end == dt.datetime(2026, 12, 1, 9, 31, tzinfo=NY)
    assert seen[0] == ("MESH7", 0)  # Saturday: IB's "no data", an empty window
    assert gateway.count("reqHistoricalData") == 12
    assert not [m for m in gateway.sent("error") if m.fields[3] == "162" and "pacing" in m.fields[4]]
    assert clock.slept == [2.0]  # it did have to wait once: the sixth request for MESZ6


def test_without_pacing_ib_reports_a_violation_and_the_fetch_says_so_in_one_line(
        lib: ModuleType, ib: object, clock: FakeClock) -> None:
    reckless = HistoryPacer(clock, clock.sleep, max_requests=10_000, same_contract_max=10_000, identical_gap_s=0)
    with pytest.raises(AdapterUnavailable, match=r"error 162, a pacing violation .* wait ten minutes") as info:
        fetch_history(ib, lib, symbol="MES", expiry="202612", start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 9),
                      tz=NY, pacer=reckless)
    assert "\n" not in str(info.value)


def test_a_range_with_no_bars_at_all_is_one_line(lib: ModuleType, ib: object, clock: FakeClock) -> None:
    with pytest.raises(AdapterUnavailable, match=r"IB has no 1 min bars of MES from 2026-12-12 to 2026-12-13"):
        fetch_history(ib, lib, symbol="MES", start=dt.date(2026, 12, 12), end=dt.date(2026, 12, 13), tz=NY,
                      pacer=HistoryPacer(clock, clock.sleep))


def test_an_unknown_contract_month_is_one_line(lib: ModuleType, ib: object, clock: FakeClock) -> None:
    with pytest.raises(AdapterUnavailable, match=r"IB did not qualify MES 203003"):
        fetch_history(ib, lib, symbol="MES", expiry="203003", start=dt.date(2026, 12, 7), end=dt.date(2026, 12, 7),
                      tz=NY, pacer=HistoryPacer(clock, clock.sleep))


# ----------------------------------------------------------------------------- the command


def test_bars_fetch_writes_the_csv_sim_reads(gateway: FakeGateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mes.csv"
    code = main(["bars", "fetch", "--adapter", "ibkr", "--start", "2026-12-08", "--end", "2026-12-09",
                 "--port", str(gateway.port), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    bars = list(read_bars_csv(out))
    assert len(bars) == 20 and bars[0].end == dt.datetime(2026, 12, 8, 9, 31, tzinfo=NY) and bars[0].volume == 100
    assert "wrote 20 1 min bars of MES" in capsys.readouterr().err
    assert main(["sim", "--bars", str(out)]) == 0


def test_bars_fetch_without_a_gateway_is_one_line_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["bars", "fetch", "--adapter", "ibkr", "--start", "2026-12-08", "--end", "2026-12-08", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 4 and err.count("\n") == 1
    assert f"cannot connect to TWS / IB Gateway at 127.0.0.1:{port}" in err


def test_bars_fetch_refuses_a_bad_size_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bars", "fetch", "--adapter", "ibkr", "--start", "2026-12-08", "--end", "2026-12-08",
                 "--bar-size", "7m", "--port", "1"]) == 2
    assert "not one IB offers" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--port", "0"), ("--client-id", "-1")])
def test_bars_fetch_refuses_a_bad_port_or_client_id_in_one_line(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["bars", "fetch", "--adapter", "ibkr", "--start", "2026-12-08", "--end", "2026-12-08", flag, value])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and value in err
