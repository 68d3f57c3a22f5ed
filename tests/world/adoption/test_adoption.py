"""The adoption field: valid shares, the documented logit rule, exact reproducibility, CSR links."""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipwar.world import adoption
from chipwar.world.adoption import (
    STACK_CN,
    STACK_NONE,
    STACK_US,
    AdoptionConfig,
    AdoptionField,
    step_kernel_parallel,
    step_kernel_serial,
)
from chipwar.world.adoption import field as adoption_field
from chipwar.world.adoption.draws import exp_nonpositive

N_COUNTRIES = 20
BASE = AdoptionConfig(
    within_links=4,
    cross_links=2,
    revision_rate=0.3,
    neighbour_weight=1.5,
    official_weight=1.0,
    switching_cost=1.0,
    heterogeneity_sd=0.6,
)


def sizes_for(n_countries: int = N_COUNTRIES, total: int = 5_000) -> np.ndarray:
    """Uneven but deterministic country sizes summing to about ``total``."""
    raw = np.linspace(1.0, 4.0, n_countries)
    return np.maximum(1, np.rint(total * raw / raw.sum())).astype(np.int64)


def make_field(
    seed: int = 0,
    *,
    config: AdoptionConfig = BASE,
    sizes: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    shares: np.ndarray | None = None,
) -> AdoptionField:
    sizes = sizes_for() if sizes is None else sizes
    c = sizes.shape[0]
    if weights is None:
        weights = np.random.default_rng(1234).random((c, c))
    if shares is None:
        shares = np.tile([0.5, 0.3, 0.2], (c, 1))
    return AdoptionField(sizes, weights, shares, config, np.random.default_rng(seed))


