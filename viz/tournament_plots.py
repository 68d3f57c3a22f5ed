"""The doctrine tournament's chart: each side's payoff matrix as a heatmap (matplotlib, PNG).

Drawn on a ``Figure`` (no pyplot state, no GUI backend) from arrays the caller hands over: rows
are US doctrines, columns China doctrines. Each cell gives the mean payoff over ensemble members
and its 10-90% range; the pure-strategy equilibria of the mean game are outlined, and each side's
best responses marked, so the chart carries the report's answer as well as its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

Array = NDArray[np.float64]


def _panel(
    fig: Figure,
    ax: Axes,
    mean: Array,
    low: Array,
    high: Array,
    best: NDArray[np.bool_],
    equilibria: Sequence[tuple[int, int]],
    title: str,
    cmap: str,
    rows: Sequence[str],
    columns: Sequence[str],
) -> None:
    image = ax.imshow(mean, cmap=cmap, aspect="auto")
    span = float(np.ptp(mean)) if mean.size else 0.0
    middle = float(mean.min()) + span / 2
    for (i, j), value in np.ndenumerate(mean):
        colour = "white" if value > middle else "black"  # dark cells carry light text
        mark = " *" if best[i, j] else ""
        ax.text(
            j,
            i,
            f"{value:.2f}{mark}\n[{low[i, j]:.2f}, {high[i, j]:.2f}]",
            ha="center",
            va="center",
            fontsize=9,
            color=colour,
        )
    for i, j in equilibria:
        ax.add_patch(
            Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, edgecolor="#D55E00", lw=3)
        )
    ax.set_xticks(range(len(columns)), list(columns))
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_xlabel("China doctrine")
    ax.set_ylabel("US doctrine")
    ax.set_title(title, fontsize=11, loc="left")
    fig.colorbar(image, ax=ax, shrink=0.85)


def plot_payoff_heatmaps(
    us_doctrines: Sequence[str],
    china_doctrines: Sequence[str],
    us: tuple[Array, Array, Array],
    china: tuple[Array, Array, Array],
    us_best: NDArray[np.bool_],
    china_best: NDArray[np.bool_],
    equilibria: Sequence[tuple[int, int]],
    title: str,
    path: Path | IO[bytes],
) -> Path | IO[bytes]:
    """Two heatmaps side by side: the US payoff and China's, each (mean, p10, p90) by cell.

    ``us_best[i, j]``: US doctrine i is a best response to China doctrine j (marked ``*`` on the
    US panel); ``china_best[i, j]``: China doctrine j is one to US doctrine i (on China's).
    Writes PNG to ``path`` (a file name, whatever its suffix, or a binary file object).
    """
    n_rows, n_cols = len(us_doctrines), len(china_doctrines)
    fig = Figure(figsize=(5.2 * 2 + 1.0, 1.1 * n_rows + 2.4), dpi=110)
    axes = fig.subplots(1, 2)
    for ax, (mean, low, high), best, name, cmap in (
        (axes[0], us, us_best, "US payoff", "Blues"),
        (axes[1], china, china_best, "China payoff", "Reds"),
    ):
        if mean.shape != (n_rows, n_cols):
            raise ValueError(f"{name}: {mean.shape} does not match {n_rows}x{n_cols} doctrines")
        _panel(
            fig, ax, mean, low, high, best, equilibria, name, cmap, us_doctrines, china_doctrines
        )
    fig.suptitle(title, fontsize=12, x=0.01, ha="left")
    fig.text(
        0.01,
        0.01,
        "mean over members [10th, 90th percentile];  * best response;  "
        "outlined: pure-strategy equilibrium of the mean game",
        fontsize=8,
        color="0.3",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    fig.savefig(path, format="png")
    return path
