"""A sweep as data: the base simulation, the swept dimensions, seeds and periods; its points.

A sweep file is a scenario file (``[sim]``, ``[config]`` or ``sim.config_file``,
``[faults]``, ``[random_faults]``: see ``load_scenario``) with a ``[sweep]`` table::

    [sweep]
    mode = "grid"                 # or "random" (then: samples = 20, sample_seed = 0)
    seeds = 3                     # N seeds from sim.seed on, or a list; default: the scenario's seeds
    bars = ["oct.csv", "nov.csv"] # periods as bar files (relative to this file), or
    periods = [{start = 2026-11-02, end = 2026-11-06}]   # synthetic periods
    [sweep.params]                # strategy parameters
    fast = [5, 10, 20]
    slow = {min = 30, max = 90, step = 30}
    [sweep.config]                # any config key, dotted
    "calendar.flatten_lead" = ["5m", "10m"]

A value list is tried as given; ``{min, max, step}`` is a range (both ends
included); in random mode ``{min, max}`` without ``step`` is drawn uniformly
(integers when both ends are integers). A point is one combination × one
period × one seed; its ``key`` (canonical JSON) names it in the journal and
its ``id`` (a hash of the key) names its log folder, so both are the same on
every machine and every run.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import random
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from statebot.app.simrun import SIM_DEFAULTS, SimSetup, load_scenario
from statebot.config.model import Config, check_runnable, from_data, with_defaults
from statebot.errors import ConfigError

PARAM = "param"
CONFIG = "config"
MODES = ("grid", "random")
_SWEEP_KEYS = {"mode", "samples", "sample_seed", "seeds", "bars", "periods", "params", "config"}


@attrs.frozen(kw_only=True)
class Dimension:
    """One swept name: a strategy parameter (``kind`` "param") or a dotted config key ("config").
    ``values`` are tried in order; a random-mode range has ``low``/``high`` and no values."""

    kind: str
    name: str
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None

    @property
    def label(self) -> str:
        return self.name if self.kind == PARAM else f"config.{self.name}"

    def draw(self, rng: random.Random) -> Any:
        if self.values:
            return self.values[rng.randrange(len(self.values))]
        if isinstance(self.low, int) and isinstance(self.high, int):
            return rng.randint(self.low, self.high)
        return round(rng.uniform(float(self.low), float(self.high)), 6)


@attrs.frozen(kw_only=True)
class Period:
    """A stretch of bars: a CSV file, or synthetic bars from ``start`` to ``end``."""

    label: str
    bars_csv: Path | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@attrs.frozen(kw_only=True)
class Point:
    """One simulation of the sweep: strategy parameters and config overrides (name, value pairs in
    the sweep's order), a period label and a seed."""

    params: tuple[tuple[str, Any], ...]
    config: tuple[tuple[str, Any], ...]
    period: str
    seed: int

    @property
    def key(self) -> str:
        return canonical({"params": dict(self.params), "config": dict(self.config), "period": self.period, "seed": self.seed})

    @property
    def id(self) -> str:
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:16]

    @property
    def combo(self) -> tuple[tuple[str, Any], ...]:
        """The swept values without seed and period: what robustness is measured across."""
        return self.params + tuple((f"config.{k}", v) for k, v in self.config)


