"""Adoption field: millions of micro-adopters choosing an AI stack, held in numpy arrays.

Why arrays and not Mesa agents: there are 10^5 to 10^7 micro-adopters (firms, agencies, cities),
far too many for Python objects (DESIGN.md §2). Each adopter is a few array cells; one numba kernel
updates all of them per month, and country shares emerge from the kernel.

Layout. Adopters are stored contiguous by country: country ``c`` owns indices
``[start[c], start[c + 1])``, so an adopter's within-country neighbours sit close in memory. Per
adopter we hold: the stack state (int8, two buffers for the synchronous update, plus a 2-bit packed
copy that the kernel gathers neighbours from), a fixed taste ``h_i`` (float32), its country id
(int16 below 32768 countries), and its directed out-links as CSR (``indptr``/``indices``, int32
while they fit). With 6 links: 2 + 0.25 + 4 + 2 + 4 + 24 = 36.25 bytes.

Links. Each adopter in country ``c`` gets ``within_links`` targets drawn uniformly among the
*other* adopters of ``c`` and ``cross_links`` targets in other countries: the country ``j != c``
is drawn with probability proportional to ``link_weights[c, j]``, then an adopter uniformly within
``j``. If row ``c`` has no positive off-diagonal weight (or there is only one country), the cross
links become within links. A country with a single adopter has no within links.

Update rule (one step = one month), synchronous: every adopter reads the previous state vector
and writes into a second buffer, then the buffers swap. Adopter ``i`` in country ``c`` with state
``state_i`` reconsiders with probability ``revision_rate``; if it does, the utility of option
``k`` in {none, us, cn} is

    U_k = country_utility[c, k] + neighbour_weight * share_k(neighbours) [k = us, cn only] + official_weight * (official[c] == k != none) + (+h_i for cn, -h_i for us) - switching_cost * (state_i != none and k != state_i)

where ``share_k(neighbours)`` is the fraction of ``i``'s out-neighbours whose previous state is
``k`` (0 for an adopter without links), and it picks ``k`` with logit probabilities
``exp(U_k) / sum_j exp(U_j)`` (exp evaluated by a vectorisable polynomial, relative error < 1e-11).

Random numbers are counter-based: draw ``d`` (0: revise or not, 1: which option) of adopter ``i``
at step ``t`` is a splitmix64 hash of (field seed, t, i, d) mapped to [0, 1). The result does not
depend on thread count or scheduling: serial and parallel kernels give identical states, bit for
bit.
"""  # noqa: E501 (the update rule above is kept on one line)

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

__all__ = [
    "PARALLEL_THRESHOLD",
    "STACK_CN",
    "STACK_NONE",
    "STACK_US",
    "AdoptionConfig",
    "AdoptionField",
    "counts_kernel_parallel",
    "counts_kernel_serial",
    "step_kernel_parallel",
    "step_kernel_serial",
]

STACK_NONE, STACK_US, STACK_CN = 0, 1, 2

#: Above this many adopters ``step`` uses the parallel kernel; below it thread start-up costs more
#: than it saves (the parallel kernel loses below about 10^4 adopters).
PARALLEL_THRESHOLD = 20_000

# Adopters per block when building links, so construction temporaries stay bounded at 10^7 adopters.
_BUILD_BLOCK = 1 << 18
# Adopters per prange iteration of the parallel step: big enough to amortise the call, small
# enough to balance two cores. The split cannot change results (the RNG is counter-based).
_STEP_CHUNK = 1 << 14
# Adopters per block inside a chunk (see _update_range): enough gathers in flight, scratch in L1.
_BLOCK = 256
# Chunks for the parallel tally; fixed so the work split never depends on the thread count.
_COUNT_CHUNKS = 64

# splitmix64 constants as np.uint64: numba given Python ints >= 2**63 falls onto slow paths.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_SH11 = np.uint64(11)
_SH27 = np.uint64(27)
_SH30 = np.uint64(30)
_SH31 = np.uint64(31)
_INV_2_53 = 1.0 / 9007199254740992.0
# exp reduction constants: log2(e), and ln 2 split so that k * _LN2_HI is exact.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10


