"""The capability race: frontier capability of each side, the US lead in months, distillation.

Capability is log10 of effective training compute (FLOP times the algorithmic multiplier),
so compute, algorithms and distillation are on one scale. A frontier run is bounded twice: by the
chips a lab has and by the largest training site it can power, and its length is capped. The lead
in months is read off the recorded trajectories: how long ago the leader stood where the follower
stands now.
"""

from __future__ import annotations

import math

import numpy as np

from chipwar.world.parameters import Parameters
from chipwar.world.power import KW_PER_GW, PowerGrid

BACKCAST_MONTHS = 120
POWER_BLOC = {"us": "us", "cn": "china"}


class CapabilityRace:
    """Trajectories of US and Chinese frontier capability and the distillation channel."""

    def __init__(self, params: Parameters, power: PowerGrid | None = None) -> None:
        self.params = params
        if power is None:
            from chipwar.world.countries import load_countries

            power = PowerGrid(load_countries(), params)
        self.power = power
        self.capability = {"us": -math.inf, "cn": -math.inf}
        self.history: dict[str, list[float]] = {"us": [], "cn": []}
        self.detection = params.distillation_detect_min
        self.frontier_run_flop = {"us": 0.0, "cn": 0.0}
        self.site_gw = {"us": 0.0, "cn": 0.0}

    def algorithmic_offset(self, months: int) -> float:
        """log10 of the algorithmic-efficiency multiplier since the start (shared by both sides)."""
        return math.log10(self.params.algorithmic_progress) * months / 12.0

    def run_months(self, months: int) -> float:
        """Length of a frontier run started in month ``months``: growing, then capped."""
        p = self.params
        return min(p.run_months * p.run_length_growth ** (months / 12.0), p.run_months_max)

    def largest_site_gw(self, months: int, side: str) -> float:
        """The largest training site a side's lab can power: the frontier site, within its power."""
        power = self.power
        side_gw = power.capacity_gw(months)[power.index[POWER_BLOC[side]]]
        return min(power.site_gw(months), self.params.site_max_share * side_gw)

    def run_h100e(self, lab_compute: float, months: int, side: str) -> float:
        """H100e a lab's frontier run uses: part of the largest site, or of its own compute."""
        p = self.params
        site_kw = self.largest_site_gw(months, side) * KW_PER_GW
        site_h100e = site_kw / self.power.kw_per_h100e(months)
        return min(p.run_site_share * site_h100e, p.training_fraction * lab_compute)

    def training_flop(self, lab_compute: float, months: int, side: str = "us") -> float:
        """Raw FLOP of a frontier run on a lab's compute (without algorithmic progress)."""
        run = max(self.run_h100e(lab_compute, months, side), 1.0)
        return run * self.run_months(months) * self.params.flop_per_h100e_month

    def training_capability(
        self, lab_compute: float, months: int, lag: float = 0.0, side: str = "us"
    ) -> float:
        """Capability of a frontier run on a lab's compute, in log10 effective FLOP.

        ``lag`` is how many months behind the frontier's algorithms the lab works.
        """
        flop = self.training_flop(lab_compute, months, side)
        return math.log10(flop) + self.algorithmic_offset(months - lag)

    def set_detection(self, share_detected: float) -> None:
        """US labs report how much distillation traffic they detect and ban."""
        self.detection = min(max(share_detected, 0.0), 1.0)

    def distill(self, bonus: float, effort: float, base: float) -> float:
        """Next distillation bonus of a lab at ``base`` capability copying the US frontier.

        The bonus decays as frontier models move on and grows with the undetected share of a
        campaign times the gap that is left, so it can close the gap but never overshoot it.
        """
        p = self.params
        gap = max(self.capability["us"] - (base + bonus), 0.0)
        undetected = effort * (1.0 - self.detection)
        return bonus * (1.0 - p.distillation_decay) + p.distillation_rate * undetected * gap

    def record_run(self, side: str, flop: float, months: int) -> None:
        """The largest training run and site of a side this month (for observation only)."""
        self.frontier_run_flop[side] = max(self.frontier_run_flop[side], flop)
        self.site_gw[side] = self.largest_site_gw(months, side)

    def record(self, side: str, capability: float) -> None:
        """A side's capability never falls: knowledge is not lost when hardware ages."""
        self.capability[side] = max(self.capability[side], capability)

    def begin_month(self) -> None:
        self.frontier_run_flop = {"us": 0.0, "cn": 0.0}

    def close_month(self) -> None:
        """Append this month's capabilities to the trajectories (backcast the first time)."""
        for side in ("us", "cn"):
            history = self.history[side]
            if not history:
                history.extend(self._backcast(self.capability[side]))
            history.append(self.capability[side])

    def _backcast(self, start: float) -> list[float]:
        """The trajectory before the run, at the historical growth rate of frontier capability."""
        p = self.params
        slope = math.log10(p.pre2024_compute_growth * p.algorithmic_progress) / 12.0
        return [start - slope * k for k in range(BACKCAST_MONTHS, 0, -1)]

    def lead_months(self) -> float:
        """Months the US is ahead (negative when China leads)."""
        us, cn = self.capability["us"], self.capability["cn"]
        if us >= cn:
            return months_behind(self.history["us"], cn)
        return -months_behind(self.history["cn"], us)


def months_behind(trajectory: list[float], level: float) -> float:
    """How many months ago a non-decreasing trajectory first reached ``level`` (interpolated)."""
    values = np.asarray(trajectory)
    now = len(values) - 1
    reached = int(np.searchsorted(values, level, side="left"))
    if reached > now:
        return 0.0
    if reached == 0:
        return float(now)
    below, above = values[reached - 1], values[reached]
    fraction = 0.0 if above == below else (level - below) / (above - below)
    return float(now - (reached - 1 + fraction))