def canonical(data: Any) -> str:
    """Sorted, compact JSON (dates and Decimals as strings): the same text for the same data."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


@attrs.frozen(kw_only=True)
class SweepSpec:
    """A loaded sweep: build with ``load_sweep``. ``fingerprint`` hashes everything a point's result
    depends on besides the point itself (the base settings, the config, the bar files' bytes)."""

    name: str
    base: SimSetup
    config_data: Mapping[str, Any] | None
    config_dir: Path | None
    dimensions: tuple[Dimension, ...]
    mode: str
    samples: int
    sample_seed: int
    seeds: tuple[int, ...]
    periods: tuple[Period, ...]
    fingerprint: str

    def points(self) -> list[Point]:
        """Every point, combinations outermost, then periods, then seeds; the same list on every call."""
        params = [d for d in self.dimensions if d.kind == PARAM]
        keys = [d for d in self.dimensions if d.kind == CONFIG]
        combos: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        if self.mode == "grid":
            for values in itertools.product(*(d.values for d in self.dimensions)):
                combos.append((values[:len(params)], values[len(params):]))
        else:
            rng = random.Random(self.sample_seed)
            seen = set()
            for _ in range(self.samples):
                values = tuple(d.draw(rng) for d in params + keys)
                if values not in seen:
                    seen.add(values)
                    combos.append((values[:len(params)], values[len(params):]))
        return [
            Point(params=tuple(zip((d.name for d in params), p)), config=tuple(zip((d.name for d in keys), c)),
                  period=period.label, seed=seed)
            for p, c in combos for period in self.periods for seed in self.seeds
        ]

    def setup(self, point: Point) -> SimSetup:
        """The point's full ``SimSetup``. Raises ``ConfigError`` for a config the overrides make invalid."""
        period = next((p for p in self.periods if p.label == point.period), None)
        if period is None:
            raise ConfigError(f"sweep {self.name}: no period {point.period!r}")
        changes: dict[str, Any] = {"seed": point.seed, "strategy_params": {**self.base.strategy_params, **dict(point.params)}}
        if period.bars_csv is not None:
            changes["bars_csv"] = period.bars_csv
        else:
            changes.update(bars_csv=None, start=period.start, end=period.end)
        if point.config:
            changes["config"] = self.config_with(point.config)
        return attrs.evolve(self.base, **changes)

    def config_with(self, overrides: Sequence[tuple[str, Any]]) -> Config:
        data: dict[str, Any] = copy.deepcopy(dict(self.config_data or {}))
        for dotted, value in overrides:
            section = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                child = section.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ConfigError(f"sweep {self.name}: config key {dotted!r}: {part!r} is not a table")
                section = child
            section[leaf] = Decimal(str(value)) if isinstance(value, float) else value
        config: Config = from_data(Config, with_defaults(data, SIM_DEFAULTS))
        check_runnable(config)
        return attrs.evolve(config, base_dir=self.config_dir) if self.config_dir is not None else config


def _values(where: str, spec: Any, mode: str) -> Dimension | tuple[Any, ...]:
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"{where}: an empty list of values")
        if len(set(map(canonical, spec))) != len(spec):
            raise ConfigError(f"{where}: a value is listed twice")
        return tuple(spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {"min", "max", "step"}
        if unknown or "min" not in spec or "max" not in spec:
            raise ConfigError(f"{where}: a range is {{min = A, max = B}} (and step = S in a grid); got {sorted(spec)}")
        low, high = spec["min"], spec["max"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high, spec.get("step", 1))):
            raise ConfigError(f"{where}: min, max and step must be numbers")
        if low > high:
            raise ConfigError(f"{where}: min {low} is above max {high}")
        if "step" in spec:
            step = spec["step"]
            if step <= 0:
                raise ConfigError(f"{where}: step must be positive")
            count = int((high - low) / step + 1e-9) + 1
            return tuple(low + i * step if isinstance(step, int) and isinstance(low, int) else round(low + i * step, 9)
                         for i in range(count))
        if mode == "grid":
            raise ConfigError(f"{where}: a grid range needs a step ({{min = {low}, max = {high}, step = ...}})")
        return Dimension(kind="", name="", low=low, high=high)
    raise ConfigError(f"{where}: expected a list of values or a {{min, max[, step]}} table, got {spec!r}")


