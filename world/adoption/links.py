"""The adopters' links: drawn once at construction, stored as in-link lists, read back on demand.

Each adopter in country ``c`` gets ``within_links`` targets drawn uniformly among the *other*
adopters of ``c`` and ``cross_links`` targets in other countries: the country ``j != c`` is drawn
with probability proportional to ``link_weights[c, j]``, then an adopter uniformly within ``j``.
If row ``c`` has no positive off-diagonal weight (or there is only one country), the cross links
become within links. A country with a single adopter has no within links.

Why in-links: a switch must reach the adopters that link *to* the switcher (their neighbour
counts change), so the field keeps, per adopter, the sorted list of adopters linking to it (CSR
``in_ptr``/``in_idx``). The out-links are never stored; ``out_links`` rebuilds them for
inspection, and ``recount`` recomputes the neighbour counts from them to check the kept ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from chipwar.world.adoption.intrinsics import prefetch, prefetch_write

# Adopters per block when building links, so construction temporaries stay bounded at 10^7 adopters.
BUILD_BLOCK = 1 << 18
# Stand-in for "no links of this kind" in a block (a (m, 0) view, no memory).
_NO_LINKS = np.empty((BUILD_BLOCK, 0), dtype=np.int64)
# Rows ahead that link construction prefetches (random scatter into 10^7-element arrays).
_AHEAD = 16


@dataclass(frozen=True)
class LinkPlan:
    """Links per adopter by country: how many within and across borders, and where they go."""

    n_within: NDArray[np.int64]  # links to other adopters of the same country
    n_cross: NDArray[np.int64]  # links to adopters of other countries
    cum_weights: NDArray[np.float64]  # per country, cumulative off-diagonal link weights

    @property
    def degree(self) -> NDArray[np.int64]:
        """Out-links per adopter, by country."""
        return (self.n_within + self.n_cross).astype(np.int64)


def plan_links(
    sizes: NDArray[np.int64], weights: NDArray[np.float64], within_links: int, cross_links: int
) -> LinkPlan:
    """The within/cross split per country, falling back to within when no cross target exists."""
    off_diag = weights.copy()
    np.fill_diagonal(off_diag, 0.0)
    cum_weights = np.cumsum(off_diag, axis=1)
    has_cross = (cum_weights[:, -1] > 0.0) & (cross_links > 0)
    n_within = np.where(has_cross, within_links, within_links + cross_links)
    n_cross = np.where(has_cross, cross_links, 0)
    n_within = np.where(sizes > 1, n_within, 0).astype(np.int64)
    return LinkPlan(n_within, n_cross, cum_weights)


def draw_adopters(
    rng: np.random.Generator,
    sizes: NDArray[np.int64],
    start: NDArray[np.int64],
    shares: NDArray[np.float64],
    heterogeneity_sd: float,
    plan: LinkPlan,
    state: NDArray[np.int8],
    heterogeneity: NDArray[np.float32],
    counts: NDArray[np.unsignedinteger],
    in_ptr: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    half: int,
) -> None:
    """Draw every adopter's initial state, taste and links, filling the arrays in place.

    Draws from ``rng``, per country in blocks of adopters: the states' uniforms, the tastes
    ``h_i`` (standard normal times ``heterogeneity_sd``), then the within and cross link targets.
    ``counts`` receives each adopter's packed (US, CN) neighbour counts, ``half`` bits apart.

    The links are drawn twice from the same generator state (the generator is rewound in
    between): once to size the in-link lists, once to fill them. That keeps the draws, and so the
    field, identical to drawing the out-links once, without ever holding both link lists.
    """
    n_countries = int(sizes.shape[0])
    n = int(sizes.sum())
    n_within, n_cross, cum_weights = plan.n_within, plan.n_cross, plan.cum_weights
    # State thresholds on one uniform; 2.0 (never reached) where the later options have zero
    # share, so rounding in the cumulative sum can never pick a stack with zero initial share.
    cum = np.cumsum(shares, axis=1)
    thresh_us = np.where(shares[:, 1:].sum(axis=1) > 0.0, cum[:, 0], 2.0)
    thresh_cn = np.where(shares[:, 2] > 0.0, cum[:, 1], 2.0)
    sd = np.float32(heterogeneity_sd)

    u_buf = np.empty(min(n, BUILD_BLOCK), dtype=np.float64)
    h_buf = np.empty(min(n, BUILD_BLOCK), dtype=np.float32)

    def draw_block(c: int, lo: int, m: int, h_out: NDArray[np.float32]) -> tuple:
        """One block's draws in the documented order: states' uniforms (into ``u_buf``),
        tastes (into ``h_out``), then within and cross link targets (global indices).

        In place where numpy allows: at 10^7 adopters block temporaries are bytes per adopter.
        """
        size = int(sizes[c])
        w, x = int(n_within[c]), int(n_cross[c])
        rng.random(out=u_buf[:m])
        rng.standard_normal(dtype=np.float32, out=h_out)
        within = _NO_LINKS[:m]
        cross = _NO_LINKS[:m]
        if w:
            # Uniform over the size - 1 others: draw in [0, size - 1), skip self.
            within = rng.integers(0, size - 1, size=(m, w), dtype=np.int64)
            within += within >= np.arange(lo, lo + m, dtype=np.int64)[:, None]
            within += start[c]
        if x:
            pick = rng.random((m, x))
            pick *= cum_weights[c, -1]
            j = np.searchsorted(cum_weights[c], pick, "right")
            del pick
            np.minimum(j, n_countries - 1, out=j)
            cross = rng.integers(0, sizes[j], dtype=np.int64)
            cross += start[j]
        return within, cross

    rewind = copy.deepcopy(rng.bit_generator.state)
    for c in range(n_countries):  # pass 1: states, tastes, in-degrees
        for lo in range(0, int(sizes[c]), BUILD_BLOCK):
            m = min(BUILD_BLOCK, int(sizes[c]) - lo)
            a = int(start[c]) + lo  # global index of the block's first adopter
            h_out = heterogeneity[a : a + m]
            within, cross = draw_block(c, lo, m, h_out)
            u = u_buf[:m]
            state[a : a + m] = u >= thresh_us[c]
            state[a : a + m] += u >= thresh_cn[c]
            h_out *= sd
            _count_in_links(in_ptr, within, cross)
            del within, cross
    _prefix_sum(in_ptr)
    rng.bit_generator.state = rewind
    for c in range(n_countries):  # pass 2: the same draws again; in-lists and counts
        for lo in range(0, int(sizes[c]), BUILD_BLOCK):
            m = min(BUILD_BLOCK, int(sizes[c]) - lo)
            within, cross = draw_block(c, lo, m, h_buf[:m])
            a = int(start[c]) + lo
            _fill_in_links(a, within, cross, in_ptr, in_idx, state, counts, half)
            del within, cross
    _shift_right(in_ptr)


@njit(cache=True)
def _count_in_links(
    in_ptr: NDArray[np.integer], within: NDArray[np.int64], cross: NDArray[np.int64]
) -> None:
    """Pass 1: add one in-link per target into ``in_ptr[t + 1]`` (a prefix sum follows).

    Random increments: each row's targets are prefetched ``_AHEAD`` rows early.
    """
    m = within.shape[0]
    for k in range(m):
        if k + _AHEAD < m:
            for t in within[k + _AHEAD]:
                prefetch_write(in_ptr, t + 1)
            for t in cross[k + _AHEAD]:
                prefetch_write(in_ptr, t + 1)
        for t in within[k]:
            in_ptr[t + 1] += 1
        for t in cross[k]:
            in_ptr[t + 1] += 1


@njit(cache=True)
def _prefix_sum(ptr: NDArray[np.integer]) -> None:
    """In place, in the array's own dtype (numpy's cumsum would allocate an int64 temporary)."""
    for t in range(1, ptr.shape[0]):
        ptr[t] += ptr[t - 1]


@njit(cache=True)
def _fill_in_links(
    first: int,
    within: NDArray[np.int64],
    cross: NDArray[np.int64],
    cursor: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    state: NDArray[np.int8],
    counts: NDArray[np.unsignedinteger],
    half: int,
) -> None:
    """Pass 2: write sources into their targets' in-lists, and count each source's neighbours.

    ``cursor[t]`` starts at t's first slot and advances; sources arrive in increasing order, so
    every in-list comes out sorted. Three random accesses per link, so a two-stage prefetch:
    a row's cursors and states ``2 * _AHEAD`` rows early, its in-list slots ``_AHEAD`` rows early.
    """
    m = within.shape[0]
    w = within.shape[1]
    deg = w + cross.shape[1]
    for k in range(m):
        if k + 2 * _AHEAD < m:
            for q in range(deg):
                t = within[k + 2 * _AHEAD, q] if q < w else cross[k + 2 * _AHEAD, q - w]
                prefetch_write(cursor, t)
                prefetch(state, t)
        if k + _AHEAD < m:
            for q in range(deg):
                t = within[k + _AHEAD, q] if q < w else cross[k + _AHEAD, q - w]
                prefetch_write(in_idx, cursor[t])
        i = first + k
        n_us = 0
        n_cn = 0
        for q in range(deg):
            t = within[k, q] if q < w else cross[k, q - w]
            in_idx[cursor[t]] = i
            cursor[t] += 1
            s = state[t]
            n_us += s == 1
            n_cn += s == 2
        counts[i] = n_us | (n_cn << half)


@njit(cache=True)
def _shift_right(ptr: NDArray[np.integer]) -> None:
    """After filling, ``ptr[t]`` holds t's end: shift by one so it holds t's start again."""
    for t in range(ptr.shape[0] - 1, 0, -1):
        ptr[t] = ptr[t - 1]
    ptr[0] = 0


@njit(cache=True)
def out_links(
    in_ptr: NDArray[np.integer],
    in_idx: NDArray[np.integer],
    out_ptr: NDArray[np.integer],
    country_start: NDArray[np.int64],
    out: NDArray[np.integer],
) -> None:
    """Rebuild the out-links from the in-links: per adopter, own-country targets first.

    Each group is in increasing order (the order the links were drawn in is not kept).
    """
    n = out_ptr.shape[0] - 1
    cursor = out_ptr[:-1].copy()
    for t in range(n):
        for p in range(in_ptr[t], in_ptr[t + 1]):
            i = in_idx[p]
            out[cursor[i]] = t
            cursor[i] += 1
    for c in range(country_start.shape[0] - 1):
        lo, hi = country_start[c], country_start[c + 1]
        for i in range(lo, hi):
            row = out[out_ptr[i] : out_ptr[i + 1]].copy()
            w = 0
            for t in row:
                if lo <= t < hi:
                    out[out_ptr[i] + w] = t
                    w += 1
            for t in row:
                if not lo <= t < hi:
                    out[out_ptr[i] + w] = t
                    w += 1


@njit(cache=True)
def recount(
    state: NDArray[np.int8],
    out_ptr: NDArray[np.integer],
    out: NDArray[np.integer],
    half: int,
    counts: NDArray[np.unsignedinteger],
) -> None:
    """Neighbour counts recomputed from scratch (a check of the incremental ones)."""
    for i in range(state.shape[0]):
        n_us = 0
        n_cn = 0
        for p in range(out_ptr[i], out_ptr[i + 1]):
            s = state[out[p]]
            n_us += s == 1
            n_cn += s == 2
        counts[i] = n_us | (n_cn << half)