def inputs(n_countries: int = N_COUNTRIES) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic utilities and official stacks."""
    rng = np.random.default_rng(99)
    utility = rng.normal(0.0, 1.0, size=(n_countries, 3))
    official = rng.integers(0, 3, size=n_countries).astype(np.int8)
    return utility, official


def run(field: AdoptionField, steps: int = 10, **kwargs: str) -> list[int]:
    utility, official = inputs(field.n_countries)
    return [field.step(utility, official, t, **kwargs) for t in range(steps)]


def country_of(field: AdoptionField, index: np.ndarray) -> np.ndarray:
    return np.searchsorted(field.country_start, index, side="right") - 1


# --- shares and counts


def test_shares_are_fractions_summing_to_one() -> None:
    field = make_field()
    for _ in range(2):
        shares = field.shares()
        assert shares.shape == (N_COUNTRIES, 3)
        assert shares.dtype == np.float64
        assert np.all((shares >= 0.0) & (shares <= 1.0))
        np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        run(field, 3)


def test_counts_add_up_to_adopters_and_country_sizes() -> None:
    sizes = sizes_for()
    field = make_field(sizes=sizes)
    run(field, 5)
    counts = field.counts()
    assert counts.dtype == np.int64
    assert counts.shape == (N_COUNTRIES, 3)
    assert counts.sum() == field.n_adopters == sizes.sum()
    np.testing.assert_array_equal(counts.sum(axis=1), sizes)
    # The numba tally agrees with a plain numpy count of the state vector.
    state = field.state
    expected = np.zeros((N_COUNTRIES, 3), dtype=np.int64)
    np.add.at(expected, (country_of(field, np.arange(field.n_adopters)), state), 1)
    np.testing.assert_array_equal(counts, expected)


def test_parallel_tally_matches_serial_tally() -> None:
    field = make_field(sizes=sizes_for(total=60_000))
    run(field, 2)
    serial = adoption.counts_kernel_serial(field.state, field.country_start, field.n_countries)
    parallel = adoption.counts_kernel_parallel(field.state, field.country, field.n_countries, 64)
    np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(field.counts(), serial)


def test_initial_states_follow_initial_shares() -> None:
    sizes = np.array([4000, 4000, 4000, 3], dtype=np.int64)
    shares = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.5, 0.3], [0.0, 1.0, 0.0]])
    field = make_field(sizes=sizes, shares=shares, weights=np.ones((4, 4)))
    got = field.shares()
    np.testing.assert_array_equal(got[[0, 1, 3]], shares[[0, 1, 3]])  # exact where degenerate
    np.testing.assert_allclose(got[2], shares[2], atol=0.03)


def test_heterogeneity_is_float32_with_the_configured_spread() -> None:
    field = make_field(config=replace(BASE, heterogeneity_sd=2.0))
    assert field.heterogeneity.dtype == np.float32
    assert abs(float(field.heterogeneity.std()) - 2.0) < 0.1
    assert not make_field(config=replace(BASE, heterogeneity_sd=0.0)).heterogeneity.any()


# --- reproducibility


def test_same_seed_gives_identical_state_bytes() -> None:
    a, b = make_field(seed=7), make_field(seed=7)
    assert run(a) == run(b)
    assert a.state.tobytes() == b.state.tobytes()
    np.testing.assert_array_equal(a.counts(), b.counts())


def test_different_seed_gives_different_states() -> None:
    a, b = make_field(seed=7), make_field(seed=8)
    run(a)
    run(b)
    assert a.state.tobytes() != b.state.tobytes()


def kernel_args(field: AdoptionField, state: np.ndarray, step_index: int) -> tuple:
    utility, official = inputs(field.n_countries)
    cfg = field.config
    return (
        state,
        np.empty_like(state),
        np.empty((state.shape[0] + 3) // 4, dtype=np.uint8),
        field.heterogeneity,
        field.indptr,
        field.indices,
        field.country,
        utility,
        official,
        cfg.revision_rate,
        cfg.neighbour_weight,
        cfg.official_weight,
        cfg.switching_cost,
        field.seed,
        np.uint64(step_index),
    )


@pytest.mark.parametrize("total", [5_000, 60_000])
@pytest.mark.parametrize("revision_rate", [0.3, 1.0])
def test_serial_and_parallel_kernels_are_bit_identical(total: int, revision_rate: float) -> None:
    field = make_field(
        config=replace(BASE, revision_rate=revision_rate), sizes=sizes_for(total=total)
    )
    serial_state = field.state
    parallel_state = field.state
    for t in range(5):
        args_s = kernel_args(field, serial_state, t)
        args_p = kernel_args(field, parallel_state, t)
        switched_s = step_kernel_serial(*args_s)
        switched_p = step_kernel_parallel(*args_p)
        assert switched_s == switched_p
        serial_state, parallel_state = args_s[1], args_p[1]
        assert serial_state.tobytes() == parallel_state.tobytes()
    assert switched_s > 0


def test_step_kernel_choice_does_not_change_results() -> None:
    a = make_field(seed=3, sizes=sizes_for(total=40_000))
    b = make_field(seed=3, sizes=sizes_for(total=40_000))
    assert run(a, 4, kernel="serial") == run(b, 4, kernel="parallel")
    assert a.state.tobytes() == b.state.tobytes()


def test_thread_count_does_not_change_results() -> None:
    a = make_field(seed=4, sizes=sizes_for(total=50_000))
    b = make_field(seed=4, sizes=sizes_for(total=50_000))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run(a, 3, kernel="parallel")
    finally:
        numba.set_num_threads(threads)
    assert one == run(b, 3, kernel="parallel")
    assert a.state.tobytes() == b.state.tobytes()


def test_step_index_keys_the_random_stream() -> None:
    a, b = make_field(seed=5), make_field(seed=5)
    utility, official = inputs()
    a.step(utility, official, 0)
    b.step(utility, official, 1)
    assert a.state.tobytes() != b.state.tobytes()


# --- the rule


def test_revision_rate_zero_changes_nothing() -> None:
    field = make_field(config=replace(BASE, revision_rate=0.0))
    before = field.state
    assert run(field) == [0] * 10
    np.testing.assert_array_equal(field.state, before)


def test_one_step_follows_the_logit_rule() -> None:
    """No network, cost or taste: each reviser draws k with probability softmax(U)[k]."""
    config = replace(
        BASE, revision_rate=1.0, neighbour_weight=0.0, switching_cost=0.0, heterogeneity_sd=0.0
    )
    sizes = np.full(3, 8000, dtype=np.int64)
    field = make_field(config=config, sizes=sizes)
    utility = np.array([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5], [-3.0, 0.0, 0.0]])
    official = np.array([STACK_NONE, STACK_CN, STACK_US], dtype=np.int8)
    field.step(utility, official, 0)
    bonus = np.zeros((3, 3))
    bonus[np.arange(3), official] = config.official_weight
    bonus[:, STACK_NONE] = 0.0  # a hedging government (official 0) gives no bonus
    expected = np.exp(utility + bonus)
    expected /= expected.sum(axis=1, keepdims=True)
    # 5 standard errors of a share estimated from 8000 draws is at most 0.028.
    np.testing.assert_allclose(field.shares(), expected, atol=0.028)


def test_neighbour_shares_come_from_the_linked_adopters() -> None:
    """A huge network weight makes every reviser follow its neighbours' majority stack."""
    config = replace(
        BASE,
        revision_rate=1.0,
        neighbour_weight=300.0,
        official_weight=0.0,
        switching_cost=0.0,
        heterogeneity_sd=0.0,
    )
    field = make_field(config=config, shares=np.tile([0.3, 0.35, 0.35], (N_COUNTRIES, 1)))
    before = field.state
    field.step(np.zeros((N_COUNTRIES, 3)), np.zeros(N_COUNTRIES, dtype=np.int8), 0)
    after = field.state
    neighbours = before[field.indices].reshape(field.n_adopters, -1)
    n_us = (neighbours == STACK_US).sum(axis=1)
    n_cn = (neighbours == STACK_CN).sum(axis=1)
    assert (n_us > n_cn).sum() > 1000 and (n_cn > n_us).sum() > 1000
    assert np.all(after[n_us > n_cn] == STACK_US)
    assert np.all(after[n_cn > n_us] == STACK_CN)


