"""Empirical game analysis: equilibria of textbook games, best responses, regret, uncertainty."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chipwar.runs.experiments.egta import estimate_game, pure_equilibria, regret

# (row payoffs, column payoffs, pure equilibria)
PRISONERS = (np.array([[3, 0], [5, 1]]), np.array([[3, 5], [0, 1]]), [(1, 1)])  # 0 cooperate
PENNIES = (np.array([[1, -1], [-1, 1]]), np.array([[-1, 1], [1, -1]]), [])
COORDINATION = (np.array([[2, 0], [0, 1]]), np.array([[2, 0], [0, 1]]), [(0, 0), (1, 1)])
ROCK_PAPER_SCISSORS = (
    np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]),
    -np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]),
    [],
)


@pytest.mark.parametrize(
    "game", [PRISONERS, PENNIES, COORDINATION, ROCK_PAPER_SCISSORS], ids=["pd", "mp", "co", "rps"]
)
def test_pure_equilibria_of_textbook_games(game):
    row, col, expected = game
    assert pure_equilibria(row, col) == expected
    r = regret(row.astype(float), col.astype(float))
    assert {tuple(map(int, p)) for p in zip(*np.nonzero(r == 0), strict=True)} == set(expected)


def test_prisoners_dilemma_regret_of_mutual_cooperation_is_the_temptation():
    row, col, _ = PRISONERS
    assert regret(row.astype(float), col.astype(float))[0, 0] == 2.0  # 5 - 3


def test_ties_count_for_both_strategies():
    row = np.array([[1.0, 0.0], [1.0, 0.0]])  # the row player is indifferent
    col = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert pure_equilibria(row, col) == [(0, 0), (1, 0)]
    assert pure_equilibria(row + 1e-13 * np.array([[1, 0], [0, 0]]), col) == [(0, 0), (1, 0)]


games = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda shape: st.tuples(
        arrays(np.float64, shape, elements=st.integers(-5, 5).map(float)),
        arrays(np.float64, shape, elements=st.integers(-5, 5).map(float)),
    )
)


@given(games)
def test_equilibria_match_the_definition(game):
    row, col = game
    m, n = row.shape
    brute = [
        (i, j)
        for i, j in itertools.product(range(m), range(n))
        if row[i, j] >= row[:, j].max() and col[i, j] >= col[i, :].max()
    ]
    assert pure_equilibria(row, col) == brute


@given(games, st.floats(0.1, 10), st.floats(-100, 100), st.randoms(use_true_random=False))
def test_equilibria_survive_affine_rescaling_and_relabelling(game, scale, shift, random):
    row, col = game
    m, n = row.shape
    found = set(pure_equilibria(row, col))
    assert set(pure_equilibria(scale * row + shift, col - shift)) == found
    rows, cols = random.sample(range(m), m), random.sample(range(n), n)
    relabelled = set(pure_equilibria(row[np.ix_(rows, cols)], col[np.ix_(rows, cols)]))
    assert {(rows[i], cols[j]) for i, j in relabelled} == found


def test_identical_members_give_certain_answers():
    row, col, _ = COORDINATION
    us, china = np.repeat(row[None], 5, 0), np.repeat(col[None], 5, 0)
    g = estimate_game(us, china, ("a", "b"), ("a", "b"), seed=1, bootstrap=50)
    assert g.equilibria == [(0, 0), (1, 1)]
    expected = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(g.equilibrium_share_members, expected)
    np.testing.assert_array_equal(g.equilibrium_share_bootstrap, expected)
    np.testing.assert_array_equal(g.us_p10, g.us_p90)
    assert g.us_best_responses() == [[0], [1]] and g.china_best_responses() == [[0], [1]]


def test_members_that_disagree_split_the_shares_and_the_bootstrap_is_seeded():
    # Half the members play the prisoner's dilemma, half a game where cooperation is dominant.
    row, col, _ = PRISONERS
    nice_row, nice_col = np.array([[4, 2], [3, 1]]), np.array([[4, 3], [2, 1]])
    us = np.stack([row, nice_row] * 10).astype(float)
    china = np.stack([col, nice_col] * 10).astype(float)
    g = estimate_game(us, china, ("c", "d"), ("c", "d"), seed=3, bootstrap=400)
    assert g.equilibrium_share_members[1, 1] == 0.5 and g.equilibrium_share_members[0, 0] == 0.5
    assert g.us_best_share_members[1, 0] == 0.5  # defect is the best reply to c in half
    assert 0.0 < g.equilibrium_share_bootstrap[1, 1] < 1.0
    again = estimate_game(us, china, ("c", "d"), ("c", "d"), seed=3, bootstrap=400)
    np.testing.assert_array_equal(again.equilibrium_share_bootstrap, g.equilibrium_share_bootstrap)
    other = estimate_game(us, china, ("c", "d"), ("c", "d"), seed=4, bootstrap=400)
    assert not np.array_equal(other.equilibrium_share_bootstrap, g.equilibrium_share_bootstrap)


def test_bad_samples_are_refused():
    with pytest.raises(ValueError, match="shape"):
        estimate_game(np.zeros((2, 2, 2)), np.zeros((2, 2, 3)), ("a", "b"), ("a", "b"), 0)
    with pytest.raises(ValueError, match="strategy lists"):
        estimate_game(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), ("a",), ("a", "b"), 0)
    with pytest.raises(ValueError, match="finite"):
        bad = np.zeros((2, 2, 2))
        bad[0, 0, 0] = np.nan
        estimate_game(bad, np.zeros((2, 2, 2)), ("a", "b"), ("a", "b"), 0)
