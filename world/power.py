"""Physical limits as data: data-centre power per bloc, energy per H100e, the largest training site.

Power paths and the largest-site path are read from ``data/power.toml`` (yearly points with
sources); the energy per H100e of new chips falls at the hardware-efficiency trend. Together they
bound how much compute a bloc can run (the market buys no chips it cannot power; China's chips sit
idle if its power ever binds) and how large one frontier training cluster can be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from chipwar.world.calendar import parse_month
from chipwar.world.countries import CountryTable
from chipwar.world.parameters import Parameters
from chipwar.world.validation import read_toml

BLOCS = ("us", "china", "allied", "gulf", "rest")
CASES = ("low", "central", "high")
KW_PER_GW = 1e6


@dataclass(frozen=True)
class BlocPath:
    """A bloc's members and its power paths (GW on 1 January of each year)."""

    name: str
    countries: tuple[str, ...]
    tier: int | None
    paths: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class PowerData:
    years: tuple[int, ...]
    blocs: tuple[BlocPath, ...]
    site_months: tuple[int, ...]
    site_gw: tuple[float, ...]


@cache
def load_power_data() -> PowerData:
    """The shipped power data, checked: positive, non-decreasing, low <= central <= high."""
    raw = read_toml(str(files("chipwar.world") / "data" / "power.toml"), "power.toml")
    years = tuple(int(y) for y in raw["years"])
    blocs = []
    for name in BLOCS:
        row = raw["blocs"][name]
        paths = {case: tuple(float(v) for v in row[case]) for case in CASES}
        for case, values in paths.items():
            if len(values) != len(years) or min(values) <= 0 or list(values) != sorted(values):
                raise ValueError(f"power.toml [{name}] {case}: one positive value a year, rising")
        if not all(lo <= c <= hi for lo, c, hi in zip(*paths.values(), strict=True)):
            raise ValueError(f"power.toml [{name}]: low <= central <= high")
        tier = None if row.get("tier") is None else int(row["tier"])
        blocs.append(BlocPath(name, tuple(row.get("countries", ())), tier, paths))
    site = raw["largest_site"]
    months = tuple(parse_month(d) - parse_month("2024-01") for d in site["dates"])
    return PowerData(years, tuple(blocs), months, tuple(float(v) for v in site["gw"]))


def _between(low: float, high: float, weight: float) -> float:
    """Geometric interpolation from ``low`` (weight 0) to ``high`` (weight 1)."""
    return low ** (1.0 - weight) * high**weight


class PowerGrid:
    """Power available to each bloc, the energy per H100e of new chips, the largest site."""

    def __init__(self, countries: CountryTable, params: Parameters) -> None:
        self.params = params
        data = load_power_data()
        self.bloc_of = np.full(len(countries), -1, dtype=np.int64)
        for b, bloc in enumerate(data.blocs):
            for c, (iso, tier) in enumerate(zip(countries.iso, countries.tier, strict=True)):
                if self.bloc_of[c] >= 0:
                    continue
                listed = str(iso) in bloc.countries
                by_tier = bloc.tier is not None and int(tier) == bloc.tier
                rest = not bloc.countries and bloc.tier is None  # the last bloc takes the rest
                if listed or by_tier or rest:
                    self.bloc_of[c] = b
        self.index = {name: b for b, name in enumerate(BLOCS)}
        months = np.array([12 * (y - data.years[0]) for y in data.years], dtype=float)
        self._months = months
        self._log_paths = np.array(
            [np.log(self._position(bloc)) for bloc in data.blocs]
        )  # (blocs, years)
        self._capacity: dict[int, np.ndarray] = {}  # by month: read many times a month
        self._site_months = np.array(data.site_months, dtype=float)
        self._site_log = np.log(np.array(data.site_gw))

    def _position(self, bloc: BlocPath) -> np.ndarray:
        """The bloc's path at the run's position between the low, central and high cases."""
        weight = self.params.cn_power_build if bloc.name == "china" else self.params.power_build
        low, central, high = (np.array(bloc.paths[c]) for c in CASES)
        if weight <= 0.5:
            return _between(low, central, 2.0 * weight)
        return _between(central, high, 2.0 * weight - 1.0)

    def capacity_gw(self, months: int) -> np.ndarray:
        """GW available to each bloc in month ``months`` (log-linear between yearly points)."""
        cached = self._capacity.get(months)
        if cached is None:
            m = min(float(months), self._months[-1])
            cached = np.exp([np.interp(m, self._months, row) for row in self._log_paths])
            cached.flags.writeable = False
            self._capacity[months] = cached
        return cached

    def kw_per_h100e(self, months: int) -> float:
        """All-in kW drawn by one H100e of chips made in month ``months``."""
        p = self.params
        return p.kw_per_h100e_2024 * p.power_efficiency_gain ** (-months / 12.0)

    def site_gw(self, months: int) -> float:
        """The largest training site any lab can power (GW), extrapolated past the last point."""
        x, y = self._site_months, self._site_log
        if months >= x[-1]:
            slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
            return math.exp(y[-1] + slope * (months - x[-1]))
        return math.exp(float(np.interp(months, x, y)))