def test_switching_cost_keeps_adopters_on_their_stack() -> None:
    config = replace(
        BASE, revision_rate=1.0, neighbour_weight=0.0, switching_cost=30.0, heterogeneity_sd=0.0
    )
    field = make_field(config=config)
    before = field.state
    utility = np.zeros((N_COUNTRIES, 3))
    official = np.zeros(N_COUNTRIES, dtype=np.int8)
    field.step(utility, official, 0)
    after = field.state
    on_stack = before != STACK_NONE
    np.testing.assert_array_equal(after[on_stack], before[on_stack])
    assert (after[~on_stack] != STACK_NONE).any()  # adopters without a stack pay nothing to pick


def test_taste_pushes_towards_the_chinese_stack() -> None:
    config = replace(
        BASE, revision_rate=1.0, neighbour_weight=0.0, switching_cost=0.0, heterogeneity_sd=2.0
    )
    field = make_field(config=config)
    field.step(np.zeros((N_COUNTRIES, 3)), np.zeros(N_COUNTRIES, dtype=np.int8), 0)
    state, h = field.state, field.heterogeneity
    assert h[state == STACK_CN].mean() > 1.0
    assert h[state == STACK_US].mean() < -1.0


def test_large_cn_utility_moves_only_that_country_without_cross_links() -> None:
    """Country 0 goes Chinese; with no cross links the rest evolve exactly as without the push."""
    config = replace(BASE, within_links=6, cross_links=0)
    boosted, control = make_field(seed=11, config=config), make_field(seed=11, config=config)
    utility, official = inputs()
    utility[0] = [0.0, 1.0, -1.0]  # country 0 leans US on its own
    official[0] = STACK_US
    pushed = utility.copy()
    pushed[0, STACK_CN] += 20.0
    start_cn = boosted.shares()[0, STACK_CN]
    for t in range(10):
        boosted.step(pushed, official, t)
        control.step(utility, official, t)
    b, c = boosted.shares(), control.shares()
    assert b[0, STACK_CN] > 0.9 > start_cn
    assert b[0, STACK_CN] > c[0, STACK_CN] + 0.5
    # Counter-based draws per adopter: the other countries see identical randomness, so they are
    # not just unchanged in expectation but identical.
    np.testing.assert_array_equal(b[1:], c[1:])


def test_official_weight_towards_us_raises_us_share() -> None:
    official = np.full(N_COUNTRIES, STACK_US, dtype=np.int8)
    utility, _ = inputs()
    result = {}
    for weight in (0.0, 2.0):
        field = make_field(seed=2, config=replace(BASE, official_weight=weight))
        for t in range(10):
            field.step(utility, official, t)
        result[weight] = field.shares()[:, STACK_US]
    assert result[2.0].mean() > result[0.0].mean() + 0.1
    assert (result[2.0] > result[0.0]).mean() >= 0.9


