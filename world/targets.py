"""Calibration targets as data (``data/targets.toml``) and how each is measured on a run.

A target names the preset it is read from, how to measure it on the run's tables, the accepted
range, a central value, its source, and whether calibration fits it or only checks it.
"""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chipwar.world.alignment import BEIJING
from chipwar.world.calendar import parse_month
from chipwar.world.countries import REGIONS, load_countries
from chipwar.world.validation import input_error_from, read_toml

GLOBAL_SOUTH = (
    "east_asia",
    "southeast_asia",
    "south_asia",
    "central_asia",
    "mena",
    "sub_saharan_africa",
)
CONTROL_REGIMES = (0, 1)  # closed and electoral autocracies (Regimes of the World)


class Target(BaseModel):
    """One calibration target."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    description: str
    use: Literal["fit", "check"]
    preset: str
    measure: Literal["value", "sum", "ratio", "growth", "max", "control_cn_official_change"]
    column: str = ""
    column2: str = ""
    date: str = ""
    start: str = Field("", alias="from")
    end: str = Field("", alias="to")
    multiplier: float = 1.0
    lower: float
    upper: float
    central: float
    log: bool = False
    source: str

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if not self.lower <= self.central <= self.upper:
            raise ValueError(f"central {self.central} outside [{self.lower}, {self.upper}]")
        for month in (self.date, self.start, self.end):
            if month:
                parse_month(month)
        return self

    def measure_on(self, series: pd.DataFrame, countries: pd.DataFrame) -> float:
        """The target's quantity on one run's tables."""
        if self.measure == "value":
            return float(_at(series, self.date)[self.column])
        if self.measure == "control_cn_official_change":
            return float(_control_cn(countries, self.end) - _control_cn(countries, self.start))
        window = _between(series, self.start, self.end)
        if self.measure == "sum":
            return float(window[self.column].sum())
        if self.measure == "ratio":
            return float(window[self.column].sum() / window[self.column2].sum())
        if self.measure == "max":
            return float(window[self.column].max() * self.multiplier)
        first, last = window[self.column].iloc[0], window[self.column].iloc[-1]
        years = (parse_month(self.end) - parse_month(self.start)) / 12.0
        return float((last / first) ** (1.0 / years))  # growth

    def inside(self, value: float) -> bool:
        return self.lower <= value <= self.upper

    def miss(self, value: float, margin: float = 0.0) -> float:
        """Distance outside the accepted range, in range widths (log scale if ``log``); 0 inside.

        ``margin`` (a share of the width) shrinks the range from both ends first.
        """
        low, high, x = self.lower, self.upper, value
        if self.log:
            low, high = math.log(max(low, 1e-12)), math.log(high)
            x = math.log(max(x, 1e-12))
        width = high - low
        low, high = low + margin * width, high - margin * width
        if x < low:
            return (low - x) / width
        if x > high:
            return (x - high) / width
        return 0.0

    def off_centre(self, value: float) -> float:
        """Signed distance from the central value, in range widths (log scale if ``log``)."""
        centre, x, width = self.central, value, self.upper - self.lower
        if self.log:
            centre, x = math.log(max(centre, 1e-12)), math.log(max(x, 1e-12))
            width = math.log(self.upper) - math.log(max(self.lower, 1e-12))
        return (x - centre) / width


def _at(series: pd.DataFrame, date: str) -> pd.Series:
    rows = series[series["date"] == date]
    if rows.empty:
        raise ValueError(f"the run has no month {date}")
    return rows.iloc[0]


def _between(series: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    window = series[(series["date"] >= start) & (series["date"] <= end)]
    if window.empty:
        raise ValueError(f"the run has no months in {start}..{end}")
    return window


def _control_cn(countries: pd.DataFrame, date: str) -> int:
    """Control-preferring foreign Global South governments with the Chinese stack.

    China, Hong Kong and Macao are not foreign governments (``BEIJING``) and are never counted.
    """
    table = load_countries()
    regions = {REGIONS.index(r) for r in GLOBAL_SOUTH}
    chosen = {
        iso
        for iso, regime, region in zip(table.iso, table.regime, table.region_index, strict=True)
        if regime in CONTROL_REGIMES and region in regions and iso not in BEIJING
    }
    month = countries[countries["date"] == date]
    if month.empty:
        raise ValueError(f"the run has no month {date}")
    return int((month["iso_a3"].isin(chosen) & (month["official_stack"] == "cn")).sum())


@cache
def load_targets() -> tuple[Target, ...]:
    """The shipped targets, validated."""
    source = "targets.toml"
    raw = read_toml(str(files("chipwar.world") / "data" / "targets.toml"), source)
    targets = []
    for name, row in raw.items():
        try:
            targets.append(Target.model_validate({"name": name, **row}))
        except ValidationError as err:
            raise input_error_from(err, f"{source} [{name}]") from None
    return tuple(targets)


def summarise_values(target: Target, values: list[float]) -> dict[str, float]:
    """Share of runs inside the range, median and the 10-90% band."""
    array = np.asarray(values, dtype=float)
    inside = np.array([target.inside(v) for v in array])
    return {
        "inside_share": float(inside.mean()),
        "median": float(np.median(array)),
        "p10": float(np.quantile(array, 0.1)),
        "p90": float(np.quantile(array, 0.9)),
    }