@dataclass(frozen=True)
class AdoptionConfig:
    """Behavioural parameters of the micro-adopters; validated here so bad values fail early."""

    within_links: int  # links per adopter to random adopters of its own country
    cross_links: int  # links per adopter to adopters in other countries
    revision_rate: float  # probability in [0, 1] that an adopter reconsiders its stack in a month
    neighbour_weight: float  # utility per unit share of neighbours on a stack (network effect)
    official_weight: float  # utility bonus for the stack its government officially chose
    switching_cost: float  # utility cost of leaving a stack in use (US<->CN or stack->none)
    heterogeneity_sd: float  # s.d. of each adopter's fixed taste h_i for CN over US

    def __post_init__(self) -> None:
        for name in ("within_links", "cross_links"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"AdoptionConfig.{name} = {value!r}: must be an integer >= 0")
        for name in ("revision_rate", "neighbour_weight", "official_weight", "switching_cost"):
            value = getattr(self, name)
            if not isinstance(value, int | float | np.number) or not np.isfinite(value):
                raise ValueError(f"AdoptionConfig.{name} = {value!r}: must be a finite number")
        if not 0.0 <= self.revision_rate <= 1.0:
            raise ValueError(
                f"AdoptionConfig.revision_rate = {self.revision_rate!r}: must be in [0, 1]"
            )
        sd = self.heterogeneity_sd
        if not isinstance(sd, int | float | np.number) or not np.isfinite(sd) or sd < 0:
            raise ValueError(
                f"AdoptionConfig.heterogeneity_sd = {sd!r}: must be a finite number >= 0"
            )


# --------------------------------------------------------------------------------------------------
# numba building blocks


@intrinsic
def _prefetch(typingctx: object, arr: types.Type, idx: types.Type) -> tuple | None:
    """Hint the CPU to fetch ``arr[idx]`` into cache; no bounds check, never faults."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # (address, read, high temporal locality, data cache)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def _bits_to_float(typingctx: object, x: types.Type) -> tuple | None:
    """Reinterpret the 64 bits of an integer as a float64 (to build 2**k exactly)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(x), codegen


