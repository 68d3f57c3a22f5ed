"""The tournament chart draws any square or rectangular game and refuses mismatched arrays."""

from __future__ import annotations

import io

import numpy as np
import pytest

from chipwar.viz.tournament_plots import plot_payoff_heatmaps


def _game(m: int, n: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(m * 10 + n)
    us, china = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    return (us, us - 0.5, us + 0.5), (china, china - 0.2, china + 0.2)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (1, 1)])
def test_heatmaps_write_the_same_png_twice(shape, tmp_path):
    us, china = _game(*shape)
    best_us = us[0] >= us[0].max(axis=0, keepdims=True)
    best_cn = china[0] >= china[0].max(axis=1, keepdims=True)
    names_us = [f"us{i}" for i in range(shape[0])]
    names_cn = [f"cn{j}" for j in range(shape[1])]
    args = (names_us, names_cn, us, china, best_us, best_cn, [(0, 0)], "test")
    path = plot_payoff_heatmaps(*args, tmp_path / "a.png")
    buffer = io.BytesIO()
    plot_payoff_heatmaps(*args, buffer)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    assert buffer.getvalue() == data


def test_mismatched_matrices_are_refused(tmp_path):
    us, china = _game(3, 3)
    with pytest.raises(ValueError, match="does not match 2x3"):
        plot_payoff_heatmaps(
            ["a", "b"], ["x", "y", "z"], us, china, us[0] > 0, china[0] > 0, [], "t", tmp_path / "x"
        )
