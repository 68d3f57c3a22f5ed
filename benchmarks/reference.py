"""Reference implementations of the adoption rule, to measure the numba kernels against.

The rule is the one documented in ``chipwar.world.adoption``. Two references:

- ``MesaAdoption``: one ``mesa.Agent`` per adopter, activated with Mesa's own ``AgentSet.do``
  (``step`` then ``advance``, the synchronous pattern of Mesa's documentation); what a Mesa user
  would write. By default each agent draws from Mesa's ``self.random``; with ``counter=True`` it
  uses the field's counter-based draws instead, so its states can be compared exactly.
- ``numpy_step``: plain numpy, vectorised over the adopters, re-reading the revisers' neighbours
  each step through the out-link CSR, with the same counter-based draws and the same polynomial exp
  as the kernels (so it agrees with them bit for bit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np
from numpy.typing import NDArray

from chipwar.world.adoption import STACK_CN, STACK_NONE, STACK_US, AdoptionField

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
LOG2E = 1.4426950408889634
LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
EXP_COEFFS = (
    2.755731922398589e-07,
    2.7557319223985893e-06,
    2.48015873015873e-05,
    1.984126984126984e-04,
    1.388888888888889e-03,
    8.333333333333333e-03,
    4.1666666666666664e-02,
    0.16666666666666666,
    0.5,
    1.0,
    1.0,
)


# --------------------------------------------------------------------------------------------------
# the counter-based draws, in Python integers and in numpy uint64


def mix64(z: int) -> int:
    """splitmix64 finaliser on a Python int (mod 2**64)."""
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def step_key(seed: int, step_index: int) -> int:
    """Per-step key of the field's stream (as ``_step_key`` in the kernels)."""
    return mix64(int(seed) ^ mix64(((step_index + 1) * GAMMA) & MASK64))


def uniform(key: int, counter: int) -> float:
    """The counter-th draw of a step's stream, in [0, 1)."""
    return (mix64((key + (counter + 1) * GAMMA) & MASK64) >> 11) * 2.0**-53


