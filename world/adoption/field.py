"""Adoption field: millions of micro-adopters choosing an AI stack, held in numpy arrays.

Why arrays and not Mesa agents: there are 10^5 to 10^7 micro-adopters (firms, agencies, cities),
far too many for Python objects (DESIGN.md §2). Each adopter is a few array cells; numba kernels
update all of them per month, and country shares emerge from the kernels.

Links. Each adopter in country ``c`` gets ``within_links`` targets drawn uniformly among the
*other* adopters of ``c`` and ``cross_links`` targets in other countries: the country ``j != c``
is drawn with probability proportional to ``link_weights[c, j]``, then an adopter uniformly within
``j``. If row ``c`` has no positive off-diagonal weight (or there is only one country), the cross
links become within links. A country with a single adopter has no within links.

Update rule (one step = one month), synchronous: every adopter decides from the previous month's
states. Adopter ``i`` in country ``c`` with state ``state_i`` reconsiders with probability
``revision_rate``; if it does, the utility of option ``k`` in {none, us, cn} is

    U_k = country_utility[c, k] + neighbour_weight * share_k(neighbours) [k = us, cn only] + official_weight * (official[c] == k != none) + (+h_i for cn, -h_i for us) - switching_cost * (state_i != none and k != state_i)

where ``share_k(neighbours)`` is the fraction of ``i``'s out-neighbours whose previous state is
``k`` (0 for an adopter without links), and it picks ``k`` with logit probabilities
``exp(U_k) / sum_j exp(U_j)`` (exp evaluated by a vectorisable polynomial, relative error < 1e-11).

Random numbers are counter-based: draw ``d`` (0: revise or not, 1: which option) of adopter ``i``
at step ``t`` is a splitmix64 hash of (field seed, t, i, d) mapped to [0, 1). The result does not
depend on thread count or scheduling: serial and parallel kernels give identical states, bit for
bit.

How it is computed (``AdoptionField.step``): incrementally. Few adopters switch in a month, so
instead of re-reading every reviser's neighbours each month, each adopter keeps how many of its
out-neighbours are on the US and on the Chinese stack (two counts packed in one byte while an
adopter has at most 15 links), and a switch pushes +-1 to the adopters that link to the switcher,
found through *in-link* lists. A step is then (1) one sequential pass deciding the revisers from
their own cells and marking switchers, then (2) one pass pushing the switches. The result is the
same, bit for bit, as re-reading the neighbours (``step_kernel_serial`` and
``step_kernel_parallel`` below, kept as the direct reference of the rule).

Layout. Adopters are stored contiguous by country: country ``c`` owns indices
``[start[c], start[c + 1])``. Per adopter: the stack (int8), the packed neighbour counts (uint8),
the taste ``h_i`` (float32) and the in-links as CSR (``in_ptr``/``in_idx``, int32 while they
fit); with 6 links 1 + 1 + 4 + 4 + 24 = 34 bytes. Country ids and the out-link CSR (``country``,
``indptr``, ``indices``) are derived on demand for inspection; the kernels never need them.
"""  # noqa: E501 (the update rule above is kept on one line)

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from llvmlite import ir
from numba import njit, prange, set_parallel_chunksize, types
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
    "revise_threshold",
    "step_incremental_parallel",
    "step_incremental_serial",
    "step_kernel_parallel",
    "step_kernel_serial",
]

from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

#: Up to this many adopters ``step`` runs the serial kernel: a serial step takes at most ~10 ms
#: here, and a parallel one on a busy machine waits tens of ms for the OS to schedule its second
#: thread (on an idle one it gains a few ms per step, which a default run would not notice).
#: Above it, ``kernel="auto"`` times both kernels as it goes and runs the faster: the better
#: choice depends on the machine's load, and the two kernels give identical results, so the
#: choice never changes a run.
PARALLEL_THRESHOLD = 1_000_000
# Under kernel="auto": the first steps alternate the two kernels; then every _PROBE_EVERY-th step
# re-times the slower one, in case the machine's load changed.
_PROBE_FIRST = 4
_PROBE_EVERY = 32

