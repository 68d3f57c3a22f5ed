"""The side panels' contents: which series each plots, their titles and number formats.

Kept apart from the figure's layout so a panel's wording or format is changed in one place; the
replay's figure (figure.py) lays them out and animates them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FixedLocator


def fmt_gap(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.1f}×"


def fmt_lead(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.0f}"


def fmt_h100e(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def fmt_people(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value >= 1e9:
        return f"{value / 1e9:.1f} bn"
    return f"{value / 1e6:.0f} m"


@dataclass(frozen=True)
class Panel:
    """One side panel: the RunTrack column it plots, its titles and how its values print."""

    column: str
    title: str
    short_title: str  # side by side, where two values share the title row
    fmt: Callable[[float], str]
    log: bool = False


PANELS = (
    Panel("gap", "Compute gap, US ÷ China", "Compute, US ÷ China", fmt_gap, log=True),
    Panel("lead", "US lead in AI, months", "US lead in AI, months", fmt_lead),
    Panel("smuggled", "Smuggled to China, H100e", "Smuggled, H100e", fmt_h100e),
)


def nice_locator(hi: float) -> FixedLocator:
    """Three or four round ticks from 0 up to about ``hi``."""
    raw = hi / 3
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return FixedLocator(list(np.arange(0, hi * 1.18 + 1e-9, step)))
