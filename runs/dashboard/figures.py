"""Figures the dashboard shows: the world map and the headline charts (matplotlib, no pyplot).

Why here: the page draws from live state (a model in the explore view, the session's month
records in a wargame), while ``viz/replay/`` draws from run folders' tables. Both share the map
geometry (``viz/worldmap.py``) and the replay's light theme and colour scale; the headline
charts are the wargame report's (``viz/wargame_plots.py``).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from chipwar.viz.replay import THEMES
from chipwar.viz.wargame_plots import lead_gap_chart
from chipwar.viz.worldmap import ATTRIBUTION, map_geometry

THEME = THEMES["light"]


def share_map(cn_share: np.ndarray, title: str) -> Figure:
    """Countries coloured by the share of their adopters on the Chinese stack (0 to 1).

    ``cn_share`` is indexed by country-table row (NaN: no data).
    """
    geometry = map_geometry()
    cmap = LinearSegmentedColormap.from_list("chipwar_share", THEME.share_colors)
    norm = Normalize(0.0, 1.0)
    values = np.asarray(cn_share, dtype=float)
    no_data = np.array([0.73, 0.73, 0.73, 1.0])

    def colours(rows: np.ndarray) -> np.ndarray:
        rgba = np.tile(no_data, (len(rows), 1))
        ok = (rows >= 0) & (rows < len(values))
        ok[ok] &= np.isfinite(values[rows[ok]])
        rgba[ok] = cmap(norm(values[rows[ok]]))
        return rgba

    fig = Figure(figsize=(9.0, 4.9), dpi=90)
    fig.patch.set_facecolor(THEME.bg)
    ax = fig.add_axes((0.0, 0.08, 1.0, 0.84))
    ax.set_axis_off()
    ax.set_xlim(*geometry.xlim)
    ax.set_ylim(*geometry.ylim)
    ax.set_aspect("equal", adjustable="box", anchor="C")
    ax.add_patch(Polygon(geometry.outline, closed=True, facecolor=THEME.ocean, lw=0, zorder=0))
    ax.add_collection(
        PolyCollection(
            list(geometry.rings),
            facecolors=colours(geometry.ring_country),
            edgecolors=THEME.border,
            linewidths=0.3,
            zorder=1,
        )
    )
    ax.scatter(
        geometry.marker_xy[:, 0],
        geometry.marker_xy[:, 1],
        s=14,
        c=colours(geometry.marker_country),
        edgecolors=THEME.fg,
        linewidths=0.4,
        zorder=3,
    )
    fig.text(0.01, 0.96, title, fontsize=12, color=THEME.fg, va="top")
    bar = fig.add_axes((0.25, 0.045, 0.5, 0.025))
    gradient = np.linspace(0, 1, 256)[None, :]
    bar.imshow(gradient, aspect="auto", cmap=cmap, extent=(0, 1, 0, 1))
    bar.set_yticks([])
    bar.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"], fontsize=8)
    bar.set_title("adopters on the Chinese stack", fontsize=8, color=THEME.muted)
    fig.text(0.99, 0.01, ATTRIBUTION, fontsize=7, color=THEME.muted, ha="right")
    return fig


def headline_chart(series: pd.DataFrame, previous: pd.DataFrame | None = None) -> Figure:
    """US lead and compute gap over time (the wargame report's chart), the last run dashed."""
    fig = lead_gap_chart(series)
    if previous is not None and len(previous):
        dates = pd.to_datetime(previous["date"], format="%Y-%m")
        top, bottom = fig.axes[0], fig.axes[1]
        style = {"color": "0.55", "linewidth": 1.4, "linestyle": "--", "label": "previous run"}
        top.plot(dates, previous["lead_months"], **style)
        bottom.plot(dates, previous["compute_gap"], **style)
        top.legend(frameon=False, fontsize=8, loc="upper left")
    return fig


def png(fig: Figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