# Adopters per block when building links, so construction temporaries stay bounded at 10^7 adopters.
_BUILD_BLOCK = 1 << 18
# Adopters per prange iteration of the parallel step: big enough to amortise the call, small
# enough to balance two cores. The split cannot change results (the RNG is counter-based).
_STEP_CHUNK = 1 << 14
# Adopters per block inside a chunk (see _update_range): enough gathers in flight, scratch in L1.
_BLOCK = 256
# Chunks for the parallel tally; fixed so the work split never depends on the thread count.
_COUNT_CHUNKS = 64
# Work chunks handed to a thread at a time by the parallel incremental kernel.
_DYNAMIC_CHUNKS = 2
# Bit of a state byte marking "switched this step" (the old state then sits in bits 2-3).
_SWITCHED = 16
_SWITCHED_WORD = np.uint64(0x1010101010101010)  # that bit in each byte of a 64-bit word
# Stand-in for "no links of this kind" in a block (a (m, 0) view, no memory).
_NO_LINKS = np.empty((_BUILD_BLOCK, 0), dtype=np.int64)
# Rows ahead that link construction prefetches (random scatter into 10^7-element arrays).
_AHEAD = 16
# Switchers whose followers' counts are prefetched together before being updated.
_PUSH_BATCH = 32

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
# the incremental kernels: what AdoptionField.step runs


@intrinsic
def _prefetch_write(typingctx: object, arr: types.Type, idx: types.Type) -> tuple | None:
    """Like ``_prefetch`` but with intent to write (PREFETCHW), for the count updates."""
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
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def _atomic_add(
    typingctx: object, arr: types.Type, idx: types.Type, val: types.Type
) -> tuple | None:
    """``arr[idx] += val`` as one atomic read-modify-write (wrapping), for the parallel kernel.

    Integer addition commutes, so the result never depends on which thread adds first.
    """
    if (
        not isinstance(arr, types.Array)
        or not isinstance(arr.dtype, types.Integer)
        or not isinstance(idx, types.Integer)
        or not isinstance(val, types.Integer)
    ):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        aryty, idxty, valty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        width = aryty.dtype.bitwidth
        value = args[2]
        if valty.bitwidth > width:
            value = builder.trunc(value, ir.IntType(width))
        elif valty.bitwidth < width:
            value = builder.sext(value, ir.IntType(width))
        builder.atomic_rmw("add", ptr, value, "monotonic")
        return context.get_dummy_value()

    return types.void(arr, idx, val), codegen