def test_polynomial_exp_matches_numpy() -> None:
    x = -np.concatenate([np.linspace(0.0, 40.0, 4001), np.linspace(40.0, 699.0, 500)])
    got = np.array([exp_nonpositive(v) for v in x])
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-11, atol=0)
    assert exp_nonpositive(0.0) == 1.0
    assert exp_nonpositive(-701.0) == 0.0


# --- links


def test_csr_invariants() -> None:
    field = make_field()
    indptr, indices = field.indptr, field.indices
    n = field.n_adopters
    assert indptr.dtype == np.int32 and indices.dtype == np.int32
    assert field.country.dtype == np.int16
    assert indptr.shape == (n + 1,)
    assert indptr[0] == 0 and indptr[-1] == indices.shape[0]
    assert np.all(np.diff(indptr) >= 0)
    assert indices.min() >= 0 and indices.max() < n
    degree = np.diff(indptr)
    assert np.all(degree == BASE.within_links + BASE.cross_links)
    links = indices.reshape(n, -1)
    source_country = country_of(field, np.arange(n))[:, None]
    target_country = country_of(field, links)
    within, cross = slice(0, BASE.within_links), slice(BASE.within_links, None)
    assert np.all(target_country[:, within] == source_country)
    assert np.all(links[:, within] != np.arange(n)[:, None])  # never to itself
    assert np.all(target_country[:, cross] != source_country)
    np.testing.assert_array_equal(country_of(field, np.arange(n)), field.country)


def test_adopters_are_contiguous_by_country() -> None:
    sizes = sizes_for()
    field = make_field(sizes=sizes)
    np.testing.assert_array_equal(field.country_start, np.concatenate([[0], np.cumsum(sizes)]))
    np.testing.assert_array_equal(field.country, np.repeat(np.arange(N_COUNTRIES), sizes))


def test_cross_links_follow_link_weights() -> None:
    sizes = np.array([20_000, 50, 50, 50], dtype=np.int64)
    weights = np.array([[9.0, 1.0, 3.0, 0.0], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]])
    config = replace(BASE, within_links=1, cross_links=2)
    field = make_field(sizes=sizes, weights=weights, config=config)
    links = field.indices[: field.indptr[20_000]].reshape(20_000, 3)
    target_country = country_of(field, links[:, 1:])
    frac = np.bincount(target_country.ravel(), minlength=4) / target_country.size
    np.testing.assert_allclose(frac, [0.0, 0.25, 0.75, 0.0], atol=0.01)  # diagonal ignored
    # Uniform within the target country.
    targets = links[:, 1:][target_country == 2] - field.country_start[2]
    assert np.bincount(targets, minlength=50).min() > 0


def test_no_cross_weight_falls_back_to_within_links() -> None:
    sizes = np.array([100, 100, 1, 1], dtype=np.int64)
    weights = np.ones((4, 4))
    weights[0] = 0.0  # country 0 has no partner
    weights[3] = 0.0  # a lone adopter with no partner: no links at all
    weights[3, 3] = 5.0  # the diagonal is ignored
    field = make_field(sizes=sizes, weights=weights)
    degree = np.diff(field.indptr)
    deg = BASE.within_links + BASE.cross_links
    np.testing.assert_array_equal(degree, [deg] * 100 + [deg] * 100 + [BASE.cross_links, 0])
    first = field.indices[: field.indptr[100]]
    assert first.min() >= 0 and first.max() < 100  # all of country 0's links stay home
    lone = field.indices[field.indptr[200] : field.indptr[201]]
    assert np.all(country_of(field, lone) != 2)  # size 1: cross links only, never itself
    utility, official = inputs(4)
    for t in range(3):
        field.step(utility, official, t)
    np.testing.assert_allclose(field.shares().sum(axis=1), 1.0)


def test_memory_stays_under_40_bytes_per_adopter() -> None:
    field = make_field()
    per_adopter = field.nbytes() / field.n_adopters
    assert per_adopter < 40
    assert field.nbytes() >= field.indices.nbytes + field.indptr.nbytes + 2 * field.n_adopters


# --- validation


