"""The capability race: frontier capability of each side, the US lead in months, distillation.

Capability is log10 of effective training compute (FLOP times the algorithmic multiplier),
so compute, algorithms and distillation are on one scale. The lead in months is read off the
recorded trajectories: how long ago the leader stood where the follower stands now.
"""

from __future__ import annotations

import math

import numpy as np

from chipwar.world.parameters import Parameters

BACKCAST_MONTHS = 120


class CapabilityRace:
    """Trajectories of US and Chinese frontier capability and the distillation channel."""

    def __init__(self, params: Parameters) -> None:
        self.params = params
        self.capability = {"us": -math.inf, "cn": -math.inf}
        self.history: dict[str, list[float]] = {"us": [], "cn": []}
        self.detection = params.distillation_detect_min
        self.frontier_run_flop = {"us": 0.0, "cn": 0.0}
        # log10 effective-compute gains from algorithmic breakthroughs (shocks), per side.
        self.algorithm_bonus = {"us": 0.0, "cn": 0.0}

    def algorithmic_offset(self, months: int) -> float:
        """log10 of the algorithmic-efficiency multiplier since the start (shared by both sides)."""
        return math.log10(self.params.algorithmic_progress) * months / 12.0

    def training_capability(self, lab_compute: float, months: int, lag: float = 0.0) -> float:
        """Capability of a frontier run on a lab's compute, in log10 effective FLOP.

        ``lag`` is how many months behind the frontier's algorithms the lab works.
        """
        p = self.params
        run_months = p.run_months * p.run_length_growth ** (months / 12.0)
        flop = max(lab_compute, 1.0) * p.training_fraction * run_months * p.flop_per_h100e_month
        return math.log10(flop) + self.algorithmic_offset(months - lag)

    def training_flop(self, lab_compute: float, months: int) -> float:
        """Raw FLOP of a frontier run on a lab's compute (without algorithmic progress)."""
        return 10.0 ** (
            self.training_capability(lab_compute, months) - self.algorithmic_offset(months)
        )

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

    def record_run(self, side: str, flop: float) -> None:
        """The largest training run of a side this month (for observation only)."""
        self.frontier_run_flop[side] = max(self.frontier_run_flop[side], flop)

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
