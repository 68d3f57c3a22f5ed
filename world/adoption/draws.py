"""Counter-based random numbers for the adoption kernels, and the exp they evaluate.

Why counter-based: draw ``d`` (0: revise or not, 1: which option) of adopter ``i`` at step ``t``
is a splitmix64 hash of (field seed, t, i, d) mapped to [0, 1). No generator state is carried
from adopter to adopter, so any thread can compute any adopter's draws, and the result does not
depend on thread count or scheduling: serial and parallel kernels give identical states, bit for
bit. The exp is a polynomial in plain arithmetic for the same reason: the same bits everywhere,
and a loop LLVM can vectorise.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from chipwar.world.adoption.intrinsics import bits_to_float

# splitmix64 constants as np.uint64: numba given Python ints >= 2**63 falls onto slow paths.
GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
ONE = np.uint64(1)
TWO = np.uint64(2)
SH11 = np.uint64(11)
_SH27 = np.uint64(27)
_SH30 = np.uint64(30)
_SH31 = np.uint64(31)
_INV_2_53 = 1.0 / 9007199254740992.0
# exp reduction constants: log2(e), and ln 2 split so that k * _LN2_HI is exact.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10


@njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijective avalanche of 64 bits."""
    z = (z ^ (z >> _SH30)) * _MIX1
    z = (z ^ (z >> _SH27)) * _MIX2
    return z ^ (z >> _SH31)


@njit(cache=True)
def step_key(seed: np.uint64, step_index: np.uint64) -> np.uint64:
    """Per-step key, so every (seed, step) pair gets an unrelated stream."""
    return mix64(seed ^ mix64((step_index + ONE) * GAMMA))


@njit(cache=True)
def uniform(key: np.uint64, counter: np.uint64) -> float:
    """The counter-th splitmix64 output from ``key``, as a float64 in [0, 1).

    Adopter ``i`` uses counter ``2 i`` for draw 0 (revise or not) and ``2 i + 1`` for draw 1.
    """
    z = mix64(key + (counter + ONE) * GAMMA)
    return np.float64(z >> SH11) * _INV_2_53


def revise_threshold(revision_rate: float) -> np.uint64:
    """Integer threshold T with ``(z >> 11) < T`` exactly when ``(z >> 11) * 2**-53 < rate``.

    Lets the incremental kernel decide who revises with integer compares, in a loop LLVM
    vectorises, and still pick exactly the adopters whose ``uniform`` draw 0 is below the rate.
    """
    return np.uint64(math.ceil(float(revision_rate) * 2.0**53))


@njit(cache=True)
def exp_nonpositive(x: float) -> float:
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
    scale = bits_to_float((np.int64(kf) + 1023) << 52)
    return p * scale if x >= -700.0 else 0.0