def good_args() -> dict:
    return {
        "country_sizes": np.array([3, 4], dtype=np.int64),
        "link_weights": np.ones((2, 2)),
        "initial_shares": np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]),
        "config": BASE,
        "rng": np.random.default_rng(0),
    }


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("country_sizes", np.array([3, 0]), "country_sizes\\[1\\] = 0"),
        ("country_sizes", np.array([], dtype=np.int64), "empty"),
        ("country_sizes", np.array([3.0, 4.0]), "must be integers"),
        ("country_sizes", np.array([[3, 4]]), "1-dimensional"),
        ("link_weights", np.ones((2, 3)), "must be \\(2, 2\\)"),
        ("link_weights", np.array([[0.0, -1.0], [1.0, 0.0]]), "finite and >= 0"),
        ("link_weights", np.array([[0.0, np.nan], [1.0, 0.0]]), "finite and >= 0"),
        ("initial_shares", np.ones((2, 2)) / 2, "must be \\(2, 3\\)"),
        ("initial_shares", np.array([[0.5, 0.5, 0.1], [0.2, 0.3, 0.5]]), "row 0 sums to"),
        ("initial_shares", np.array([[1.5, -0.5, 0.0], [0.2, 0.3, 0.5]]), "in \\[0, 1\\]"),
        ("config", {"within_links": 4}, "must be an AdoptionConfig"),
        ("rng", 42, "numpy.random.Generator"),
    ],
)
def test_constructor_rejects_bad_input(field: str, value: object, match: str) -> None:
    args = good_args()
    args[field] = value
    with pytest.raises(ValueError, match=match):
        AdoptionField(**args)


def test_shares_rows_within_tolerance_are_accepted() -> None:
    args = good_args()
    args["initial_shares"] = np.array([[0.5, 0.5 + 5e-7, 0.0], [0.2, 0.3, 0.5]])
    assert AdoptionField(**args).n_adopters == 7


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("revision_rate", 1.5, "must be in \\[0, 1\\]"),
        ("revision_rate", -0.1, "must be in \\[0, 1\\]"),
        ("within_links", -1, "integer >= 0"),
        ("cross_links", 2.5, "integer >= 0"),
        ("neighbour_weight", float("nan"), "finite number"),
        ("switching_cost", float("inf"), "finite number"),
        ("heterogeneity_sd", -1.0, ">= 0"),
    ],
)
def test_config_rejects_bad_values(name: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        replace(BASE, **{name: value})


def test_step_rejects_bad_input() -> None:
    field = make_field()
    utility, official = inputs()
    with pytest.raises(ValueError, match="country_utility has shape"):
        field.step(utility[:5], official, 0)
    with pytest.raises(ValueError, match="finite"):
        field.step(np.full_like(utility, np.nan), official, 0)
    with pytest.raises(ValueError, match="official has shape"):
        field.step(utility, official[:5], 0)
    with pytest.raises(ValueError, match="0 \\(none\\), 1 \\(us\\) or 2 \\(cn\\)"):
        field.step(utility, np.full(N_COUNTRIES, 3, dtype=np.int8), 0)
    with pytest.raises(ValueError, match="step_index"):
        field.step(utility, official, -1)
    with pytest.raises(ValueError, match="kernel"):
        field.step(utility, official, 0, kernel="gpu")  # type: ignore[arg-type]


# --- property


@st.composite
def small_fields(draw: st.DrawFn) -> tuple:
    n_countries = draw(st.integers(1, 8))
    sizes = np.array(draw(st.lists(st.integers(1, 60), min_size=n_countries, max_size=n_countries)))
    weights = np.array(
        draw(
            st.lists(
                st.sampled_from([0.0, 0.0, 0.5, 1.0, 7.0]),
                min_size=n_countries**2,
                max_size=n_countries**2,
            )
        )
    ).reshape(n_countries, n_countries)
    raw = np.array(
        draw(st.lists(st.integers(0, 5), min_size=3 * n_countries, max_size=3 * n_countries))
    ).reshape(n_countries, 3)
    raw[raw.sum(axis=1) == 0, 0] = 1
    shares = raw / raw.sum(axis=1, keepdims=True)
    config = AdoptionConfig(
        within_links=draw(st.integers(0, 5)),
        cross_links=draw(st.integers(0, 4)),
        revision_rate=draw(st.floats(0.0, 1.0)),
        neighbour_weight=draw(st.floats(-5.0, 5.0)),
        official_weight=draw(st.floats(-5.0, 5.0)),
        switching_cost=draw(st.floats(-5.0, 50.0)),
        heterogeneity_sd=draw(st.floats(0.0, 10.0)),
    )
    utility_scale = draw(st.sampled_from([0.0, 1.0, 100.0]))
    return sizes, weights, shares, config, utility_scale, draw(st.integers(0, 2**32))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_fields())
