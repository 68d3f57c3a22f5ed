"""Charts of a wargame session: built from plain tables, returned as matplotlib Figures.

Why Figures (not files): the turn report saves them as PNG, and the browser page shows the same
objects without touching disk; neither uses pyplot's global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from chipwar.viz.plots import PALETTE, log_axis

SOURCE_COLOURS = {
    "initial": "#999999",
    "domestic": "#D55E00",
    "licensed": "#0072B2",
    "smuggled": "#CC79A7",
    "offshore": "#E69F00",
}
SOURCE_LABELS = {
    "initial": "2024 stockpile",
    "domestic": "domestic chips",
    "licensed": "licensed US chips",
    "smuggled": "smuggled chips",
    "offshore": "rented offshore",
}


def _dates(frame: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.to_datetime(frame["date"], format="%Y-%m")


def _mark_turns(ax, frame: pd.DataFrame, turn: tuple[str, str] | None, starts: Sequence[str]):
    for start in starts:
        ax.axvline(pd.to_datetime(start), color="0.75", linewidth=0.8, zorder=0)
    if turn:
        first = pd.to_datetime(turn[0])
        last = pd.to_datetime(turn[1]) + pd.offsets.MonthEnd(0)
        ax.axvspan(first, last, color="#fff3c4", zorder=0, label="this turn")


def china_compute_chart(
    frame: pd.DataFrame, turn: tuple[str, str] | None = None, starts: Sequence[str] = ()
) -> Figure:
    """China's compute by source, stacked (H100e), with the turn shaded."""
    fig = Figure(figsize=(8, 3.6), dpi=100)
    ax = fig.subplots()
    dates = _dates(frame)
    columns = [c for c in SOURCE_COLOURS if c in frame]
    ax.stackplot(
        dates,
        *[frame[c].to_numpy() / 1e6 for c in columns],
        labels=[SOURCE_LABELS[c] for c in columns],
        colors=[SOURCE_COLOURS[c] for c in columns],
        alpha=0.9,
    )
    _mark_turns(ax, frame, turn, starts)
    ax.set_title("China's AI compute by source", loc="left", fontsize=12)
    ax.set_ylabel("million H100e")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left", ncols=2)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.1)
    return fig


def lead_gap_chart(
    frame: pd.DataFrame, turn: tuple[str, str] | None = None, starts: Sequence[str] = ()
) -> Figure:
    """The US lead in months and the compute gap, one panel each."""
    fig = Figure(figsize=(8, 4.4), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True)
    dates = _dates(frame)
    top.plot(dates, frame["lead_months"], color=PALETTE[0], linewidth=2)
    top.set_ylabel("US lead (months)")
    bottom.plot(dates, frame["compute_gap"], color=PALETTE[1], linewidth=2)
    log_axis(bottom)
    bottom.set_ylabel("compute gap (US/CN)")
    for ax in (top, bottom):
        _mark_turns(ax, frame, turn, starts)
        ax.grid(alpha=0.3)
    top.set_title("The race: lead and compute gap", loc="left", fontsize=12)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.08, hspace=0.12)
    return fig


def region_shift_chart(
    labels: Sequence[str], before: Sequence[float], after: Sequence[float], title: str
) -> Figure:
    """Chinese-stack share of adopters by region at the start and end of a turn."""
    fig = Figure(figsize=(8, 3.8), dpi=100)
    ax = fig.subplots()
    y = np.arange(len(labels))
    ax.barh(y + 0.2, before, height=0.4, color="0.7", label="start of turn")
    ax.barh(y - 0.2, after, height=0.4, color=SOURCE_COLOURS["domestic"], label="end of turn")
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(title, loc="left", fontsize=12)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.subplots_adjust(left=0.27, right=0.97, top=0.9, bottom=0.08)
    return fig


def fan_chart(
    bands: Mapping[str, pd.DataFrame], titles: Mapping[str, str], log: Sequence[str] = ()
) -> Figure:
    """One panel per metric: median line and 10-90% / min-max bands over seeds.

    ``bands[metric]`` has columns date, p10, p50, p90, min, max.
    """
    fig = Figure(figsize=(8, 2.6 * len(bands)), dpi=100)
    axes = np.atleast_1d(fig.subplots(len(bands), 1, sharex=True))
    for ax, (metric, band) in zip(axes, bands.items(), strict=True):
        dates = _dates(band)
        ax.fill_between(dates, band["min"], band["max"], color=PALETTE[0], alpha=0.12, lw=0)
        ax.fill_between(dates, band["p10"], band["p90"], color=PALETTE[0], alpha=0.3, lw=0)
        ax.plot(dates, band["p50"], color=PALETTE[0], linewidth=2)
        if metric in log:
            log_axis(ax)
        ax.set_title(titles.get(metric, metric), loc="left", fontsize=11)
        ax.grid(alpha=0.3)
    axes[0].text(
        1.0,
        1.02,
        "median, 10-90% and full range over seeds",
        transform=axes[0].transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.4",
    )
    fig.tight_layout()
    return fig