@njit(cache=True)
def _decide_chunk(
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
    the flag ``_SWITCHED``, so phase 2 can push the change to the adopters that link to it.
    ``delta`` receives this chunk's change of the country's (none, us, cn) tally.
    """
    sel = np.empty(_BLOCK, dtype=np.int64)
    flag = np.empty(_BLOCK, dtype=np.uint8)
    du = np.empty(3 * _BLOCK, dtype=np.float64)
    mask = (1 << half) - 1
    switched = 0
    for b0 in range(lo, hi, _BLOCK):
        b1 = min(hi, b0 + _BLOCK)
        # 1. Who revises: draw 0 of each adopter, compared as integers (exactly u < rate), in a
        # flat loop that LLVM vectorises; then a branch-free compaction.
        for i in range(b0, b1):
            z = _mix64(key + (np.uint64(i) * _TWO + _ONE) * _GAMMA)
            flag[i - b0] = (z >> _SH11) < revise_below
        n_sel = 0
        for q in range(b1 - b0):
            sel[n_sel] = b0 + q
            n_sel += flag[q]
        # Sparse revisers defeat the hardware prefetcher: ask for their cells all at once.
        for k in range(n_sel):
            i = sel[k]
            _prefetch(heterogeneity, i)
            _prefetch(counts, i)
            _prefetch(state, i)
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
            du[q] = _exp_nonpositive(du[q])
        # 4. Logit draw (draw 1), exactly as in _update_range.
        for k in range(n_sel):
            i = sel[k]
            e0 = du[3 * k]
            e01 = e0 + du[3 * k + 1]
            r = _uniform(key, np.uint64(i) * _TWO + _ONE) * (e01 + du[3 * k + 2])
            new = (r >= e0) + (r >= e01)
            if new == 2 and du[3 * k + 2] == 0.0:
                new = 1 if du[3 * k + 1] > 0.0 else 0
            s = state[i]
            if new != s:
                state[i] = new | (s << 2) | _SWITCHED
                delta[new] += 1
                delta[s] -= 1
                switched += 1
    return switched


@njit(cache=True)
def _push_chunk(
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
    batch = np.empty(_PUSH_BATCH, dtype=np.int64)
    full = (1 << (2 * half)) - 1
    i = lo
    while i < hi:
        n_b = 0
        while i < hi and n_b < _PUSH_BATCH:
            if i & 7 == 0 and i + 8 <= hi and words[i >> 3] & _SWITCHED_WORD == 0:
                i += 8
                continue
            batch[n_b] = i
            n_b += (state[i] & _SWITCHED) != 0
            i += 1
        for k in range(n_b):
            _prefetch(in_ptr, batch[k])
        for k in range(n_b):
            _prefetch(in_idx, in_ptr[batch[k]])
        for k in range(n_b):
            j = batch[k]
            for p in range(in_ptr[j], in_ptr[j + 1]):
                _prefetch_write(counts, in_idx[p])
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
                    _atomic_add(counts, in_idx[p], d)
            else:
                for p in range(in_ptr[j], in_ptr[j + 1]):
                    t = in_idx[p]
                    counts[t] = (np.int64(counts[t]) + d) & full


@njit(cache=True)
def _close_step(
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
    base, leave = _step_tables(country_utility, official, official_weight, switching_cost)
    key = _step_key(seed, step_index)
    n_chunks = chunk_country.shape[0]
    delta[:] = 0
    switched = 0
    for b in range(n_chunks):
        c = chunk_country[b]
        switched += _decide_chunk(
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
            _push_chunk(
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
        _close_step(chunk_country, delta, tally)
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
    base, leave = _step_tables(country_utility, official, official_weight, switching_cost)
    key = _step_key(seed, step_index)
    n_chunks = chunk_country.shape[0]
    delta[:] = 0
    switched = 0
    for b in prange(n_chunks):
        c = chunk_country[b]
        switched += _decide_chunk(
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
            _push_chunk(
                chunk_start[b], chunk_start[b + 1], state, words, counts, in_ptr, in_idx, half, True
            )
        _close_step(chunk_country, delta, tally)
    return switched


# --------------------------------------------------------------------------------------------------
# construction helpers (run once)


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
                _prefetch_write(in_ptr, t + 1)
            for t in cross[k + _AHEAD]:
                _prefetch_write(in_ptr, t + 1)
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
                _prefetch_write(cursor, t)
                _prefetch(state, t)
        if k + _AHEAD < m:
            for q in range(deg):
                t = within[k + _AHEAD, q] if q < w else cross[k + _AHEAD, q - w]
                _prefetch_write(in_idx, cursor[t])
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
def _out_links(
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
def _recount(
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


def _count_dtype(max_degree: int) -> type[np.unsignedinteger]:
    """Smallest unsigned type holding two counts of 0..max_degree side by side."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if max_degree < 1 << (4 * np.dtype(dtype).itemsize):
            return dtype
    raise ValueError(f"{max_degree} links per adopter: at most 65535 are supported")


def revise_threshold(revision_rate: float) -> np.uint64:
    """Integer threshold T with ``(z >> 11) < T`` exactly when ``(z >> 11) * 2**-53 < rate``."""
    return np.uint64(math.ceil(float(revision_rate) * 2.0**53))


class AdoptionField:
    """All micro-adopters of the world: state, fixed taste, neighbour counts and in-links.

    Construction draws, from ``rng`` and in this order: one np.uint64 field seed, then per country
    (in blocks of adopters) the initial states, the tastes ``h_i`` and the link targets. Steps draw
    nothing from ``rng``: they hash (field seed, step_index, adopter, draw), so a step is a pure
    function of the state and its inputs.

    The links are drawn twice from the same generator state (the generator is rewound in
    between): once to size the in-link lists, once to fill them. That keeps the draws, and so the
    field, identical to drawing the out-links once, without ever holding both link lists.
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
        self._sizes = sizes

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
        degree = (n_within + n_cross).astype(np.int64)
        total_links = int((degree * sizes).sum())
        self.degree: NDArray[np.int64] = degree  # out-links per adopter, by country
        self._inv_degree = 1.0 / np.maximum(degree, 1).astype(np.float64)  # no links: shares 0

        idx_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
        ptr_dtype = np.int32 if total_links < np.iinfo(np.int32).max else np.int64
        count_dtype = _count_dtype(int(degree.max()))
        self._half = 4 * np.dtype(count_dtype).itemsize
        self._idx_dtype = idx_dtype
        self._ptr_dtype = ptr_dtype

        # np.uint64, never a Python int: numba given ints >= 2**63 takes a ~80x slower call path.
        self._seed: np.uint64 = np.uint64(rng.integers(0, 2**64, dtype=np.uint64))
        # State bytes padded to whole 64-bit words: the push phase scans them eight at a time.
        state_words = np.zeros((n + 7) // 8, dtype=np.uint64)
        state = state_words.view(np.int8)[:n]
        heterogeneity = np.empty(n, dtype=np.float32)
        counts = np.empty(n, dtype=count_dtype)
        in_ptr = np.zeros(n + 1, dtype=ptr_dtype)
        in_idx = np.empty(total_links, dtype=idx_dtype)
        # State thresholds on one uniform; 2.0 (never reached) where the later options have zero
        # share, so rounding in the cumulative sum can never pick a stack with zero initial share.
        cum = np.cumsum(shares, axis=1)
        thresh_us = np.where(shares[:, 1:].sum(axis=1) > 0.0, cum[:, 0], 2.0)
        thresh_cn = np.where(shares[:, 2] > 0.0, cum[:, 1], 2.0)
        sd = np.float32(config.heterogeneity_sd)

        u_buf = np.empty(min(n, _BUILD_BLOCK), dtype=np.float64)
        h_buf = np.empty(min(n, _BUILD_BLOCK), dtype=np.float32)

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
            for lo in range(0, int(sizes[c]), _BUILD_BLOCK):
                m = min(_BUILD_BLOCK, int(sizes[c]) - lo)
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
            for lo in range(0, int(sizes[c]), _BUILD_BLOCK):
                m = min(_BUILD_BLOCK, int(sizes[c]) - lo)
                within, cross = draw_block(c, lo, m, h_buf[:m])
                a = int(start[c]) + lo
                _fill_in_links(a, within, cross, in_ptr, in_idx, state, counts, self._half)
                del within, cross
        _shift_right(in_ptr)

        # Work chunks: fixed here (never by thread count), each inside one country.
        bounds = [
            (c, lo, min(lo + _STEP_CHUNK, int(start[c + 1])))
            for c in range(n_countries)
            for lo in range(int(start[c]), int(start[c + 1]), _STEP_CHUNK)
        ]
        self._chunk_country = np.array([b[0] for b in bounds], dtype=np.int64)
        self._chunk_start = np.array([b[1] for b in bounds] + [n], dtype=np.int64)
        self._delta = np.zeros((len(bounds), 3), dtype=np.int64)

        self._state = state
        self._state_words = state_words
        self._counts = counts
        self.heterogeneity = heterogeneity
        self.in_ptr = in_ptr
        self.in_idx = in_idx
        self._tally = counts_kernel_serial(state, start, n_countries)
        self._seconds: dict[str, float] = {}  # recent wall time per kernel, for kernel="auto"
        self._auto_steps = 0

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

    def __getstate__(self) -> dict[str, Any]:
        """For copy.deepcopy and pickle: ``_state`` is a view of ``_state_words``, and a copy
        must keep it one (the push phase scans the words, the rest reads the bytes)."""
        state = self.__dict__.copy()
        del state["_state"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._state = self._state_words.view(np.int8)[: self.n_adopters]

    # --- read-only views, built on demand (the kernels need none of them)
    @property
    def state(self) -> NDArray[np.int8]:
        """Copy of every adopter's current stack."""
        return self._state.copy()

    @property
    def seed(self) -> np.uint64:
        """The field's counter-RNG seed, drawn once from the constructor's rng."""
        return self._seed

    @property
    def country(self) -> NDArray[np.integer]:
        """Country id of every adopter (built on demand: adopters are contiguous by country)."""
        dtype = np.int16 if self.n_countries <= np.iinfo(np.int16).max else np.int32
        return np.repeat(np.arange(self.n_countries, dtype=dtype), self._sizes)

    @property
    def indptr(self) -> NDArray[np.integer]:
        """Out-link CSR row pointers (built on demand from the per-country degree)."""
        out = np.zeros(self.n_adopters + 1, dtype=self._ptr_dtype)
        np.cumsum(np.repeat(self.degree, self._sizes), out=out[1:])
        return out

    @property
    def indices(self) -> NDArray[np.integer]:
        """Out-link CSR targets, rebuilt on demand from the in-links.

        Per adopter: targets in its own country first (the ``within_links``), then the others;
        each group in increasing order. A full copy: 4 bytes per link, so avoid at 10^7.
        """
        out = np.empty(self.in_idx.shape[0], dtype=self._idx_dtype)
        _out_links(self.in_ptr, self.in_idx, self.indptr, self.country_start, out)
        return out

    @property
    def neighbour_counts(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(on US, on CN) out-neighbours of every adopter, as kept by the kernels."""
        code = self._counts.astype(np.int64)
        return code & ((1 << self._half) - 1), code >> self._half

    def recount(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Neighbour counts recomputed from the links and states (to check the kept ones)."""
        out = np.empty_like(self._counts)
        _recount(self._state, self.indptr, self.indices, self._half, out)
        code = out.astype(np.int64)
        return code & ((1 << self._half) - 1), code >> self._half

    def snapshot(self) -> dict[str, NDArray]:
        """Copies of everything a step changes (states, neighbour counts, tallies)."""
        return {
            "state": self._state.copy(),
            "counts": self._counts.copy(),
            "tally": self._tally.copy(),
        }

    def restore(self, snapshot: dict[str, NDArray]) -> None:
        """Rewind to a ``snapshot()`` of this field (benchmarks replay months from one start)."""
        for name, target in (
            ("state", self._state),
            ("counts", self._counts),
            ("tally", self._tally),
        ):
            value = snapshot[name]
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ValueError(f"snapshot[{name!r}] does not belong to this field")
            np.copyto(target, value)

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
        auto = kernel == "auto"
        if auto:
            kernel = self._auto_kernel()
        if kernel == "parallel":
            fn = step_incremental_parallel
        elif kernel == "serial":
            fn = step_incremental_serial
        else:
            raise ValueError(f"kernel = {kernel!r}: must be 'auto', 'serial' or 'parallel'")
        cfg = self.config
        started = time.perf_counter()
        # Parallel: hand out chunks dynamically, a few at a time (set here, not in the kernel, which
        # could then not be cached): on a busy machine one thread may wait for a CPU, and the other
        # should not then sit at the barrier with half the work still assigned to the first.
        previous = set_parallel_chunksize(_DYNAMIC_CHUNKS) if kernel == "parallel" else None
        try:
            switched = fn(
                self._state,
                self._state_words,
                self._counts,
                self.heterogeneity,
                self.in_ptr,
                self.in_idx,
                self._chunk_start,
                self._chunk_country,
                self._inv_degree,
                self._half,
                self._tally,
                self._delta,
                cu,
                off,
                revise_threshold(cfg.revision_rate),
                float(cfg.neighbour_weight),
                float(cfg.official_weight),
                float(cfg.switching_cost),
                self._seed,
                np.uint64(step_index),
            )
        finally:
            if previous is not None:
                set_parallel_chunksize(previous)
        if auto and self.n_adopters > PARALLEL_THRESHOLD:
            seconds = time.perf_counter() - started
            last = self._seconds.get(kernel)
            self._seconds[kernel] = seconds if last is None else 0.5 * (last + seconds)
        self._auto_steps += auto
        return int(switched)

    def _auto_kernel(self) -> Literal["serial", "parallel"]:
        """The kernel that has been faster here lately (see PARALLEL_THRESHOLD)."""
        if self.n_adopters <= PARALLEL_THRESHOLD:
            return "serial"
        k = self._auto_steps
        if k < _PROBE_FIRST:
            return "serial" if k % 2 else "parallel"
        fast = min(("serial", "parallel"), key=lambda name: self._seconds[name])
        slow = "parallel" if fast == "serial" else "serial"
        return slow if k % _PROBE_EVERY == 0 else fast

    def counts(self) -> NDArray[np.int64]:
        """Adopters per country on none/us/cn, shape (n_countries, 3); kept up to date by step."""
        return self._tally.copy()

    def shares(self) -> NDArray[np.float64]:
        """Fractions of each country's adopters on none/us/cn; rows sum to 1."""
        return self._tally / self._sizes[:, None]

    def nbytes(self) -> int:
        """Bytes held by the field's arrays: per adopter (state, counts, taste, in-link CSR) and
        the small per-country and per-chunk tables."""
        arrays = (
            self._state_words,
            self._counts,
            self.heterogeneity,
            self.in_ptr,
            self.in_idx,
            self.country_start,
            self.degree,
            self._inv_degree,
            self._sizes,
            self._chunk_country,
            self._chunk_start,
            self._delta,
            self._tally,
        )
        return sum(a.nbytes for a in arrays)
