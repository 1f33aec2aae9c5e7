"""Where bars come from in simulation: a seeded synthetic generator, streaming CSV and Parquet readers;
and the price guard every bar passes before the runner sees it."""

from statebot.feeds.csv import BarDataError, read_bars_csv
from statebot.feeds.guard import PriceGuard, PriceProblem
from statebot.feeds.parquet import read_bars, read_bars_parquet
from statebot.feeds.synthetic import SyntheticBars

__all__ = ["BarDataError", "PriceGuard", "PriceProblem", "SyntheticBars", "read_bars", "read_bars_csv", "read_bars_parquet"]
