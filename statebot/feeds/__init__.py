"""Where bars come from in simulation: a seeded synthetic generator and a streaming CSV reader."""

from statebot.feeds.csv import BarDataError, read_bars_csv
from statebot.feeds.synthetic import SyntheticBars

__all__ = ["BarDataError", "SyntheticBars", "read_bars_csv"]
