"""A small ensemble file in the contract format (world/ensemble.py), for tests.

The calibrated ensemble (world/data/ensemble.parquet) comes from ``chipwar calibrate
--ensemble``; tests must not depend on it, so they write their own: members drawn by Latin
hypercube inside a band around each fitted parameter's shipped value (clipped to its range),
with unequal weights unless asked otherwise.
"""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chipwar.world.ensemble import FIT_KEY
from chipwar.world.parameters import parameter_table


def fitted_parameters() -> list[str]:
    """The calibrated parameters (world/data/calibration.toml)."""
    text = (files("chipwar.world") / "data" / "calibration.toml").read_text("utf-8")
    return list(tomllib.loads(text)["fit_parameters"])


def ensemble_table(
    members: int = 8,
    seed: int = 0,
    spread: float = 0.25,
    equal_weights: bool = False,
    parameters: list[str] | None = None,
) -> pa.Table:
    """Members inside ``value * (1 +/- spread)`` of each parameter (within its range)."""
    from scipy.stats import qmc

    table = parameter_table()
    names = parameters or fitted_parameters()
    rng = np.random.default_rng(seed)
    unit = qmc.LatinHypercube(d=len(names), rng=rng).random(members)
    columns: dict[str, pa.Array] = {"member": pa.array(np.arange(members), pa.int64())}
    raw = np.ones(members) if equal_weights else rng.uniform(0.5, 1.5, members)
    columns["weight"] = pa.array(raw / raw.sum(), pa.float64())
    for j, name in enumerate(names):
        spec = table[name]
        low = max(spec.min, spec.value * (1 - spread))
        high = min(spec.max, spec.value * (1 + spread))
        columns[name] = pa.array(low + unit[:, j] * (high - low), pa.float64())
    columns["distance"] = pa.array(rng.uniform(0.0, 1.0, members), pa.float64())
    fit = {
        "method": "test fixture (Latin hypercube around the shipped values)",
        "library": "scipy",
        "members": members,
        "seed": seed,
    }
    return pa.table(columns).replace_schema_metadata({FIT_KEY: json.dumps(fit).encode()})


def write_ensemble(path: Path, **kwargs: object) -> Path:
    """Write :func:`ensemble_table` to ``path`` (Parquet, zstd)."""
    pq.write_table(ensemble_table(**kwargs), path, compression="zstd")  # type: ignore[arg-type]
    return path