@njit(cache=True)
def _mix64(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijective avalanche of 64 bits."""
    z = (z ^ (z >> _SH30)) * _MIX1
    z = (z ^ (z >> _SH27)) * _MIX2
    return z ^ (z >> _SH31)


@njit(cache=True)
def _step_key(seed: np.uint64, step_index: np.uint64) -> np.uint64:
    """Per-step key, so every (seed, step) pair gets an unrelated stream."""
    return _mix64(seed ^ _mix64((step_index + _ONE) * _GAMMA))


@njit(cache=True)
def _uniform(key: np.uint64, counter: np.uint64) -> float:
    """The counter-th splitmix64 output from ``key``, as a float64 in [0, 1)."""
    z = _mix64(key + (counter + _ONE) * _GAMMA)
    return np.float64(z >> _SH11) * _INV_2_53


@njit(cache=True)
def _exp_nonpositive(x: float) -> float:
    """exp(x) for x <= 0, relative error < 1e-11; 0 below -700.

    Plain arithmetic (no libm call), so LLVM vectorises the loop that calls it, and the result is
    the same bit pattern in every kernel. Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, then
    a degree-10 Taylor polynomial for exp(r) and an exact 2**k built from its exponent bits.
    """
    xc = max(x, -700.0)
    kf = np.floor(xc * _LOG2E + 0.5)
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    p = 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 1.984126984126984e-04
    p = p * r + 1.388888888888889e-03
    p = p * r + 8.333333333333333e-03
    p = p * r + 4.1666666666666664e-02
    p = p * r + 0.16666666666666666
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    scale = _bits_to_float((np.int64(kf) + 1023) << 52)
    return p * scale if x >= -700.0 else 0.0


@njit(cache=True)
def _pack_range(lo: int, hi: int, state: NDArray[np.int8], packed: NDArray[np.uint8]) -> None:
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
def _step_tables(
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


@njit(cache=True)
def _update_range(
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
    sel = np.empty(_BLOCK, dtype=np.int64)
    share = np.empty((_BLOCK, 2), dtype=np.float64)
    du = np.empty(3 * _BLOCK, dtype=np.float64)
    switched = 0
    for b0 in range(lo, hi, _BLOCK):
        b1 = min(hi, b0 + _BLOCK)
        # 1. Copy states and list the adopters that reconsider.
        n_sel = 0
        for i in range(b0, b1):
            state_out[i] = state_in[i]
            sel[n_sel] = i
            n_sel += _uniform(key, np.uint64(i) * _TWO) < revision_rate
        # 2. Neighbour shares: prefetch every target first, then gather.
        for k in range(n_sel):
            i = sel[k]
            for j in range(indptr[i], indptr[i + 1]):
                _prefetch(packed, indices[j] >> 2)
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
            du[q] = _exp_nonpositive(du[q])
        # 5. Logit draw: k = number of cumulative weights that r reaches.
        for k in range(n_sel):
            i = sel[k]
            e0 = du[3 * k]
            e01 = e0 + du[3 * k + 1]
            r = _uniform(key, np.uint64(i) * _TWO + _ONE) * (e01 + du[3 * k + 2])
            new = (r >= e0) + (r >= e01)
            if new == 2 and du[3 * k + 2] == 0.0:
                # Rounding must never pick an option of probability 0.
                new = 1 if du[3 * k + 1] > 0.0 else 0
            state_out[i] = new
            switched += new != state_in[i]
    return switched


# --------------------------------------------------------------------------------------------------
# the two step kernels (same rule, same result) and the tallies


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
    base, leave = _step_tables(country_utility, official, official_weight, switching_cost)
    _pack_range(0, packed.shape[0], state_in, packed)
    return _update_range(
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
        _step_key(seed, step_index),
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
    base, leave = _step_tables(country_utility, official, official_weight, switching_cost)
    key = _step_key(seed, step_index)
    n = state_in.shape[0]
    n_chunks = (n + _STEP_CHUNK - 1) // _STEP_CHUNK
    n_bytes = packed.shape[0]
    chunk_bytes = _STEP_CHUNK // 4
    for b in prange(n_chunks):
        _pack_range(b * chunk_bytes, min(n_bytes, (b + 1) * chunk_bytes), state_in, packed)
    switched = 0
    for b in prange(n_chunks):
        switched += _update_range(
            b * _STEP_CHUNK,
            min(n, (b + 1) * _STEP_CHUNK),
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


# --------------------------------------------------------------------------------------------------
# the field


def _as_array(value: object, name: str, ndim: int) -> NDArray:
    """Coerce to an ndarray of the expected rank, or say what was wrong."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy's own message is fine here
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape}: must be {ndim}-dimensional")
    return arr


