"""What both kernel families share: the per-step utility tables and how work is split.

The update rule itself is written out in the package docstring (``world/adoption/__init__.py``).
Both the reference kernels (``reference.py``) and the incremental ones (``incremental.py``) turn
it into the same two lookup tables here, so the per-adopter loops have no branches on state or
official stack, and both split the adopters into the same blocks and chunks.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

# Adopters per prange iteration of a parallel step: big enough to amortise the call, small
# enough to balance two cores. The split cannot change results (the RNG is counter-based).
STEP_CHUNK = 1 << 14
# Adopters per block inside a chunk: enough gathers in flight, scratch in L1.
BLOCK = 256


@njit(cache=True)
def step_tables(
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    official_weight: float,
    switching_cost: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-step lookup tables, so the per-adopter loop has no branches on state or official.

    base[c, k] = country_utility[c, k] + official_weight * (official[c] == k != none): a
    government that hedges (official 0) favours neither stack, and never "no AI".
    leave[s, k] = switching_cost * (s != none and k != s).
    """
    n_countries = country_utility.shape[0]
    base = np.empty((n_countries, 3), dtype=np.float64)
    for c in range(n_countries):
        for k in range(3):
            base[c, k] = country_utility[c, k]
        if official[c] != 0:
            base[c, official[c]] += official_weight
    leave = np.zeros((3, 3), dtype=np.float64)
    for s in range(1, 3):
        for k in range(3):
            if k != s:
                leave[s, k] = switching_cost
    return base, leave
