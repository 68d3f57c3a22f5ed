"""Empirical game-theoretic analysis (EGTA) of a two-player game estimated by simulation.

A doctrine tournament measures, for every profile (a US doctrine against a China doctrine), each
side's payoff in every ensemble member. This module turns those samples into the normal-form game
of mean payoffs and says what an analyst needs to trust it: the best responses, the pure-strategy
Nash equilibria and each profile's regret (the most a side gains by deviating alone), and how much
of that survives the uncertainty across members, measured two ways:

- **per member:** the share of members in whose own game a profile is an equilibrium, or a
  doctrine a best response (how often it holds *in a world*);
- **bootstrap:** the share of resamples of the members (with replacement) in whose mean game it
  is (how sure the *mean game's* answer is, given the finite sample of members), as Wiedenbeck,
  Cassell and Wellman do for empirical games ("Bootstrap statistics for empirical games",
  AAMAS 2014).

The method is Wellman's ("Methods for empirical game-theoretic analysis", AAAI 2006) with the
sampling view of Tuyls et al. ("A generalised method for empirical game theoretic analysis",
AAMAS 2018); docs/ODD.md describes its use here. Everything is pure numpy on arrays of shape
(members, US strategies, China strategies), so it is tested on textbook games.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
BOOTSTRAP_STREAM = 7  # SeedSequence stream id of the bootstrap draws (distinct from run seeds)


def tolerance(*payoffs: Array) -> float:
    """Payoffs within this of the best count as tied: floating-point noise is no preference."""
    scale = max((float(np.max(np.abs(p))) for p in payoffs if p.size), default=0.0)
    return 1e-9 * max(1.0, scale)


def best_response_masks(row: Array, col: Array, tol: float | None = None) -> tuple[Array, Array]:
    """Boolean masks over (..., m, n): ``row_br[..., i, j]`` says row strategy i is a best
    response to column strategy j; ``col_br[..., i, j]`` that j is one to i (ties all count)."""
    tol = tolerance(row, col) if tol is None else tol
    row_br = row >= row.max(axis=-2, keepdims=True) - tol
    col_br = col >= col.max(axis=-1, keepdims=True) - tol
    return row_br, col_br


def equilibrium_mask(row: Array, col: Array, tol: float | None = None) -> Array:
    """Pure-strategy Nash equilibria: profiles where each side's strategy is a best response."""
    row_br, col_br = best_response_masks(row, col, tol)
    return row_br & col_br


def pure_equilibria(row: Array, col: Array, tol: float | None = None) -> list[tuple[int, int]]:
    """The pure-strategy Nash equilibria of a bimatrix game, as (row, column) index pairs."""
    mask = equilibrium_mask(np.asarray(row, float), np.asarray(col, float), tol)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]


def regret(row: Array, col: Array) -> Array:
    """Each profile's regret: the larger of the two sides' gains from deviating alone (0 at an
    equilibrium). The least-regret profile is the closest to one when there is none."""
    row_gain = row.max(axis=-2, keepdims=True) - row
    col_gain = col.max(axis=-1, keepdims=True) - col
    return np.maximum(row_gain, col_gain)


@dataclass(frozen=True)
class GameEstimate:
    """The mean game of a tournament and its uncertainty across members.

    Arrays are indexed [US strategy, China strategy]; shares are in [0, 1].
    """

    us_strategies: tuple[str, ...]
    china_strategies: tuple[str, ...]
    members: int
    bootstrap: int
    us_mean: Array
    china_mean: Array
    us_p10: Array
    us_p90: Array
    china_p10: Array
    china_p90: Array
    regret: Array
    equilibria: list[tuple[int, int]]  # of the mean game
    equilibrium_share_members: Array
    equilibrium_share_bootstrap: Array
    us_best_share_members: Array  # [i, j]: US i is a best response to China j
    us_best_share_bootstrap: Array
    china_best_share_members: Array  # [i, j]: China j is a best response to US i
    china_best_share_bootstrap: Array

    def us_best_responses(self) -> list[list[int]]:
        """For each China strategy, the US strategies that are best responses in the mean game."""
        row_br, _ = best_response_masks(self.us_mean, self.china_mean)
        return [list(np.flatnonzero(row_br[:, j])) for j in range(row_br.shape[1])]

    def china_best_responses(self) -> list[list[int]]:
        """For each US strategy, the China strategies that are best responses in the mean game."""
        _, col_br = best_response_masks(self.us_mean, self.china_mean)
        return [list(np.flatnonzero(col_br[i, :])) for i in range(col_br.shape[0])]


def estimate_game(
    us: Array,
    china: Array,
    us_strategies: tuple[str, ...],
    china_strategies: tuple[str, ...],
    seed: int,
    bootstrap: int = 1000,
) -> GameEstimate:
    """The mean game of payoff samples of shape (members, m, n) and its uncertainty.

    Members are equally weighted: a tournament draws them from the ensemble by weight. The
    bootstrap resamples members with replacement, ``bootstrap`` times, from a generator seeded by
    (``seed``, :data:`BOOTSTRAP_STREAM`), so the same tournament gives the same shares.
    """
    us, china = np.asarray(us, float), np.asarray(china, float)
    if us.shape != china.shape or us.ndim != 3 or 0 in us.shape:
        raise ValueError(f"payoff samples must share a non-empty (members, m, n) shape: {us.shape}")
    if us.shape[1:] != (len(us_strategies), len(china_strategies)):
        raise ValueError("payoff samples do not match the strategy lists")
    if not (np.isfinite(us).all() and np.isfinite(china).all()):
        raise ValueError("payoff samples must be finite")
    k = us.shape[0]
    tol = tolerance(us, china)
    us_mean, china_mean = us.mean(axis=0), china.mean(axis=0)
    us_br, china_br = best_response_masks(us, china, tol)
    rng = np.random.default_rng(np.random.SeedSequence([seed, BOOTSTRAP_STREAM]))
    us_boot = np.empty((bootstrap, *us.shape[1:]))
    china_boot = np.empty_like(us_boot)
    for b in range(bootstrap):  # a loop keeps memory at one resample (members can be many)
        pick = rng.integers(0, k, size=k)
        us_boot[b] = us[pick].mean(axis=0)
        china_boot[b] = china[pick].mean(axis=0)
    us_br_boot, china_br_boot = best_response_masks(us_boot, china_boot, tol)
    return GameEstimate(
        us_strategies=tuple(us_strategies),
        china_strategies=tuple(china_strategies),
        members=k,
        bootstrap=bootstrap,
        us_mean=us_mean,
        china_mean=china_mean,
        us_p10=np.quantile(us, 0.1, axis=0),
        us_p90=np.quantile(us, 0.9, axis=0),
        china_p10=np.quantile(china, 0.1, axis=0),
        china_p90=np.quantile(china, 0.9, axis=0),
        regret=regret(us_mean, china_mean),
        equilibria=pure_equilibria(us_mean, china_mean, tol),
        equilibrium_share_members=(us_br & china_br).mean(axis=0),
        equilibrium_share_bootstrap=(us_br_boot & china_br_boot).mean(axis=0),
        us_best_share_members=us_br.mean(axis=0),
        us_best_share_bootstrap=us_br_boot.mean(axis=0),
        china_best_share_members=china_br.mean(axis=0),
        china_best_share_bootstrap=china_br_boot.mean(axis=0),
    )
