"""Sweep charts draw from small tables, cope with gaps, and write real PNGs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipwar.viz.sweep_plots import plot_fans, plot_heatmap, plot_prim_tradeoff, plot_sobol


def _fan(level: float) -> pd.DataFrame:
    dates = [f"2026-{m:02d}" for m in range(1, 13)]
    mid = level + np.linspace(0, 1, 12)
    return pd.DataFrame({"date": dates, "q10": mid - 0.5, "q50": mid, "q90": mid + 0.5})


def test_fans_heatmap_sobol_and_prim_write_pngs(tmp_path):
    fans = {f"p{i}": _fan(i) for i in range(8)}  # more points than the palette has colours
    paths = [
        plot_fans(fans, "lead", "months", tmp_path / "fan.png", ensemble=_fan(3), branch="2026-06"),
        plot_fans({"a": _fan(1)}, "gap", "x", tmp_path / "log.png", log=True, note="one seed"),
        plot_heatmap(
            pd.DataFrame([[1.0, np.nan], [3.0, 4.0]], index=[0.1, 0.9], columns=[0.2, 0.8]),
            "mean lead",
            "us.kyc",
            "us.enforcement",
            "months",
            tmp_path / "heat.png",
        ),
        plot_sobol(
            pd.DataFrame(
                {
                    "factor": ["us.kyc", "us.enforcement"],
                    "S1": [0.7, 0.0],
                    "S1_conf": [0.1, 0.01],
                    "ST": [0.8, 0.0],
                    "ST_conf": [0.1, 0.01],
                }
            ),
            "Sobol",
            tmp_path / "sobol.png",
        ),
        plot_prim_tradeoff(
            pd.DataFrame(
                {"coverage": [1, 0.9, 0.7], "density": [0.2, 0.6, 0.9], "res_dim": [0, 1, 2]}
            ),
            1,
            "PRIM",
            tmp_path / "prim.png",
        ),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
