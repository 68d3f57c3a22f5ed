"""The ensemble file: its checks (bad files refused in one line), the weighted draw, member seeds,
members applied to scenarios, and the weighted quantiles against a brute-force reference."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ensemble_helpers import ensemble_table, fitted_parameters, write_ensemble
from hypothesis import given
from hypothesis import strategies as st

from chipwar.world.ensemble import (
    FIT_KEY,
    Ensemble,
    apply_member,
    load_ensemble,
    member_seed,
    weighted_quantiles,
)
from chipwar.world.errors import InputError
from chipwar.world.parameters import parameter_table
from chipwar.world.scenario import load_scenario


@pytest.fixture
def ensemble_file(tmp_path):
    return write_ensemble(tmp_path / "ensemble.parquet", members=12)


def test_a_file_in_the_contract_format_loads(ensemble_file):
    ensemble = load_ensemble(ensemble_file)
    assert len(ensemble) == 12
    assert list(ensemble.parameters) == fitted_parameters()
    assert ensemble.fit_record["members"] == 12
    assert len(ensemble.sha256) == 64
    member = ensemble.member(3)
    assert member.index == 3 and set(member.params) == set(fitted_parameters())
    assert math.isclose(sum(m.weight for m in ensemble.every_member()), 1.0)


def _replace(table: pa.Table, name: str, values: list, kind: pa.DataType | None = None) -> pa.Table:
    index = table.schema.get_field_index(name)
    column = pa.array(values, kind or table.schema.field(name).type)
    return table.set_column(index, pa.field(name, column.type), column)


def _with_metadata(table: pa.Table, metadata: dict | None) -> pa.Table:
    return table.replace_schema_metadata(metadata)


FIRST = fitted_parameters()[0]
BAD_FILES = {
    "member out of order": (
        lambda t: _replace(t, "member", [1, 0, 2, 3]),
        "member (row 0) = 1: 0..3 in order",
    ),
    "member as float": (
        lambda t: _replace(t, "member", [0.0, 1.0, 2.0, 3.0], pa.float64()),
        "member type = 'double': int64",
    ),
    "zero weight": (
        lambda t: _replace(t, "weight", [0.0, 0.5, 0.25, 0.25]),
        "weight (member 0) = 0.0: a finite number > 0",
    ),
    "weights not summing to 1": (
        lambda t: _replace(t, "weight", [0.5, 0.5, 0.5, 0.5]),
        "weight (sum) = 2.0: weights that sum to 1",
    ),
    "parameter out of range": (
        lambda t: _replace(t, FIRST, [-1.0, 1.0, 1.0, 1.0]),
        f"{FIRST} (member 0) = -1.0: a number in",
    ),
    "NaN parameter": (
        lambda t: _replace(t, FIRST, [math.nan] * 4),
        f"{FIRST} (member 0) = nan",
    ),
    "unknown column": (
        lambda t: t.append_column("colour", pa.array([1.0] * 4)),
        "column = 'colour': member, weight, distance or a parameter of parameters.toml",
    ),
    "no weight": (
        lambda t: t.drop_columns(["weight"]),
        "column = 'weight': required, but missing",
    ),
    "no parameters": (
        lambda t: t.select(["member", "weight", "distance"]),
        "at least one parameter of parameters.toml",
    ),
    "negative distance": (
        lambda t: _replace(t, "distance", [-1.0, 0.0, 0.0, 0.0]),
        "distance (member 0) = -1.0: a number >= 0",
    ),
    "no fit record": (
        lambda t: _with_metadata(t, None),
        "metadata chipwar.fit = None: the fit record as a JSON object",
    ),
    "fit record not an object": (
        lambda t: _with_metadata(t, {FIT_KEY: b"[1, 2]"}),
        "metadata chipwar.fit = '[1, 2]': the fit record as a JSON object",
    ),
    "no members": (
        lambda t: t.slice(0, 0),
        "rows = 0: at least one member",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_in_one_line_naming_the_file(tmp_path, case):
    break_it, message = BAD_FILES[case]
    path = tmp_path / "bad.parquet"
    pq.write_table(break_it(ensemble_table(members=4)), path)
    with pytest.raises(InputError) as err:
        load_ensemble(path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path)) and message in text, text


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "the calibrated ensemble: run `chipwar calibrate --ensemble`"), (b"junk", "Parquet")],
)
def test_missing_or_junk_files_are_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "ensemble.parquet"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_ensemble(path)
    assert "\n" not in str(err.value) and message in str(err.value)


def test_the_same_seed_draws_the_same_members_and_another_seed_others(ensemble_file):
    ensemble = load_ensemble(ensemble_file)
    first, again = ensemble.draw(7, 5), ensemble.draw(7, 5)
    assert [m.index for m in first] == [m.index for m in again]
    draws = {tuple(m.index for m in ensemble.draw(7, seed)) for seed in range(6)}
    assert len(draws) > 1


def test_drawing_more_members_than_the_file_holds_repeats_them(ensemble_file):
    ensemble = load_ensemble(ensemble_file)
    drawn = [m.index for m in ensemble.draw(40, 0)]
    assert len(drawn) == 40 and set(drawn) <= set(range(12)) and len(set(drawn)) < 40


def test_equal_weights_and_as_many_draws_as_members_take_each_member_once(tmp_path):
    ensemble = load_ensemble(write_ensemble(tmp_path / "e.parquet", members=9, equal_weights=True))
    for seed in range(5):
        assert sorted(m.index for m in ensemble.draw(9, seed)) == list(range(9))


@given(
    weights=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=30),
    n=st.integers(1, 200),
    seed=st.integers(0, 2**32),
)
def test_systematic_draws_give_each_member_its_share_of_the_draws(weights, n, seed):
    """Each member is drawn floor(n w) or ceil(n w) times: the weights are honoured exactly up
    to rounding, whatever the seed."""
    w = np.array(weights) / sum(weights)
    value = parameter_table()["detection_base"].value
    members = pd.DataFrame({"member": np.arange(len(w)), "weight": w, "detection_base": value})
    ensemble = Ensemble(Path("made-up.parquet"), members, ("detection_base",), {}, "")
    counts = np.bincount([m.index for m in ensemble.draw(n, seed)], minlength=len(w))
    expected = n * w
    assert counts.sum() == n
    assert np.all(counts >= np.floor(expected - 1e-9)) and np.all(
        counts <= np.ceil(expected + 1e-9)
    )


def test_member_seeds_differ_by_position_and_stay_in_the_command_line_range():
    seeds = [member_seed(3, k) for k in range(200)]
    assert len(set(seeds)) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert member_seed(3, 0) == member_seed(3, 0) != member_seed(4, 0)


def test_a_member_overrides_the_scenario_parameters_except_those_kept(ensemble_file):
    ensemble = load_ensemble(ensemble_file)
    member = ensemble.member(2)
    scenario = load_scenario("porous")
    applied = apply_member(scenario, member)
    assert {k: applied.params[k] for k in member.params} == member.params
    kept = apply_member(scenario, member, keep=[FIRST])
    assert FIRST not in kept.params and kept.parameters()[FIRST] == parameter_table()[FIRST].value


# --- weighted quantiles ---------------------------------------------------------------------------
def _brute_force(values: list[float], weights: list[int], q: Fraction) -> float:
    """Every value repeated weight times, sorted; the element at ceil(q N) (1-based), exactly."""
    expanded = sorted(v for v, w in zip(values, weights, strict=True) for _ in range(w))
    rank = max(1, math.ceil(q * len(expanded)))
    return expanded[rank - 1]


@given(
    data=st.lists(
        st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 6)),
        min_size=1,
        max_size=25,
    ),
    percents=st.lists(st.integers(0, 100), min_size=1, max_size=5),
)
def test_weighted_quantiles_equal_the_quantiles_of_the_values_repeated_by_weight(data, percents):
    values = [v for v, _ in data]
    weights = [w for _, w in data]
    got = weighted_quantiles(values, weights, [p / 100 for p in percents])
    want = [_brute_force(values, weights, Fraction(p, 100)) for p in percents]
    assert list(got) == want


@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=30),
    scale=st.floats(0.001, 1000.0),
)
def test_weighted_quantiles_with_equal_weights_are_numpys_inverted_cdf(values, scale):
    q = [0.1, 0.5, 0.9]
    got = weighted_quantiles(values, [scale] * len(values), q)
    assert list(got) == list(np.quantile(values, q, method="inverted_cdf"))
    low, mid, high = got
    assert low <= mid <= high


def test_weighted_quantiles_leave_out_nan_and_need_sane_weights():
    assert list(weighted_quantiles([1.0, math.nan, 3.0], [1, 5, 1], [0.5])) == [1.0]
    assert math.isnan(weighted_quantiles([math.nan], None, [0.5])[0])
    with pytest.raises(ValueError):
        weighted_quantiles([1.0, 2.0], [1.0, -1.0], [0.5])


def test_fit_record_round_trips_as_json(tmp_path):
    path = write_ensemble(tmp_path / "e.parquet", members=3, seed=9)
    record = load_ensemble(path).fit_record
    assert json.loads(json.dumps(record)) == record and record["seed"] == 9