def _sha_file(path: Path, where: str) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc.strerror or exc})") from None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep TOML file. Raises ``ConfigError`` naming the file and the bad key; every swept
    config value is checked here (alone on the base config), so a typo stops the sweep before it runs."""
    p = Path(path)
    scenario = load_scenario(p)
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    where = f"sweep {p.name}"
    table = data.get("sweep")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: no [sweep] table (what to vary: [sweep.params], [sweep.config], seeds, bars or periods)")
    unknown = set(table) - _SWEEP_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown [sweep] key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_SWEEP_KEYS))}")
    mode = str(table.get("mode", "grid"))
    if mode not in MODES:
        raise ConfigError(f"{where}: sweep.mode {mode!r}; known: {', '.join(MODES)}")
    dims: list[Dimension] = []
    for kind, section in ((PARAM, "params"), (CONFIG, "config")):
        entries = table.get(section, {})
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: sweep.{section} must be a table")
        for name, spec in entries.items():
            got = _values(f"{where}: sweep.{section}.{name}", spec, mode)
            dims.append(attrs.evolve(got, kind=kind, name=name) if isinstance(got, Dimension)
                        else Dimension(kind=kind, name=name, values=got))
    config_data: dict[str, Any] | None = None
    config_dir: Path | None = None
    extra_hashes: dict[str, str] = {}
    if "config" in data:
        # Decimal floats, as load_config parses a config file
        config_data = tomllib.loads(p.read_text(encoding="utf-8"), parse_float=Decimal)["config"]
        config_dir = p.parent
    elif "config_file" in data.get("sim", {}):
        config_path = p.parent / str(data["sim"]["config_file"])
        extra_hashes["config_file"] = _sha_file(config_path, where)
        config_data = tomllib.loads(config_path.read_text(encoding="utf-8"), parse_float=Decimal)
        config_dir = config_path.resolve().parent
    seeds = _seeds(table.get("seeds"), scenario.setup.seed, scenario.seeds, where)
    periods = _periods(table, scenario.setup, p.parent, where)
    for period in periods:
        if period.bars_csv is not None:
            extra_hashes[f"bars:{period.label}"] = _sha_file(period.bars_csv, where)
    samples = int(table.get("samples", 0))
    if mode == "random" and samples < 1:
        raise ConfigError(f"{where}: random mode needs samples = N (at least 1)")
    spec = SweepSpec(
        name=scenario.name, base=scenario.setup, config_data=config_data, config_dir=config_dir, dimensions=tuple(dims),
        mode=mode, samples=samples, sample_seed=int(table.get("sample_seed", 0)), seeds=seeds, periods=periods,
        fingerprint=hashlib.sha256(canonical({k: v for k, v in data.items() if k not in ("sweep", "name", "description")}
                                             | {"files": extra_hashes}).encode("utf-8")).hexdigest()[:16],
    )
    for dim in spec.dimensions:
        if dim.kind == CONFIG:
            for value in dim.values or (dim.low, dim.high):
                try:
                    spec.config_with([(dim.name, value)])
                except ConfigError as exc:
                    raise ConfigError(f"{where}: sweep.config {dim.name!r} = {value!r}: {exc}") from None
    return spec


def _seeds(value: Any, first: int, default: tuple[int, ...], where: str) -> tuple[int, ...]:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return tuple(range(first, first + value))
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        if len(set(value)) != len(value):
            raise ConfigError(f"{where}: sweep.seeds lists a seed twice")
        return tuple(value)
    raise ConfigError(f"{where}: sweep.seeds must be a count (>= 1) or a list of integers, got {value!r}")


def _periods(table: Mapping[str, Any], base: SimSetup, folder: Path, where: str) -> tuple[Period, ...]:
    if "bars" in table and "periods" in table:
        raise ConfigError(f"{where}: sweep.bars and sweep.periods both given; use one")
    if "bars" in table:
        files = table["bars"]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise ConfigError(f"{where}: sweep.bars must be a list of CSV file names")
        if len(set(files)) != len(files):
            raise ConfigError(f"{where}: sweep.bars lists a file twice")
        return tuple(Period(label=f, bars_csv=folder / f) for f in files)
    if "periods" in table:
        rows = table["periods"]
        if not isinstance(rows, list) or not rows:
            raise ConfigError(f"{where}: sweep.periods must be a list of {{start = DATE, end = DATE}}")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or set(row) != {"start", "end"}:
                raise ConfigError(f"{where}: sweep.periods[{i}] must be {{start = DATE, end = DATE}}")
            start, end = (_date(row[k], f"{where}: sweep.periods[{i}].{k}") for k in ("start", "end"))
            if end < start:
                raise ConfigError(f"{where}: sweep.periods[{i}] ends before it starts")
            out.append(Period(label=f"{start}..{end}", start=start, end=end))
        if len({p.label for p in out}) != len(out):
            raise ConfigError(f"{where}: sweep.periods lists a period twice")
        return tuple(out)
    if base.bars_csv is not None:
        return (Period(label=base.bars_csv.name, bars_csv=base.bars_csv),)
    return (Period(label=f"{base.start}..{base.end}", start=base.start, end=base.end),)


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None