class AdoptionField:
    """All micro-adopters of the world: state, fixed taste, country and links, stepped by numba.

    Construction draws, from ``rng`` and in this order: one np.uint64 field seed, then per country
    (in blocks of adopters) the initial states, the tastes ``h_i`` and the link targets. Steps draw
    nothing from ``rng``: they hash (field seed, step_index, adopter, draw), so a step is a pure
    function of the state and its inputs.
    """

    n_adopters: int
    n_countries: int

    def __init__(
        self,
        country_sizes: NDArray[np.int64],
        link_weights: NDArray[np.float64],
        initial_shares: NDArray[np.float64],
        config: AdoptionConfig,
        rng: np.random.Generator,
    ) -> None:
        sizes, weights, shares = self._validate(
            country_sizes, link_weights, initial_shares, config, rng
        )
        self.config = config
        n_countries = int(sizes.shape[0])
        n = int(sizes.sum())
        self.n_countries = n_countries
        self.n_adopters = n

        start = np.zeros(n_countries + 1, dtype=np.int64)
        np.cumsum(sizes, out=start[1:])
        self.country_start: NDArray[np.int64] = start

        # Links per country: within/cross split, falling back to within when no cross target exists.
        off_diag = weights.copy()
        np.fill_diagonal(off_diag, 0.0)
        cum_weights = np.cumsum(off_diag, axis=1)
        has_cross = (cum_weights[:, -1] > 0.0) & (config.cross_links > 0)
        n_within = np.where(
            has_cross, config.within_links, config.within_links + config.cross_links
        )
        n_cross = np.where(has_cross, config.cross_links, 0)
        n_within = np.where(sizes > 1, n_within, 0).astype(np.int64)
        degree = n_within + n_cross
        total_links = int((degree * sizes).sum())

        idx_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
        ptr_dtype = np.int32 if total_links < np.iinfo(np.int32).max else np.int64
        country_dtype = np.int16 if n_countries <= np.iinfo(np.int16).max else np.int32

        # np.uint64, never a Python int: numba given ints >= 2**63 takes a ~80x slower call path.
        self._seed: np.uint64 = np.uint64(rng.integers(0, 2**64, dtype=np.uint64))
        state = np.empty(n, dtype=np.int8)
        heterogeneity = np.empty(n, dtype=np.float32)
        country = np.empty(n, dtype=country_dtype)
        indptr = np.empty(n + 1, dtype=ptr_dtype)
        indices = np.empty(total_links, dtype=idx_dtype)
        indptr[0] = 0
        # State thresholds on one uniform; 2.0 (never reached) where the later options have zero
        # share, so rounding in the cumulative sum can never pick a stack with zero initial share.
        cum = np.cumsum(shares, axis=1)
        thresh_us = np.where(shares[:, 1:].sum(axis=1) > 0.0, cum[:, 0], 2.0)
        thresh_cn = np.where(shares[:, 2] > 0.0, cum[:, 1], 2.0)
        sd = np.float32(config.heterogeneity_sd)

        link_base = 0
        for c in range(n_countries):
            size = int(sizes[c])
            w, x = int(n_within[c]), int(n_cross[c])
            deg = w + x
            country[start[c] : start[c + 1]] = c
            for lo in range(0, size, _BUILD_BLOCK):
                m = min(_BUILD_BLOCK, size - lo)
                a = int(start[c]) + lo  # global index of the block's first adopter
                u = rng.random(m)
                state[a : a + m] = (u >= thresh_us[c]).astype(np.int8) + (u >= thresh_cn[c])
                heterogeneity[a : a + m] = rng.standard_normal(m, dtype=np.float32) * sd
                indptr[a + 1 : a + m + 1] = link_base + deg * np.arange(1, m + 1, dtype=np.int64)
                block = indices[link_base : link_base + m * deg].reshape(m, deg)
                if w:
                    # Uniform over the size - 1 other adopters: draw in [0, size - 1), skip self.
                    local = np.arange(lo, lo + m, dtype=np.int64)[:, None]
                    r = rng.integers(0, size - 1, size=(m, w), dtype=np.int64)
                    r += r >= local
                    block[:, :w] = r + start[c]
                if x:
                    total = cum_weights[c, -1]
                    j = np.searchsorted(cum_weights[c], rng.random((m, x)) * total, side="right")
                    np.minimum(j, n_countries - 1, out=j)
                    block[:, w:] = start[j] + rng.integers(0, sizes[j], dtype=np.int64)
                link_base += m * deg

        self._state = state
        self._next = np.empty_like(state)
        self._packed = np.empty((n + 3) // 4, dtype=np.uint8)  # kernel scratch, see _update_range
        self.heterogeneity = heterogeneity
        self.country = country
        self.indptr = indptr
        self.indices = indices
        self._counts: NDArray[np.int64] | None = None

    @staticmethod
    def _validate(
        country_sizes: object,
        link_weights: object,
        initial_shares: object,
        config: object,
        rng: object,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Check every input up front: a bad shape deep inside a kernel gives no useful message."""
        if not isinstance(config, AdoptionConfig):
            raise ValueError(f"config is {type(config).__name__}: must be an AdoptionConfig")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng is {type(rng).__name__}: must be a numpy.random.Generator")
        sizes = _as_array(country_sizes, "country_sizes", 1)
        if sizes.size == 0:
            raise ValueError("country_sizes is empty: need at least one country")
        if not np.issubdtype(sizes.dtype, np.integer):
            raise ValueError(f"country_sizes has dtype {sizes.dtype}: must be integers")
        if (sizes < 1).any():
            bad = int(np.flatnonzero(sizes < 1)[0])
            raise ValueError(
                f"country_sizes[{bad}] = {sizes[bad]}: every country needs >= 1 adopter"
            )
        sizes = sizes.astype(np.int64)
        c = sizes.shape[0]
        weights = _as_array(link_weights, "link_weights", 2).astype(np.float64)
        if weights.shape != (c, c):
            raise ValueError(f"link_weights has shape {weights.shape}: must be ({c}, {c})")
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("link_weights: every entry must be finite and >= 0")
        shares = _as_array(initial_shares, "initial_shares", 2).astype(np.float64)
        if shares.shape != (c, 3):
            raise ValueError(f"initial_shares has shape {shares.shape}: must be ({c}, 3)")
        if not np.isfinite(shares).all() or (shares < 0).any() or (shares > 1).any():
            raise ValueError("initial_shares: every entry must be in [0, 1]")
        row_sums = shares.sum(axis=1)
        bad_rows = np.flatnonzero(np.abs(row_sums - 1.0) > 1e-6)
        if bad_rows.size:
            r = int(bad_rows[0])
            raise ValueError(
                f"initial_shares row {r} sums to {row_sums[r]!r}: each row must sum to 1 (±1e-6)"
            )
        return sizes, weights, shares / row_sums[:, None]

    @property
    def state(self) -> NDArray[np.int8]:
        """Copy of every adopter's current stack (a copy: the buffers swap on every step)."""
        return self._state.copy()

    @property
    def seed(self) -> np.uint64:
        """The field's counter-RNG seed, drawn once from the constructor's rng."""
        return self._seed

    def step(
        self,
        country_utility: NDArray[np.float64],
        official: NDArray[np.int8],
        step_index: int,
        *,
        kernel: Literal["auto", "serial", "parallel"] = "auto",
    ) -> int:
        """Advance one month; returns how many adopters switched stack.

        ``kernel`` forces one implementation (for benchmarks); both give identical results.
        """
        cu = np.ascontiguousarray(country_utility, dtype=np.float64)
        if cu.shape != (self.n_countries, 3):
            raise ValueError(
                f"country_utility has shape {cu.shape}: must be ({self.n_countries}, 3)"
            )
        if not np.isfinite(cu).all():
            raise ValueError("country_utility: every entry must be finite")
        off = np.asarray(official)
        if off.shape != (self.n_countries,):
            raise ValueError(f"official has shape {off.shape}: must be ({self.n_countries},)")
        if not np.issubdtype(off.dtype, np.integer) or ((off < 0) | (off > 2)).any():
            raise ValueError("official: every entry must be 0 (none), 1 (us) or 2 (cn)")
        off = np.ascontiguousarray(off, dtype=np.int8)
        if isinstance(step_index, bool) or not isinstance(step_index, int | np.integer):
            raise ValueError(f"step_index = {step_index!r}: must be an integer")
        if not 0 <= int(step_index) < 2**63:
            raise ValueError(f"step_index = {step_index!r}: must be >= 0")
        if kernel == "auto":
            kernel = "parallel" if self.n_adopters > PARALLEL_THRESHOLD else "serial"
        if kernel == "parallel":
            fn = step_kernel_parallel
        elif kernel == "serial":
            fn = step_kernel_serial
        else:
            raise ValueError(f"kernel = {kernel!r}: must be 'auto', 'serial' or 'parallel'")
        cfg = self.config
        switched = fn(
            self._state,
            self._next,
            self._packed,
            self.heterogeneity,
            self.indptr,
            self.indices,
            self.country,
            cu,
            off,
            float(cfg.revision_rate),
            float(cfg.neighbour_weight),
            float(cfg.official_weight),
            float(cfg.switching_cost),
            self._seed,
            np.uint64(step_index),
        )
        self._state, self._next = self._next, self._state
        self._counts = None
        return int(switched)

    def counts(self) -> NDArray[np.int64]:
        """Adopters per country on none/us/cn, shape (n_countries, 3)."""
        if self._counts is None:
            if self.n_adopters > PARALLEL_THRESHOLD:
                self._counts = counts_kernel_parallel(
                    self._state, self.country, self.n_countries, _COUNT_CHUNKS
                )
            else:
                self._counts = counts_kernel_serial(
                    self._state, self.country_start, self.n_countries
                )
        return self._counts.copy()

    def shares(self) -> NDArray[np.float64]:
        """Fractions of each country's adopters on none/us/cn; rows sum to 1."""
        counts = self.counts()
        return counts / counts.sum(axis=1, keepdims=True)

    def nbytes(self) -> int:
        """Bytes held by per-adopter arrays (state buffers, packed copy, taste, country, CSR)."""
        arrays = (
            self._state,
            self._next,
            self._packed,
            self.heterogeneity,
            self.country,
            self.indptr,
        )
        return sum(a.nbytes for a in arrays) + self.indices.nbytes
