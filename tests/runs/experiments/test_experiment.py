"""Experiment specs: designs, seeds, plans, and clean refusals of malformed specs."""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st
from reliability import assert_clean_refusal, run_cli

from chipwar.runs.experiments.spec import (
    count_points,
    design_points,
    experiment_from_dict,
    load_experiment,
    plan_experiment,
    point_assignments,
)
from chipwar.world.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def spec(**overrides) -> dict:
    data = {
        "name": "t",
        "scenario": "porous",
        "scale": 1000,
        "horizon": "2024-06",
        "seed": 1,
        "factors": {
            "us.enforcement": {"range": [0.0, 1.0]},
            "params.detection_base": {"range": [0.001, 0.01]},
        },
        "design": {"kind": "lhs", "samples": 5},
    }
    data.update(overrides)
    return data


def test_grid_is_the_full_factorial_in_declared_order():
    data = spec(
        factors={
            "us.kyc": {"values": [0.0, 0.5]},
            "params.detection_base": {"range": [0.001, 0.005], "levels": 3},
            "scale": {"values": [1000, 2000]},
        },
        design={"kind": "grid"},
    )
    design = design_points(experiment_from_dict(data, "t"))
    assert list(design.columns) == ["point", "us.kyc", "params.detection_base", "scale"]
    assert len(design) == 12 and list(design["point"]) == list(range(12))
    assert sorted(design["params.detection_base"].unique()) == [0.001, 0.003, 0.005]
    assert design["scale"].dtype == np.int64
    assert list(design.iloc[0, 1:]) == [0.0, 0.001, 1000]


def test_lhs_and_sobol_stay_in_range_and_repeat_exactly():
    lhs = experiment_from_dict(spec(), "t")
    first, again = design_points(lhs), design_points(lhs)
    assert first.equals(again) and len(first) == 5
    assert first["us.enforcement"].between(0, 1).all()
    assert first["params.detection_base"].between(0.001, 0.01).all()
    # one point per stratum in each column: the Latin property
    strata = np.floor(first["us.enforcement"] * 5).astype(int)
    assert sorted(strata) == [0, 1, 2, 3, 4]
    sobol = experiment_from_dict(spec(design={"kind": "sobol", "samples": 8}), "t")
    assert count_points(sobol) == 8 * (2 + 2) == len(design_points(sobol))
    second = experiment_from_dict(
        spec(design={"kind": "sobol", "samples": 8, "second_order": True}), "t"
    )
    assert count_points(second) == 8 * (2 * 2 + 2) == len(design_points(second))
    other_seed = design_points(experiment_from_dict(spec(seed=2), "t"))
    assert not other_seed.equals(first)


def test_table_design_takes_points_as_given():
    data = spec(
        factors={},
        design={
            "kind": "table",
            "points": [
                {"us.kyc": 0.1, "scenario": "porous"},
                {"us.kyc": 0.9, "scenario": "loopholes-closed"},
            ],
        },
    )
    plan = plan_experiment(experiment_from_dict(data, "t"), "t")
    assert list(plan.design["us.kyc"]) == [0.1, 0.9]
    assert set(plan.scenarios) == {"porous", "loopholes-closed"}
    label, values = point_assignments(plan, 1)
    assert label == "loopholes-closed" and values == {"us.kyc": 0.9}


def test_a_doctrine_factor_is_categorical_and_becomes_the_role_s_player():
    data = spec(
        factors={"doctrine.china": {"values": ["hawk", "dove", "none"]}},
        set={"doctrine.us": "pragmatist"},
        design={"kind": "grid"},
    )
    plan = plan_experiment(experiment_from_dict(data, "t"), "t")
    assert list(plan.design["doctrine.china"]) == ["hawk", "dove", "none"]
    assert plan.scenarios["porous"].players == {"us": "pragmatist"}
    label, values = point_assignments(plan, 1)
    assert label == "porous" and values == {"doctrine.china": "dove"}


def test_seeds_are_spawned_common_or_independent():
    common = plan_experiment(experiment_from_dict(spec(replications=3), "t"), "t")
    runs = common.runs
    assert len(runs) == 15 and list(runs["run_id"]) == list(range(15))
    by_rep = runs.groupby("replication")["seed"].nunique()
    assert (by_rep == 1).all() and runs["seed"].nunique() == 3
    independent = plan_experiment(
        experiment_from_dict(spec(replications=3, seeds="independent"), "t"), "t"
    )
    assert independent.runs["seed"].nunique() == 15
    expected = np.random.SeedSequence(1).spawn(2)[1].spawn(3)[0].generate_state(1, np.uint64)[0]
    assert runs["seed"].iloc[0] == int(expected >> np.uint64(1))
    assert (runs["seed"] >= 0).all()


