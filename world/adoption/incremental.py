"""The incremental kernels: what ``AdoptionField.step`` runs.

Few adopters switch in a month, so instead of re-reading every reviser's neighbours each month
(the reference kernels, ``reference.py``), each adopter keeps how many of its out-neighbours are
on the US and on the Chinese stack (two counts packed in one byte while an adopter has at most 15
links), and a switch pushes +-1 to the adopters that link to the switcher, found through
*in-link* lists (built by ``links.py``). A step is then (1) one sequential pass deciding the
revisers from their own cells and marking switchers (``decide_chunk``), then (2) one pass pushing
the switches (``push_chunk``). The result is the same, bit for bit, as re-reading the neighbours.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from chipwar.world.adoption.draws import (
    GAMMA,
    ONE,
    SH11,
    TWO,
    exp_nonpositive,
    mix64,
    step_key,
    uniform,
)
from chipwar.world.adoption.intrinsics import atomic_add, prefetch, prefetch_write
from chipwar.world.adoption.rule import BLOCK, step_tables

# Bit of a state byte marking "switched this step" (the old state then sits in bits 2-3).
SWITCHED = 16
SWITCHED_WORD = np.uint64(0x1010101010101010)  # that bit in each byte of a 64-bit word
# Switchers whose followers' counts are prefetched together before being updated.
PUSH_BATCH = 32


@njit(cache=True)
def decide_chunk(
    lo: int,
    hi: int,
    c: int,
    state: NDArray[np.int8],
    counts: NDArray[np.unsignedinteger],
    heterogeneity: NDArray[np.float32],
    base: NDArray[np.float64],
    leave: NDArray[np.float64],
    inv_degree: float,
    half: int,
    revise_below: np.uint64,
    neighbour_weight: float,
    key: np.uint64,
    delta: NDArray[np.int64],
) -> int:
    """Phase 1 for adopters [lo, hi) of country ``c``: who revises, and what it picks.

    Reads only the adopter's own cells (state, neighbour counts, taste): no neighbour walk.
    A switcher's byte keeps its new state in bits 0-1 and records the old one in bits 2-3 plus
    the flag ``SWITCHED``, so phase 2 can push the change to the adopters that link to it.
    ``delta`` receives this chunk's change of the country's (none, us, cn) tally.
    """
    sel = np.empty(BLOCK, dtype=np.int64)
    flag = np.empty(BLOCK, dtype=np.uint8)
    du = np.empty(3 * BLOCK, dtype=np.float64)
    mask = (1 << half) - 1
    switched = 0
    for b0 in range(lo, hi, BLOCK):
        b1 = min(hi, b0 + BLOCK)
        # 1. Who revises: draw 0 of each adopter, compared as integers (exactly u < rate), in a
        # flat loop that LLVM vectorises; then a branch-free compaction.
        for i in range(b0, b1):
            z = mix64(key + (np.uint64(i) * TWO + ONE) * GAMMA)
            flag[i - b0] = (z >> SH11) < revise_below
        n_sel = 0
        for q in range(b1 - b0):
            sel[n_sel] = b0 + q
            n_sel += flag[q]
        # Sparse revisers defeat the hardware prefetcher: ask for their cells all at once.
        for k in range(n_sel):
            i = sel[k]
            prefetch(heterogeneity, i)
            prefetch(counts, i)
            prefetch(state, i)
        # 2. Utilities from the adopter's own counts, minus their maximum.
        for k in range(n_sel):
            i = sel[k]
            s = state[i]
            code = np.int64(counts[i])
            h = np.float64(heterogeneity[i])
            u0 = base[c, 0] - leave[s, 0]
            u1 = base[c, 1] + neighbour_weight * ((code & mask) * inv_degree) - h - leave[s, 1]
            u2 = base[c, 2] + neighbour_weight * ((code >> half) * inv_degree) + h - leave[s, 2]
            m = max(u0, u1, u2)
            du[3 * k] = u0 - m
            du[3 * k + 1] = u1 - m
            du[3 * k + 2] = u2 - m
        # 3. exp, in one flat loop that LLVM vectorises.
        for q in range(3 * n_sel):
            du[q] = exp_nonpositive(du[q])
        # 4. Logit draw (draw 1), exactly as in reference.update_range.
        for k in range(n_sel):
            i = sel[k]
            e0 = du[3 * k]
            e01 = e0 + du[3 * k + 1]
            r = uniform(key, np.uint64(i) * TWO + ONE) * (e01 + du[3 * k + 2])
            new = (r >= e0) + (r >= e01)
            if new == 2 and du[3 * k + 2] == 0.0:
                new = 1 if du[3 * k + 1] > 0.0 else 0
            s = state[i]
            if new != s:
                state[i] = new | (s << 2) | SWITCHED
                delta[new] += 1
                delta[s] -= 1
                switched += 1
    return switched


@njit(cache=True)
def push_chunk(
    lo: int,
    hi: int,
    state: NDArray[np.int8],
    words: NDArray[np.uint64],
    counts: NDArray[np.unsignedinteger],
    in_ptr: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    half: int,
    atomic: bool,
) -> None:
    """Phase 2 for adopters [lo, hi): each switcher updates the counts of its followers.

    Finding the switchers: ``words`` views the state bytes eight at a time, so runs without a
    switch are skipped a word at a time. Switchers are then taken in batches, and their memory is
    fetched in stages, each stage a batch of independent cache misses in flight at once: the
    in-list pointers, then the in-lists, then the followers' counts (with intent to write); only
    then are the counts updated. ``atomic`` for the parallel kernel, where switchers in different
    chunks may share a follower.
    """
    batch = np.empty(PUSH_BATCH, dtype=np.int64)
    full = (1 << (2 * half)) - 1
    i = lo
    while i < hi:
        n_b = 0
        while i < hi and n_b < PUSH_BATCH:
            if i & 7 == 0 and i + 8 <= hi and words[i >> 3] & SWITCHED_WORD == 0:
                i += 8
                continue
            batch[n_b] = i
            n_b += (state[i] & SWITCHED) != 0
            i += 1
        for k in range(n_b):
            prefetch(in_ptr, batch[k])
        for k in range(n_b):
            prefetch(in_idx, in_ptr[batch[k]])
        for k in range(n_b):
            j = batch[k]
            for p in range(in_ptr[j], in_ptr[j + 1]):
                prefetch_write(counts, in_idx[p])
        for k in range(n_b):
            j = batch[k]
            b = state[j]
            new = b & 3
            old = (b >> 2) & 3
            state[j] = new
            d = (np.int64(new == 1) - np.int64(old == 1)) + (
                (np.int64(new == 2) - np.int64(old == 2)) << half
            )
            d &= full
            if atomic:
                for p in range(in_ptr[j], in_ptr[j + 1]):
                    atomic_add(counts, in_idx[p], d)
            else:
                for p in range(in_ptr[j], in_ptr[j + 1]):
                    t = in_idx[p]
                    counts[t] = (np.int64(counts[t]) + d) & full


@njit(cache=True)
def close_step(
    chunk_country: NDArray[np.int64], delta: NDArray[np.int64], tally: NDArray[np.int64]
) -> None:
    """Add each chunk's change to its country's (none, us, cn) tally; integers, so order-free."""
    for b in range(chunk_country.shape[0]):
        c = chunk_country[b]
        for k in range(3):
            tally[c, k] += delta[b, k]


@njit(cache=True)
def step_incremental_serial(
    state: NDArray[np.int8],
    words: NDArray[np.uint64],
    counts: NDArray[np.unsignedinteger],
    heterogeneity: NDArray[np.float32],
    in_ptr: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    chunk_start: NDArray[np.int64],
    chunk_country: NDArray[np.int64],
    inv_degree: NDArray[np.float64],
    half: int,
    tally: NDArray[np.int64],
    delta: NDArray[np.int64],
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    revise_below: np.uint64,
    neighbour_weight: float,
    official_weight: float,
    switching_cost: float,
    seed: np.uint64,
    step_index: np.uint64,
) -> int:
    """One synchronous step on one thread, updating neighbour counts and tallies; switch count.

    Phase 1 decides every chunk from last month's counts (nobody's counts change during it), then
    phase 2 pushes the switches: together exactly the synchronous rule of ``step_kernel_serial``.
    """
    base, leave = step_tables(country_utility, official, official_weight, switching_cost)
    key = step_key(seed, step_index)
    n_chunks = chunk_country.shape[0]
    delta[:] = 0
    switched = 0
    for b in range(n_chunks):
        c = chunk_country[b]
        switched += decide_chunk(
            chunk_start[b],
            chunk_start[b + 1],
            c,
            state,
            counts,
            heterogeneity,
            base,
            leave,
            inv_degree[c],
            half,
            revise_below,
            neighbour_weight,
            key,
            delta[b],
        )
    if switched:
        for b in range(n_chunks):
            push_chunk(
                chunk_start[b],
                chunk_start[b + 1],
                state,
                words,
                counts,
                in_ptr,
                in_idx,
                half,
                False,
            )
        close_step(chunk_country, delta, tally)
    return switched


@njit(parallel=True, cache=True)
def step_incremental_parallel(
    state: NDArray[np.int8],
    words: NDArray[np.uint64],
    counts: NDArray[np.unsignedinteger],
    heterogeneity: NDArray[np.float32],
    in_ptr: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    chunk_start: NDArray[np.int64],
    chunk_country: NDArray[np.int64],
    inv_degree: NDArray[np.float64],
    half: int,
    tally: NDArray[np.int64],
    delta: NDArray[np.int64],
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    revise_below: np.uint64,
    neighbour_weight: float,
    official_weight: float,
    switching_cost: float,
    seed: np.uint64,
    step_index: np.uint64,
) -> int:
    """Same as ``step_incremental_serial`` with chunks over all cores; identical output.

    Chunks are fixed at construction (never by thread count) and the counts are updated with
    atomic integer adds, so the result is the same on any number of threads.
    """
    base, leave = step_tables(country_utility, official, official_weight, switching_cost)
    key = step_key(seed, step_index)
    n_chunks = chunk_country.shape[0]
    delta[:] = 0
    switched = 0
    for b in prange(n_chunks):
        c = chunk_country[b]
        switched += decide_chunk(
            chunk_start[b],
            chunk_start[b + 1],
            c,
            state,
            counts,
            heterogeneity,
            base,
            leave,
            inv_degree[c],
            half,
            revise_below,
            neighbour_weight,
            key,
            delta[b],
        )
    if switched:
        for b in prange(n_chunks):
            push_chunk(
                chunk_start[b], chunk_start[b + 1], state, words, counts, in_ptr, in_idx, half, True
            )
        close_step(chunk_country, delta, tally)
    return switched
