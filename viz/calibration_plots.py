"""One chart per calibration target: the values over seeds against the accepted range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def plot_target(row: dict[str, Any], path: Path) -> Path:
    values = np.asarray(row["values"], dtype=float)
    fig = Figure(figsize=(6, 1.8), dpi=110)
    ax = fig.subplots()
    ax.axvspan(row["lower"], row["upper"], color="#56B4E9", alpha=0.3, label="accepted range")
    ax.axvline(row["central"], color="#0072B2", linewidth=1.5, label="central value")
    jitter = np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else np.zeros(1)
    ax.scatter(values, jitter, color="#D55E00", s=18, zorder=3, label="runs (one per seed)")
    ax.set_yticks([])
    ax.set_ylim(-0.6, 0.6)
    span = [min(values.min(), row["lower"]), max(values.max(), row["upper"])]
    if span[0] > 0 and span[1] / span[0] > 30:
        ax.set_xscale("log")
    ax.set_title(f"{row['target']} ({row['use']}, {row['preset']})", fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="upper right", frameon=False, ncols=3, bbox_to_anchor=(1, 1.35))
    fig.tight_layout()
    fig.savefig(path)
    return path
