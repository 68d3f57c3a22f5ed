"""The reference implementations of the adoption rule agree with the numba kernels (no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from chipwar.benchmarks import harness, reference
from chipwar.world.adoption import AdoptionConfig, AdoptionField

CONFIG = AdoptionConfig(
    within_links=4,
    cross_links=2,
    revision_rate=0.3,
    neighbour_weight=1.5,
    official_weight=1.0,
    switching_cost=1.0,
    heterogeneity_sd=0.6,
)


def field_and_months(total: int, n_months: int, seed: int = 0) -> tuple[AdoptionField, list]:
    rng = np.random.default_rng(seed)
    n_countries = 12
    sizes = np.maximum(1, rng.multinomial(total, np.full(n_countries, 1 / n_countries)))
    sizes[0] = 1  # a lone adopter, no within links
    weights = rng.random((n_countries, n_countries))
    shares = np.tile([0.5, 0.3, 0.2], (n_countries, 1))
    field = AdoptionField(sizes, weights, shares, CONFIG, np.random.default_rng(seed + 1))
    months = [
        (
            rng.normal(0.0, 1.5, size=(n_countries, 3)),
            rng.integers(0, 3, size=n_countries).astype(np.int8),
        )
        for _ in range(n_months)
    ]
    return field, months


def test_numba_numpy_and_mesa_give_identical_states_with_the_same_draws() -> None:
    field, months = field_and_months(3_000, 4)
    inputs = reference.RuleInputs.from_field(field)
    numpy_state = inputs.state
    mesa = reference.MesaAdoption(inputs, counter=True)
    serial = harness.time_incremental(field, months, "serial", 0.0, 1)[3]
    parallel = harness.time_incremental(field, months, "parallel", 0.0, 1)[3]
    direct = harness.Direct(field)
    direct.reset()
    direct_state = direct.run(months, parallel=False)
    for t, (utility, official) in enumerate(months):
        numpy_state = reference.numpy_step(numpy_state, inputs, utility, official, t)
        mesa.set_month(utility, official, t)
        mesa.step()
    assert (serial != inputs.state).sum() > 100  # the months moved adopters
    np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_array_equal(direct_state, serial)
    np.testing.assert_array_equal(numpy_state, serial)
    np.testing.assert_array_equal(mesa.states(), serial)


def test_mesa_with_its_own_stream_follows_the_rule_statistically() -> None:
    field, months = field_and_months(8_000, 3, seed=5)
    inputs = reference.RuleInputs.from_field(field)
    mesa = reference.MesaAdoption(inputs, rng=3)
    for t, (utility, official) in enumerate(months):
        before = mesa.states()
        p = reference.transition_probabilities(before, inputs, utility, official)
        mesa.set_month(utility, official, t)
        mesa.step()
        after = mesa.states()
        for k in range(3):
            expected = p[:, k].sum()
            sd = np.sqrt((p[:, k] * (1 - p[:, k])).sum())
            assert abs((after == k).sum() - expected) < 5 * sd


def test_numpy_exp_is_the_kernels_exp() -> None:
    from chipwar.world.adoption.draws import exp_nonpositive

    x = -np.concatenate([np.linspace(0.0, 40.0, 401), np.linspace(40.0, 710.0, 50)])
    expected = np.array([exp_nonpositive(v) for v in x])
    np.testing.assert_array_equal(reference.exp_nonpositive_np(x), expected)


def test_python_draws_match_the_kernels_stream() -> None:
    seed, step = np.uint64(0xDEADBEEF12345678), 7
    key = reference.step_key(int(seed), step)
    counters = np.arange(50, dtype=np.uint64)
    python = [reference.uniform(key, int(c)) for c in counters]
    np.testing.assert_array_equal(reference.uniforms_np(key, counters), python)
    assert all(0.0 <= u < 1.0 for u in python)


@pytest.mark.parametrize("rate", [0.0, 0.06, 1.0])
def test_bytes_per_update_are_positive_and_grow_with_switching(rate: float) -> None:
    low = harness.bytes_incremental(rate, 0.001, 6.0, 1)
    high = harness.bytes_incremental(rate, 0.05, 6.0, 1)
    assert 0 < low < high
    assert harness.bytes_direct(rate, 6.0) > 0 and harness.bytes_mesa(rate, 6.0) > 0