def test_fingerprint_follows_what_changes_results():
    base = plan_experiment(experiment_from_dict(spec(), "t"), "t")
    same = plan_experiment(experiment_from_dict(spec(description="words"), "t"), "t")
    other = plan_experiment(experiment_from_dict(spec(replications=2), "t"), "t")
    assert base.fingerprint == same.fingerprint != other.fingerprint


def test_default_output_dates_follow_the_horizon():
    assert plan_experiment(experiment_from_dict(spec(), "t"), "t").dates == ["2024-06"]
    full = plan_experiment(experiment_from_dict(spec(horizon=None), "t"), "t")
    assert full.horizon == "2030-12" and full.dates == ["2028-12", "2030-12"]
    assert "lead_months_2028_12" in full.metric_columns()


def test_horizon_before_the_branch_warns_that_levers_never_act():
    plan = plan_experiment(experiment_from_dict(spec(), "t"), "t")
    assert any("us.enforcement" in w and "2026-06" in w for w in plan.warnings)
    params_only = spec(factors={"params.detection_base": {"range": [0.001, 0.01]}})
    assert plan_experiment(experiment_from_dict(params_only, "t"), "t").warnings == ()


def test_scenario_paths_resolve_from_the_spec_folder(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\n[levers.us]\nkyc = 0.4\n')
    data = spec(scenario="mine.toml")
    path = tmp_path / "spec.toml"
    path.write_text(tomli_w.dumps(data))
    plan = plan_experiment(load_experiment(path), str(path), tmp_path)
    assert plan.scenarios["mine.toml"].levers.us.kyc == 0.4
    assert plan.scenarios["mine.toml"].scale == 1000  # the spec's scale applies


@pytest.mark.parametrize("name", ["us-levers-sobol.toml", "us-levers-lhs.toml"])
def test_example_specs_are_valid(name):
    path = EXAMPLES / name
    plan = plan_experiment(load_experiment(path), str(path), EXAMPLES)
    assert plan.factors == [
        "us.enforcement",
        "us.kyc",
        "us.anti_distillation",
        "allies.tool_controls",
        "us.stack_promotion",
    ]
    assert "lead_months_2028_12" in plan.metric_columns()


@pytest.mark.parametrize(
    "overrides, field, needle",
    [
        ({"factors": {"us.bogus": {"range": [0, 1]}}}, "factors.us.bogus", "lever"),
        ({"factors": {"us.kyc": {"range": [0, 2]}}}, "factors.us.kyc.range", "[0, 1]"),
        ({"factors": {"us.kyc": {"range": [0.5, 0.5]}}}, "factors.us.kyc.range", "low < high"),
        ({"factors": {"params.detection_base": {"range": [0, 9]}}}, "params.detection_base", "[0"),
        ({"factors": {"us.kyc": {"values": [0.1]}}}, "factors.us.kyc.values", "range"),
        ({"factors": {"us.kyc": {"values": ["x"]}}, "design": {"kind": "grid"}}, "values.0", "x"),
        ({"factors": {"us.kyc": {}}}, "factors.us.kyc", "exactly one"),
        ({"factors": {"us.kyc": {"range": [0, "a"]}}}, "factors.us.kyc.range.1", "number"),
        ({"design": {"kind": "sobol", "samples": 6}}, "design.samples", "power of 2"),
        ({"design": {"kind": "lhs"}}, "design.samples", "required"),
        ({"design": {"kind": "magic"}}, "design.kind", "grid"),
        ({"design": {"kind": "table"}}, "design.points", "required"),
        ({"replications": 0}, "replications", "greater than or equal to 1"),
        ({"seed": -3}, "seed", "greater than or equal to 0"),
        ({"horizon": "2031-01"}, "horizon", "2024-01..2030-12"),
        ({"horizon": "soon"}, "horizon", "pattern"),
        ({"scenario": "nowhere"}, "scenario", "preset"),
        ({"outputs": {"metrics": ["happiness"]}}, "outputs.metrics.0", "lead_months"),
        ({"outputs": {"dates": ["2029-01"]}}, "outputs.dates.0", "2024-01..2024-06"),
        ({"set": {"us.kyc": 3.0}}, "set.us.kyc", "[0, 1]"),
        ({"set": {"us.enforcement": 0.3}}, "set.us.enforcement", "not also a factor"),
        ({"colour": "red"}, "colour", "unknown key"),
        (
            {
                "factors": {"doctrine.china": {"values": ["hawk", "owl"]}},
                "design": {"kind": "grid"},
            },
            "factors.doctrine.china.values.1",
            "hawk, pragmatist, dove",
        ),
        (
            {"factors": {"doctrine.china": {"values": [0.5]}}, "design": {"kind": "grid"}},
            "factors.doctrine.china.values.0",
            "personality names",
        ),
        (
            {"factors": {"doctrine.china": {"range": [0, 1]}}},
            "factors.doctrine.china.range",
            "names",
        ),
        ({"factors": {"doctrine.mars": {"values": ["hawk"]}}}, "factors.doctrine.mars", "ROLE"),
        ({"set": {"doctrine.us": "owl"}}, "set.doctrine.us", "none"),
        ({"replications": 10_000, "design": {"kind": "lhs", "samples": 1000}}, "replications", ""),
    ],
)
def test_bad_specs_name_field_value_and_what_is_allowed(overrides, field, needle):
    with pytest.raises(InputError) as caught:
        plan_experiment(experiment_from_dict(spec(**overrides), "spec.toml"), "spec.toml")
    message = str(caught.value)
    assert message.startswith("spec.toml: ") and "\n" not in message
    assert caught.value.field.endswith(field) or field in caught.value.field, message
    assert needle in message


def test_bad_toml_files_are_refused_without_evaluation(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\x80\x81 not utf-8")
    with pytest.raises(InputError, match="UTF-8"):
        load_experiment(path)
    path.write_text("name = \n")
    with pytest.raises(InputError, match="TOML syntax"):
        load_experiment(path)
    with pytest.raises(InputError, match="readable file"):
        load_experiment(tmp_path / "missing.toml")


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
KEYS = st.sampled_from(
    [
        "us.enforcement",
        "us.kyc",
        "params.detection_base",
        "scenario",
        "scale",
        "bogus",
        "china.open_weights",
        "doctrine.china",
        "doctrine.mars",
    ]
)
FACTOR = st.dictionaries(
    st.sampled_from(["values", "range", "levels", "extra"]),
    st.one_of(SCALARS, st.lists(SCALARS, max_size=4)),
    max_size=3,
)
SPECS = st.fixed_dictionaries(
    {},
    optional={
        "name": SCALARS,
        "scenario": st.one_of(SCALARS, st.sampled_from(["porous", "current-policy"])),
        "scale": SCALARS,
        "horizon": st.one_of(SCALARS, st.sampled_from(["2024-03", "2026-13", "2030-12"])),
        "seed": SCALARS,
        "replications": st.one_of(SCALARS, st.integers(0, 5)),
        "seeds": st.one_of(SCALARS, st.sampled_from(["common", "independent"])),
        "set": st.dictionaries(KEYS, SCALARS, max_size=2),
        "factors": st.dictionaries(KEYS, FACTOR, max_size=3),
        "design": st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(["grid", "lhs", "sobol", "table", "x"]),
                "samples": st.one_of(SCALARS, st.integers(0, 9)),
                "second_order": SCALARS,
                "levels": SCALARS,
                "points": st.lists(st.dictionaries(KEYS, SCALARS, max_size=2), max_size=3),
            },
        ),
        "outputs": st.dictionaries(
            st.sampled_from(["metrics", "dates", "countries"]),
            st.one_of(SCALARS, st.lists(st.sampled_from(["lead_months", "2024-02", "x"]))),
        ),
    },
)


@given(SPECS)
def test_any_spec_is_planned_or_refused_with_one_input_error(data):
    try:
        plan = plan_experiment(experiment_from_dict(data, "fuzz.toml"), "fuzz.toml")
    except InputError as err:
        assert str(err).startswith("fuzz.toml") and "\n" not in str(err)
        return
    assert len(plan.runs) == len(plan.design) * plan.spec.replications
    assert plan.runs["seed"].between(0, 2**63 - 1).all()


@given(st.text(max_size=300))
def test_any_text_file_is_read_or_refused_cleanly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "spec.toml"
    path.write_text(text, encoding="utf-8")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        with pytest.raises(InputError):
            load_experiment(path)
        return
    with contextlib.suppress(InputError):
        load_experiment(path)


@given(st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2003\u3000", max_size=40))
def test_a_blank_spec_file_is_refused_in_one_line_naming_it(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("blank")
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["sweep", str(path), "--out", str(folder / "out"), "--workers", "1"])
    assert_clean_refusal(
        code, err, f"chipwar sweep: error: {path}: file = ", "at least one setting"
    )
    assert out == "" and not (folder / "out").exists()
