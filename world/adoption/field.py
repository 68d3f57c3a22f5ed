"""The adoption field: all micro-adopters of the world, and the kernel that steps them.

Layout. Adopters are stored contiguous by country: country ``c`` owns indices
``[start[c], start[c + 1])``. Per adopter: the stack (int8), the packed neighbour counts (uint8),
the taste ``h_i`` (float32) and the in-links as CSR (``in_ptr``/``in_idx``, int32 while they
fit); with 6 links 1 + 1 + 4 + 4 + 24 = 34 bytes. Country ids and the out-link CSR (``country``,
``indptr``, ``indices``) are derived on demand for inspection; the kernels never need them.

``AdoptionField.step`` runs the incremental kernels (``incremental.py``), serial or parallel:
``kernel="auto"`` picks the faster on this machine (see ``PARALLEL_THRESHOLD``); both give
identical results, so the choice never changes a run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numba import set_parallel_chunksize
from numpy.typing import NDArray

from chipwar.world.adoption.draws import revise_threshold
from chipwar.world.adoption.incremental import step_incremental_parallel, step_incremental_serial
from chipwar.world.adoption.links import draw_adopters, out_links, plan_links, recount
from chipwar.world.adoption.reference import counts_kernel_serial
from chipwar.world.adoption.rule import STEP_CHUNK

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
# Work chunks handed to a thread at a time by the parallel incremental kernel.
_DYNAMIC_CHUNKS = 2


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


class AdoptionField:
    """All micro-adopters of the world: state, fixed taste, neighbour counts and in-links.

    Construction draws, from ``rng`` and in this order: one np.uint64 field seed, then per country
    (in blocks of adopters) the initial states, the tastes ``h_i`` and the link targets
    (``links.draw_adopters``). Steps draw nothing from ``rng``: they hash (field seed, step_index,
    adopter, draw) (``draws.py``), so a step is a pure function of the state and its inputs.
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

        plan = plan_links(sizes, weights, config.within_links, config.cross_links)
        degree = plan.degree
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
        draw_adopters(
            rng,
            sizes,
            start,
            shares,
            config.heterogeneity_sd,
            plan,
            state,
            heterogeneity,
            counts,
            in_ptr,
            in_idx,
            self._half,
        )

        # Work chunks: fixed here (never by thread count), each inside one country.
        bounds = [
            (c, lo, min(lo + STEP_CHUNK, int(start[c + 1])))
            for c in range(n_countries)
            for lo in range(int(start[c]), int(start[c + 1]), STEP_CHUNK)
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
        out_links(self.in_ptr, self.in_idx, self.indptr, self.country_start, out)
        return out

    @property
    def neighbour_counts(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(on US, on CN) out-neighbours of every adopter, as kept by the kernels."""
        code = self._counts.astype(np.int64)
        return code & ((1 << self._half) - 1), code >> self._half

    def recount(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Neighbour counts recomputed from the links and states (to check the kept ones)."""
        out = np.empty_like(self._counts)
        recount(self._state, self.indptr, self.indices, self._half, out)
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
