"""Static comparison charts (matplotlib, PNG) read from run tables, not from live models."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from chipwar.world.countries import REGION_LABELS, REGIONS

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")  # colour-blind safe


def log_axis(ax: Axes) -> None:
    """A log y axis labelled in plain numbers at 1, 2, 3 and 5 per decade: readable whether the
    data span half a decade or three (labelling every minor tick overprints when they span many)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _dates(series: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.to_datetime(series["date"], format="%Y-%m")


def plot_metric(
    runs: Mapping[str, pd.DataFrame],
    column: str,
    title: str,
    ylabel: str,
    path: Path,
    log: bool = False,
    band: tuple[float, float] | None = None,
    band_label: str = "",
    bands: Mapping[str, pd.DataFrame] | None = None,
    members: int | None = None,
) -> Path:
    """One line per scenario for one model-level column; optional shaded target band.

    ``bands``: per scenario, an ensemble's bands table (date, metric, p10, p50, p90; as in a run
    folder's bands.parquet): that scenario is drawn as a fan, its median as the line and the
    10-90% range shaded, over ``members`` runs.
    """
    fig = Figure(figsize=(8, 4.5), dpi=120)  # no pyplot: no global state, no GUI backend
    ax = fig.subplots()
    for (name, series), colour in zip(runs.items(), PALETTE, strict=False):
        fan = band_rows(bands.get(name) if bands else None, column)
        if fan is None:
            ax.plot(_dates(series), series[column], label=name, color=colour, linewidth=2)
            continue
        dates = _dates(fan)
        ax.fill_between(dates, fan["p10"], fan["p90"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(dates, fan["p50"], label=name, color=colour, linewidth=2)
    if band:
        ax.axhspan(*band, color="0.85", zorder=0, label=band_label or None)
    first = next(iter(runs.values()))
    branch = first.attrs.get("branch")
    if branch:
        ax.axvline(pd.to_datetime(branch), color="0.4", linestyle="--", linewidth=1)
        ax.annotate(
            "branch point",
            (pd.to_datetime(branch), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14),
            textcoords="offset points",
            fontsize=9,
            color="0.3",
        )
    if log:
        log_axis(ax)
    ax.set_title(title, fontsize=13, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if bands:
        of = f"{members} calibrated members" if members else "the calibrated members"
        legend = ax.legend(  # below the axes: a fan fills the plot
            frameon=False,
            title=f"medians; shaded: 10-90% of {of}",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncols=len(runs),
        )
        legend.get_title().set_fontsize(9)
    else:
        ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return path


def band_rows(bands: pd.DataFrame | None, metric: str) -> pd.DataFrame | None:
    """One metric's rows of a bands table (date, p10, p50, p90), in date order; None if absent."""
    if bands is None:
        return None
    rows = bands[bands["metric"] == metric]
    return rows.sort_values("date").reset_index(drop=True) if len(rows) else None


def plot_region_shares(runs: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Chinese-stack share of adopters over time, one small panel per region."""
    fig = Figure(figsize=(15, 6), dpi=110)
    axes = fig.subplots(2, 5, sharex=True, sharey=True)
    for ax, region in zip(axes.flat, REGIONS, strict=True):
        for (name, series), colour in zip(runs.items(), PALETTE, strict=False):
            ax.plot(_dates(series), series[f"cn_share_{region}"], color=colour, label=name)
        ax.set_title(REGION_LABELS[region], fontsize=10)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes[0, 0].set_ylabel("Chinese-stack share")
    axes[1, 0].set_ylabel("Chinese-stack share")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", frameon=False, ncols=len(labels))
    fig.suptitle("Adopters on the Chinese AI stack, by region", x=0.01, ha="left", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path)
    return path
