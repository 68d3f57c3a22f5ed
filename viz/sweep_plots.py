"""Charts of sweep results: fan charts, two-factor heatmaps, Sobol indices, PRIM trade-offs.

Every function takes small tables already computed by ``chipwar.runs.experiments.analyze`` and
writes a PNG,
drawing on a ``Figure`` (no pyplot state, no GUI backend).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chipwar.viz.plots import PALETTE, log_axis

GREY = "0.45"


def plot_fans(
    fans: Mapping[str, pd.DataFrame],
    title: str,
    ylabel: str,
    path: Path,
    log: bool = False,
    ensemble: pd.DataFrame | None = None,
    note: str = "",
    branch: str | None = None,
) -> Path:
    """Median line and 10-90% band over seeds, one colour per design point.

    Each frame has columns ``date`` (YYYY-MM), ``q10``, ``q50``, ``q90``. ``ensemble`` (all runs
    together) is drawn underneath in grey, so chosen points are seen against the whole sweep.
    """
    fig = Figure(figsize=(9, 5), dpi=120)
    ax = fig.subplots()
    if ensemble is not None:
        dates = pd.to_datetime(ensemble["date"], format="%Y-%m")
        ax.fill_between(
            dates, ensemble["q10"], ensemble["q90"], color="0.88", label="all runs 10-90%"
        )
        ax.plot(
            dates, ensemble["q50"], color=GREY, linewidth=1, linestyle=":", label="all runs median"
        )
    colours = PALETTE if len(fans) <= len(PALETTE) else _many_colours(len(fans))
    for (label, fan), colour in zip(fans.items(), colours, strict=False):
        dates = pd.to_datetime(fan["date"], format="%Y-%m")
        ax.fill_between(dates, fan["q10"], fan["q90"], color=colour, alpha=0.18, linewidth=0)
        ax.plot(dates, fan["q50"], color=colour, linewidth=2, label=label)
    if branch:
        ax.axvline(pd.to_datetime(branch), color="0.4", linestyle="--", linewidth=1)
        ax.annotate(
            "levers take over",
            (pd.to_datetime(branch), 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=8,
            color="0.3",
        )
    if log:
        log_axis(ax)
    ax.set_title(title, fontsize=13, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="best")
    if note:
        fig.text(0.01, 0.01, note, fontsize=8, color="0.35")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    fig.savefig(path)
    return path


def _many_colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0, 0.9, n)]


def plot_heatmap(
    table: pd.DataFrame, title: str, xlabel: str, ylabel: str, value_label: str, path: Path
) -> Path:
    """Mean of a metric over two factors (rows: y bins, columns: x bins), annotated."""
    fig = Figure(figsize=(7.5, 5.8), dpi=120)
    ax = fig.subplots()
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=45)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    if values.size <= 144:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                colour = "black" if value > middle else "white"
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8, color=colour)
    fig.colorbar(image, ax=ax, label=value_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=12, loc="left")
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_sobol(table: pd.DataFrame, title: str, path: Path) -> Path:
    """First-order and total Sobol indices with confidence intervals, one bar pair per factor."""
    fig = Figure(figsize=(8, 0.6 * len(table) + 1.8), dpi=120)
    ax = fig.subplots()
    y = np.arange(len(table))
    height = 0.38
    ax.barh(
        y + height / 2, table["ST"], height, xerr=table["ST_conf"], color=PALETTE[1], label="total"
    )
    ax.barh(
        y - height / 2,
        table["S1"],
        height,
        xerr=table["S1_conf"],
        color=PALETTE[0],
        label="first order",
    )
    ax.set_yticks(y, list(table["factor"]))
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlabel("Sobol index (share of output variance)")
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_prim_tradeoff(trajectory: pd.DataFrame, chosen: int, title: str, path: Path) -> Path:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted dimensions."""
    fig = Figure(figsize=(7, 5), dpi=120)
    ax = fig.subplots()
    points = ax.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=25
    )
    pick = trajectory.iloc[chosen]
    ax.scatter(
        [pick["coverage"]],
        [pick["density"]],
        s=160,
        facecolors="none",
        edgecolors=PALETTE[1],
        linewidths=2,
        label=f"chosen box {chosen}",
    )
    fig.colorbar(points, ax=ax, label="restricted factors")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("density (share of runs in the box that are cases)")
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    return path