def _mix64_np(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def uniforms_np(key: int, counters: NDArray[np.uint64]) -> NDArray[np.float64]:
    """``uniform(key, c)`` for an array of counters (uint64 arithmetic wraps like the kernels)."""
    z = _mix64_np(np.uint64(key) + (counters + np.uint64(1)) * np.uint64(GAMMA))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def exp_nonpositive_np(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The kernels' polynomial exp for x <= 0, vectorised in numpy (same bits)."""
    xc = np.maximum(x, -700.0)
    kf = np.floor(xc * LOG2E + 0.5)
    r = (xc - kf * LN2_HI) - kf * LN2_LO
    p = np.full_like(r, EXP_COEFFS[0])
    for coeff in EXP_COEFFS[1:]:
        p = p * r + coeff
    return np.where(x >= -700.0, np.ldexp(p, kf.astype(np.int64)), 0.0)


# --------------------------------------------------------------------------------------------------
# inputs shared by the references


@dataclass
class RuleInputs:
    """A field's fixed parts in the plain form the references use (out-link CSR, country ids)."""

    state: NDArray[np.int8]
    heterogeneity: NDArray[np.float32]
    country: NDArray[np.int64]
    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    seed: int
    revision_rate: float
    neighbour_weight: float
    official_weight: float
    switching_cost: float

    @classmethod
    def from_field(cls, field: AdoptionField) -> RuleInputs:
        cfg = field.config
        return cls(
            state=field.state,
            heterogeneity=field.heterogeneity.copy(),
            country=field.country.astype(np.int64),
            indptr=field.indptr.astype(np.int64),
            indices=field.indices.astype(np.int64),
            seed=int(field.seed),
            revision_rate=float(cfg.revision_rate),
            neighbour_weight=float(cfg.neighbour_weight),
            official_weight=float(cfg.official_weight),
            switching_cost=float(cfg.switching_cost),
        )


def step_tables(
    country_utility: NDArray[np.float64], official: NDArray[np.int8], inputs: RuleInputs
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """base[c, k] (utility plus the official bonus; none for a hedging government) and
    leave[s, k] (the switching cost), as in the kernels."""
    base = np.array(country_utility, dtype=np.float64, copy=True)
    rows = np.flatnonzero(official != STACK_NONE)
    base[rows, official[rows]] += inputs.official_weight
    leave = np.zeros((3, 3))
    for s in (STACK_US, STACK_CN):
        for k in range(3):
            if k != s:
                leave[s, k] = inputs.switching_cost
    return base, leave


# --------------------------------------------------------------------------------------------------
# plain numpy


def numpy_step(
    state: NDArray[np.int8],
    inputs: RuleInputs,
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
    step_index: int,
) -> NDArray[np.int8]:
    """One synchronous step, vectorised over all adopters; returns the new state vector."""
    n = state.shape[0]
    key = step_key(inputs.seed, step_index)
    counter = np.arange(n, dtype=np.uint64) * np.uint64(2)
    revise = np.flatnonzero(uniforms_np(key, counter) < inputs.revision_rate)
    # Neighbour counts of the revisers: their CSR rows, flattened.
    lo, hi = inputs.indptr[revise], inputs.indptr[revise + 1]
    degree = hi - lo
    row = np.repeat(np.arange(revise.size), degree)
    offset = np.arange(row.size) - np.repeat(np.cumsum(degree) - degree, degree)
    neighbour_state = state[inputs.indices[np.repeat(lo, degree) + offset]]
    n_us = np.bincount(row, neighbour_state == STACK_US, minlength=revise.size)
    n_cn = np.bincount(row, neighbour_state == STACK_CN, minlength=revise.size)
    inv_degree = 1.0 / np.maximum(degree, 1)
    base, leave = step_tables(country_utility, official, inputs)
    s = state[revise]
    c = inputs.country[revise]
    h = inputs.heterogeneity[revise].astype(np.float64)
    nw = inputs.neighbour_weight
    u0 = base[c, 0] - leave[s, 0]
    u1 = base[c, 1] + nw * (n_us * inv_degree) - h - leave[s, 1]
    u2 = base[c, 2] + nw * (n_cn * inv_degree) + h - leave[s, 2]
    m = np.maximum(np.maximum(u0, u1), u2)
    e0, e1, e2 = (exp_nonpositive_np(u - m) for u in (u0, u1, u2))
    e01 = e0 + e1
    r = uniforms_np(key, counter[revise] + np.uint64(1)) * (e01 + e2)
    new = (r >= e0).astype(np.int8) + (r >= e01)
    bad = (new == STACK_CN) & (e2 == 0.0)
    new[bad] = np.where(e1[bad] > 0.0, STACK_US, STACK_NONE)
    out = state.copy()
    out[revise] = new
    return out


def transition_probabilities(
    state: NDArray[np.int8],
    inputs: RuleInputs,
    country_utility: NDArray[np.float64],
    official: NDArray[np.int8],
) -> NDArray[np.float64]:
    """Each adopter's exact probability of each stack after one step, shape (n, 3).

    (1 - rate) on its current stack plus rate times the logit choice: the expectation a
    statistical check compares draws from another random stream against.
    """
    n = state.shape[0]
    degree = np.diff(inputs.indptr)
    row = np.repeat(np.arange(n), degree)
    neighbour_state = state[inputs.indices]
    n_us = np.bincount(row, neighbour_state == STACK_US, minlength=n)
    n_cn = np.bincount(row, neighbour_state == STACK_CN, minlength=n)
    inv_degree = 1.0 / np.maximum(degree, 1)
    base, leave = step_tables(country_utility, official, inputs)
    c, s = inputs.country, state
    h = inputs.heterogeneity.astype(np.float64)
    nw = inputs.neighbour_weight
    u = np.stack(
        [
            base[c, 0] - leave[s, 0],
            base[c, 1] + nw * (n_us * inv_degree) - h - leave[s, 1],
            base[c, 2] + nw * (n_cn * inv_degree) + h - leave[s, 2],
        ],
        axis=1,
    )
    p = np.exp(u - u.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p *= inputs.revision_rate
    p[np.arange(n), s] += 1.0 - inputs.revision_rate
    return p


# --------------------------------------------------------------------------------------------------
# plain Mesa


class Adopter(mesa.Agent):
    """One micro-adopter as a Mesa agent: its stack, taste, country and neighbour agents."""

    def __init__(self, model: MesaAdoption, state: int, taste: float, country: int) -> None:
        super().__init__(model)
        self.state = state
        self.next_state = state
        self.taste = taste
        self.country = country
        self.neighbours: list[Adopter] = []

    def uniform(self, draw: int) -> float:
        """A uniform in [0, 1) from Mesa's own random stream."""
        return self.random.random()

    def step(self) -> None:
        """Decide next month's stack from this month's states of the neighbours."""
        model = self.model
        self.next_state = self.state
        if self.uniform(0) >= model.revision_rate:
            return
        n_us = n_cn = 0
        for other in self.neighbours:
            if other.state == STACK_US:
                n_us += 1
            elif other.state == STACK_CN:
                n_cn += 1
        inv_degree = 1.0 / max(len(self.neighbours), 1)
        base = model.base[self.country]
        leave = model.leave[self.state]
        nw = model.neighbour_weight
        u0 = base[0] - leave[0]
        u1 = base[1] + nw * (n_us * inv_degree) - self.taste - leave[1]
        u2 = base[2] + nw * (n_cn * inv_degree) + self.taste - leave[2]
        top = max(u0, u1, u2)
        e0, e1, e2 = math.exp(u0 - top), math.exp(u1 - top), math.exp(u2 - top)
        r = self.uniform(1) * (e0 + e1 + e2)
        if r < e0:
            self.next_state = STACK_NONE
        elif r < e0 + e1 or e2 == 0.0:
            self.next_state = STACK_US if e1 > 0.0 else STACK_NONE
        else:
            self.next_state = STACK_CN

    def advance(self) -> None:
        self.state = self.next_state


class CounterAdopter(Adopter):
    """Same agent, drawing the field's counter-based numbers (for an exact comparison)."""

    def __init__(
        self, model: MesaAdoption, state: int, taste: float, country: int, index: int
    ) -> None:
        super().__init__(model, state, taste, country)
        self.index = index

    def uniform(self, draw: int) -> float:
        return uniform(self.model.key, 2 * self.index + draw)


class MesaAdoption(mesa.Model):
    """The adoption field as plain Mesa agents, activated with ``AgentSet.do``."""

    def __init__(self, inputs: RuleInputs, *, rng: int = 0, counter: bool = False) -> None:
        super().__init__(rng=rng)
        self.revision_rate = inputs.revision_rate
        self.neighbour_weight = inputs.neighbour_weight
        self.inputs = inputs
        self.key = 0
        self.base: list[tuple[float, float, float]] = []
        self.leave: list[tuple[float, float, float]] = []
        states = inputs.state.tolist()
        tastes = inputs.heterogeneity.astype(np.float64).tolist()
        countries = inputs.country.tolist()
        if counter:
            adopters = [
                CounterAdopter(self, s, h, c, i)
                for i, (s, h, c) in enumerate(zip(states, tastes, countries, strict=True))
            ]
        else:
            adopters = [
                Adopter(self, s, h, c) for s, h, c in zip(states, tastes, countries, strict=True)
            ]
        indptr, indices = inputs.indptr.tolist(), inputs.indices.tolist()
        for i, adopter in enumerate(adopters):
            adopter.neighbours = [adopters[j] for j in indices[indptr[i] : indptr[i + 1]]]
        self.adopters = adopters

    def set_month(
        self, country_utility: NDArray[np.float64], official: NDArray[np.int8], step_index: int
    ) -> None:
        """This month's inputs (what the ChipWarModel hands the field)."""
        base, leave = step_tables(country_utility, official, self.inputs)
        self.base = [tuple(row) for row in base.tolist()]
        self.leave = [tuple(row) for row in leave.tolist()]
        self.key = step_key(self.inputs.seed, step_index)

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")

    def states(self) -> NDArray[np.int8]:
        return np.array([a.state for a in self.adopters], dtype=np.int8)
