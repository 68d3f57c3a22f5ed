"""Static charts: files a viewer can open, one line per scenario."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd

from chipwar.viz.plots import plot_metric, plot_region_shares
from chipwar.world.countries import REGIONS


def _series(level: float) -> pd.DataFrame:
    dates = pd.period_range("2024-01", "2030-12", freq="M").strftime("%Y-%m")
    frame = pd.DataFrame({"date": dates, "compute_gap": np.linspace(5, 5 * level, len(dates))})
    for region in REGIONS:
        frame[f"cn_share_{region}"] = np.linspace(0.1, 0.1 * level, len(dates))
    return frame


def test_metric_and_region_charts_are_written_as_readable_pngs(tmp_path):
    runs = {"a": _series(2.0), "b": _series(4.0)}
    runs["a"].attrs["branch"] = "2026-06"
    line = plot_metric(runs, "compute_gap", "Gap", "ratio", tmp_path / "gap.png", log=True)
    grid = plot_region_shares(runs, tmp_path / "regions.png")
    for path in (line, grid):
        image = mpimg.imread(path)
        assert image.shape[0] > 300 and image.shape[1] > 600
        assert image[..., :3].std() > 0.05  # something is drawn, not a blank canvas


def test_a_metric_chart_draws_each_ensemble_as_a_fan(tmp_path):
    runs = {"a": _series(2.0), "b": _series(4.0)}
    dates = runs["a"]["date"]
    bands = {
        name: pd.DataFrame(
            {
                "date": dates,
                "metric": "compute_gap",
                "p10": series["compute_gap"] * 0.7,
                "p50": series["compute_gap"],
                "p90": series["compute_gap"] * 1.4,
            }
        )
        for name, series in runs.items()
    }
    plain = plot_metric(runs, "compute_gap", "Gap", "ratio", tmp_path / "plain.png", log=True)
    fan = plot_metric(
        runs, "compute_gap", "Gap", "ratio", tmp_path / "fan.png", log=True, bands=bands, members=20
    )
    a, b = mpimg.imread(plain), mpimg.imread(fan)
    assert a.shape == b.shape
    assert (np.abs(a[..., :3] - b[..., :3]).sum(axis=2) > 0.1).mean() > 0.02  # shaded fans