def test_any_small_field_keeps_valid_shares(case: tuple) -> None:
    sizes, weights, shares, config, utility_scale, seed = case
    field = AdoptionField(sizes, weights, shares, config, np.random.default_rng(seed))
    twin = AdoptionField(sizes, weights, shares, config, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    n_countries = sizes.shape[0]
    assert field.indices.size == 0 or field.indices.max() < field.n_adopters
    for t in range(4):
        utility = rng.normal(0.0, 1.0, size=(n_countries, 3)) * utility_scale
        official = rng.integers(0, 3, size=n_countries).astype(np.int8)
        switched = field.step(utility, official, t, kernel="serial")
        assert switched == twin.step(utility, official, t, kernel="parallel")
        assert 0 <= switched <= field.n_adopters
        got = field.shares()
        assert not np.isnan(got).any()
        assert np.all((got >= 0.0) & (got <= 1.0))
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_array_equal(field.counts().sum(axis=1), sizes)
        assert set(np.unique(field.state)) <= {STACK_NONE, STACK_US, STACK_CN}
    assert field.state.tobytes() == twin.state.tobytes()


# --- the incremental kernels (what step runs)


@pytest.mark.parametrize("config", [BASE, replace(BASE, within_links=10, cross_links=6)])
def test_kept_neighbour_counts_equal_a_recount(config: AdoptionConfig) -> None:
    field = make_field(config=config, sizes=sizes_for(total=30_000))
    for kernel in ("serial", "parallel"):
        run(field, 3, kernel=kernel)
        kept, recounted = field.neighbour_counts, field.recount()
        np.testing.assert_array_equal(kept[0], recounted[0])
        np.testing.assert_array_equal(kept[1], recounted[1])
    expected = np.zeros((N_COUNTRIES, 3), dtype=np.int64)
    np.add.at(expected, (field.country, field.state), 1)
    np.testing.assert_array_equal(field.counts(), expected)


def test_incremental_step_equals_the_direct_kernel() -> None:
    """The field's incremental step and the re-reading kernel give the same states, bit for bit."""
    field = make_field(seed=9, sizes=sizes_for(total=40_000))
    state = field.state
    for t in range(6):
        args = kernel_args(field, state, t)
        direct_switched = step_kernel_serial(*args)
        state = args[1]
        utility, official = inputs()
        assert field.step(utility, official, t) == direct_switched
        assert field.state.tobytes() == state.tobytes()


def test_auto_kernel_choice_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the threshold "auto" alternates and times both kernels; the states never notice."""
    monkeypatch.setattr(adoption_field, "PARALLEL_THRESHOLD", 10_000)
    sizes = sizes_for(total=40_000)
    a, b = make_field(seed=2, sizes=sizes), make_field(seed=2, sizes=sizes)
    assert run(a, 8) == run(b, 8, kernel="serial")
    assert a.state.tobytes() == b.state.tobytes()
    assert set(a._seconds) == {"serial", "parallel"}  # both were tried


def test_snapshot_restore_rewinds_a_step() -> None:
    field = make_field(sizes=sizes_for(total=20_000))
    snap = field.snapshot()
    first = run(field, 3)
    after = field.state
    field.restore(snap)
    assert run(field, 3) == first
    assert field.state.tobytes() == after.tobytes()
    with pytest.raises(ValueError, match="does not belong"):
        make_field(sizes=sizes_for(total=100)).restore(snap)


def test_a_deep_copy_steps_like_the_original() -> None:
    """Sessions checkpoint the model with copy.deepcopy; the copy must be a working field."""
    import copy
    import pickle

    field = make_field(sizes=sizes_for(total=20_000))
    run(field, 2)
    for twin in (copy.deepcopy(field), pickle.loads(pickle.dumps(field))):
        assert np.shares_memory(twin._state, twin._state_words)
        original = make_field(sizes=sizes_for(total=20_000))
        run(original, 2)
        assert run(twin, 4) == run(original, 4)
        assert twin.state.tobytes() == original.state.tobytes()
        np.testing.assert_array_equal(twin.neighbour_counts[0], twin.recount()[0])
