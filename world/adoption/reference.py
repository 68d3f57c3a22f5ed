"""The direct reference kernels: each reviser re-reads its neighbours' states every month.

This is the update rule of the package docstring (``world/adoption/__init__.py``) written the
plain way, kept as the reference the incremental kernels (``incremental.py``, what
``AdoptionField.step`` runs) are tested against bit for bit, and measured against by the
benchmarks. ``step_kernel_serial`` and ``step_kernel_parallel`` give identical states; the
``counts_kernel_*`` tallies count adopters per (country, stack) from scratch.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from chipwar.world.adoption.draws import ONE, TWO, exp_nonpositive, step_key, uniform
from chipwar.world.adoption.intrinsics import prefetch
from chipwar.world.adoption.rule import BLOCK, STEP_CHUNK, step_tables


@njit(cache=True)
def pack_range(lo: int, hi: int, state: NDArray[np.int8], packed: NDArray[np.uint8]) -> None:
    """Pack states of adopters [4 lo, 4 hi) into bytes lo..hi-1, four 2-bit codes per byte."""
    n = state.shape[0]
    for b in range(lo, hi):
        i = 4 * b
        if i + 4 <= n:
            v = state[i] | (state[i + 1] << 2) | (state[i + 2] << 4) | (state[i + 3] << 6)
        else:
            v = 0
            for k in range(n - i):
                v |= state[i + k] << (2 * k)
        packed[b] = v


@njit(cache=True)
def update_range(
    lo: int,
    hi: int,
    state_in: NDArray[np.int8],
    state_out: NDArray[np.int8],
    packed: NDArray[np.uint8],
    heterogeneity: NDArray[np.float32],
    indptr: NDArray[np.integer],
    indices: NDArray[np.integer],
    country: NDArray[np.integer],
    base: NDArray[np.float64],
    leave: NDArray[np.float64],
    revision_rate: float,
    neighbour_weight: float,
    key: np.uint64,
) -> int:
    """Apply the update rule to adopters [lo, hi); returns how many switched.

    The rule lives here once and both kernels call it per chunk: one call per chunk (not per
    adopter) keeps numba's array reference counting out of the inner loop.

    Speed comes from memory, not arithmetic. Neighbour states are read from ``packed``, the 2-bit
    copy of ``state_in`` (a quarter of the bytes, more of it in cache). Each block of adopters
    goes through tight passes: who revises (branch-free compaction); prefetch then gather the
    neighbour shares, so many cache misses are in flight at once; utilities; a vectorised exp;
    the logit draw.
    """
    sel = np.empty(BLOCK, dtype=np.int64)
    share = np.empty((BLOCK, 2), dtype=np.float64)
    du = np.empty(3 * BLOCK, dtype=np.float64)
    switched = 0
    for b0 in range(lo, hi, BLOCK):
        b1 = min(hi, b0 + BLOCK)
        # 1. Copy states and list the adopters that reconsider.
        n_sel = 0
        for i in range(b0, b1):
            state_out[i] = state_in[i]
            sel[n_sel] = i
            n_sel += uniform(key, np.uint64(i) * TWO) < revision_rate
        # 2. Neighbour shares: prefetch every target first, then gather.
        for k in range(n_sel):
            i = sel[k]
            for j in range(indptr[i], indptr[i + 1]):
                prefetch(packed, indices[j] >> 2)
        for k in range(n_sel):
            i = sel[k]
            start = indptr[i]
            stop = indptr[i + 1]
            n_us = 0
            n_cn = 0
            for j in range(start, stop):
                t = indices[j]
                # 2-bit code: 1 (us) sets bit 0, 2 (cn) sets bit 1.
                code = (packed[t >> 2] >> ((t & 3) << 1)) & 3
                n_us += code & 1
                n_cn += code >> 1
            inv_deg = 1.0 / max(stop - start, 1)  # no links: both shares 0
            share[k, 0] = n_us * inv_deg
            share[k, 1] = n_cn * inv_deg
        # 3. Utilities U_k minus their maximum (so exp never overflows).
        for k in range(n_sel):
            i = sel[k]
            s = state_in[i]
            c = country[i]
            h = np.float64(heterogeneity[i])
            u0 = base[c, 0] - leave[s, 0]
            u1 = base[c, 1] + neighbour_weight * share[k, 0] - h - leave[s, 1]
            u2 = base[c, 2] + neighbour_weight * share[k, 1] + h - leave[s, 2]
            m = max(u0, u1, u2)
            du[3 * k] = u0 - m
            du[3 * k + 1] = u1 - m
            du[3 * k + 2] = u2 - m
        # 4. exp, in one flat loop that LLVM vectorises.
        for q in range(3 * n_sel):
            du[q] = exp_nonpositive(du[q])
        # 5. Logit draw: k = number of cumulative weights that r reaches.
        for k in range(n_sel):
            i = sel[k]
            e0 = du[3 * k]
            e01 = e0 + du[3 * k + 1]
            r = uniform(key, np.uint64(i) * TWO + ONE) * (e01 + du[3 * k + 2])
            new = (r >= e0) + (r >= e01)
            if new == 2 and du[3 * k + 2] == 0.0:
                # Rounding must never pick an option of probability 0.
                new = 1 if du[3 * k + 1] > 0.0 else 0
            state_out[i] = new
            switched += new != state_in[i]
    return switched


@njit(cache=True)
def step_kernel_serial(
    state_in: NDArray[np.int8],
    state_out: NDArray[np.int8],
    packed: NDArray[np.uint8],
    heterogeneity: NDArray[np.float32],
    indptr: NDArray[np.integer],
    indices: NDArray[np.integer],
    country: NDArray[np.integer],
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    revision_rate: float,
    neighbour_weight: float,
    official_weight: float,
    switching_cost: float,
    seed: np.uint64,
    step_index: np.uint64,
) -> int:
    """One synchronous step on one thread (faster for small fields); returns the switch count.

    ``packed`` is scratch of ``(n + 3) // 4`` bytes, overwritten with a 2-bit copy of ``state_in``.
    """
    base, leave = step_tables(country_utility, official, official_weight, switching_cost)
    pack_range(0, packed.shape[0], state_in, packed)
    return update_range(
        0,
        state_in.shape[0],
        state_in,
        state_out,
        packed,
        heterogeneity,
        indptr,
        indices,
        country,
        base,
        leave,
        revision_rate,
        neighbour_weight,
        step_key(seed, step_index),
    )


@njit(parallel=True, cache=True)
def step_kernel_parallel(
    state_in: NDArray[np.int8],
    state_out: NDArray[np.int8],
    packed: NDArray[np.uint8],
    heterogeneity: NDArray[np.float32],
    indptr: NDArray[np.integer],
    indices: NDArray[np.integer],
    country: NDArray[np.integer],
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    revision_rate: float,
    neighbour_weight: float,
    official_weight: float,
    switching_cost: float,
    seed: np.uint64,
    step_index: np.uint64,
) -> int:
    """Same rule as ``step_kernel_serial``, chunks of adopters over all cores; identical output."""
    base, leave = step_tables(country_utility, official, official_weight, switching_cost)
    key = step_key(seed, step_index)
    n = state_in.shape[0]
    n_chunks = (n + STEP_CHUNK - 1) // STEP_CHUNK
    n_bytes = packed.shape[0]
    chunk_bytes = STEP_CHUNK // 4
    for b in prange(n_chunks):
        pack_range(b * chunk_bytes, min(n_bytes, (b + 1) * chunk_bytes), state_in, packed)
    switched = 0
    for b in prange(n_chunks):
        switched += update_range(
            b * STEP_CHUNK,
            min(n, (b + 1) * STEP_CHUNK),
            state_in,
            state_out,
            packed,
            heterogeneity,
            indptr,
            indices,
            country,
            base,
            leave,
            revision_rate,
            neighbour_weight,
            key,
        )
    return switched


@njit(cache=True)
def counts_kernel_serial(
    state: NDArray[np.int8], start: NDArray[np.int64], n_countries: int
) -> NDArray[np.int64]:
    """Adopters per (country, stack), walking each country's contiguous range."""
    out = np.zeros((n_countries, 3), dtype=np.int64)
    for c in range(n_countries):
        for i in range(start[c], start[c + 1]):
            out[c, state[i]] += 1
    return out


@njit(parallel=True, cache=True)
def counts_kernel_parallel(
    state: NDArray[np.int8], country: NDArray[np.integer], n_countries: int, n_chunks: int
) -> NDArray[np.int64]:
    """Adopters per (country, stack): per-chunk partial tallies, summed; integer so order-free."""
    n = state.shape[0]
    partial = np.zeros((n_chunks, n_countries, 3), dtype=np.int64)
    for b in prange(n_chunks):
        lo = b * n // n_chunks
        hi = (b + 1) * n // n_chunks
        for i in range(lo, hi):
            partial[b, country[i], state[i]] += 1
    out = np.zeros((n_countries, 3), dtype=np.int64)
    for b in range(n_chunks):
        for c in range(n_countries):
            for k in range(3):
                out[c, k] += partial[b, c, k]
    return out
