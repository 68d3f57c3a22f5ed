"""ABC-SMC (approximate Bayesian computation by sequential Monte Carlo), own implementation.

The population Monte Carlo scheme of Beaumont, Cornuet, Marin & Robert (2009, Biometrika 96:983)
and Toni et al. (2009, J. R. Soc. Interface 6:187): generation 0 draws from the prior; each later
generation resamples the previous population by weight, perturbs with a Gaussian kernel of twice
the population's weighted covariance, simulates, and keeps draws whose distance is within the
generation's tolerance. Weights are prior density / mixture proposal density. Tolerances shrink
adaptively (the ``quantile`` of the previous population's distances, Del Moral et al. 2012) down to
``final_tolerance``; the run stops after a generation at the final tolerance, or when the draw
budget is spent (then the last complete generation is returned, with its tolerance).

Parameters live in the unit cube, where the prior is uniform (the caller maps uniform or
log-uniform ranges onto it), so the prior density is 1 inside and 0 outside. The simulator takes
a batch of unit points and returns a distance per point plus per-target misses; batches are sized
from the results only, so the population does not depend on how runs are executed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# unit points (n, d) -> (distances (n,), misses per target (n, k))
Simulator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class AbcSettings:
    members: int = 100
    draws: int = 4000  # simulation budget over all generations
    quantile: float = 0.5
    final_tolerance: float = 0.0
    max_generations: int = 6
    seed: int = 0


@dataclass
class AbcResult:
    points: np.ndarray  # (members, d) unit points
    weights: np.ndarray  # (members,), sum 1
    distances: np.ndarray  # (members,)
    tolerances: list[float]
    draws: int
    accepted_final: int  # draws within the final tolerance in the last generation
    draws_final: int
    complete: bool  # reached the final tolerance within the budget
    misses: np.ndarray = field(repr=False)  # (all draws, k) misses of every simulated draw


def abc_smc(simulate: Simulator, dim: int, settings: AbcSettings) -> AbcResult:
    """The ABC-SMC population for ``simulate`` over the unit cube in ``dim`` dimensions."""
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed))
    n = settings.members
    all_misses: list[np.ndarray] = []
    draws = 0

    # generation 0: the prior, every draw kept (tolerance infinite)
    points = rng.random((n, dim))
    distances, misses = simulate(points)
    all_misses.append(misses)
    draws += n
    weights = np.full(n, 1.0 / n)
    tolerances = [math.inf]
    accepted_final, draws_final = n, n
    complete = settings.final_tolerance == math.inf

    for _ in range(settings.max_generations):
        if complete or draws >= settings.draws:
            break  # at the final tolerance, or no budget left for another generation
        tolerance = max(float(np.quantile(distances, settings.quantile)), settings.final_tolerance)
        cov = 2.0 * np.atleast_2d(np.cov(points.T, aweights=weights)) + 1e-12 * np.eye(dim)
        chol = np.linalg.cholesky(cov)
        inverse = np.linalg.inv(cov)
        kept_points: list[np.ndarray] = []
        kept_dist: list[np.ndarray] = []
        rate = 0.5
        generation_draws = 0
        while sum(len(k) for k in kept_points) < n and draws < settings.draws:
            missing = n - sum(len(k) for k in kept_points)
            batch = min(settings.draws - draws, max(8, math.ceil(1.2 * missing / max(rate, 0.05))))
            proposal = _propose(rng, points, weights, chol, batch)
            dist, miss = simulate(proposal)
            all_misses.append(miss)
            draws += batch
            generation_draws += batch
            ok = dist <= tolerance
            kept_points.append(proposal[ok])
            kept_dist.append(dist[ok])
            rate = max(ok.mean(), 1.0 / batch)
        accepted = sum(len(k) for k in kept_points)
        new_points = np.concatenate(kept_points)[:n]
        if len(new_points) < n:
            break  # budget spent: keep the last complete generation
        new_dist = np.concatenate(kept_dist)[:n]
        diff = new_points[:, None, :] - points[None, :, :]
        kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diff, inverse, diff))
        new_weights = 1.0 / (kernel @ weights)
        points, distances = new_points, new_dist
        weights = new_weights / new_weights.sum()
        tolerances.append(tolerance)
        accepted_final, draws_final = accepted, generation_draws
        complete = tolerance <= settings.final_tolerance
    return AbcResult(
        points,
        weights,
        distances,
        tolerances,
        draws,
        accepted_final,
        draws_final,
        complete,
        np.concatenate(all_misses),
    )


def _propose(
    rng: np.random.Generator, points: np.ndarray, weights: np.ndarray, chol: np.ndarray, n: int
) -> np.ndarray:
    """``n`` perturbed resamples of the population, each inside the unit cube (prior support)."""
    out = np.empty((n, points.shape[1]))
    filled = 0
    while filled < n:
        picks = rng.choice(len(points), size=n, p=weights)
        moved = points[picks] + rng.standard_normal((n, points.shape[1])) @ chol.T
        inside = moved[np.all((moved >= 0.0) & (moved <= 1.0), axis=1)]
        take = min(n - filled, len(inside))
        out[filled : filled + take] = inside[:take]
        filled += take
    return out
