"""Sweeps and comparisons with ``uncertainty = "ensemble"``: replications draw calibrated members,
the spec's own settings win over the members', and the choice is validated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ensemble_helpers import fitted_parameters, write_ensemble
from sweep_helpers import HORIZON, tiny_plan

from chipwar.runs.cli.main import main
from chipwar.runs.core.executors import serial
from chipwar.runs.experiments import store
from chipwar.runs.experiments.compare import compare_plan
from chipwar.runs.experiments.spec import metric_column
from chipwar.runs.experiments.sweep import _tasks, run_sweep
from chipwar.world.ensemble import load_ensemble
from chipwar.world.errors import InputError

FIXED = fitted_parameters()[0]


@pytest.fixture
def ensemble_path(tmp_path: Path) -> Path:
    return write_ensemble(tmp_path / "members.parquet", members=10)


def _plan(folder: Path, ensemble_path: Path, **overrides):
    return tiny_plan(
        folder,
        uncertainty="ensemble",
        ensemble_file=ensemble_path.name,  # relative to the spec's folder
        replications=3,
        **overrides,
    )


def test_replications_draw_members_common_to_every_point(tmp_path, ensemble_path):
    plan = _plan(tmp_path, ensemble_path)
    runs = plan.runs
    drawn = [m.index for m in load_ensemble(ensemble_path).draw(3, 11)]
    assert list(runs["member"]) == drawn * len(plan.design)  # common: one draw per replication
    assert runs.groupby("replication")["member"].nunique().eq(1).all()
    for task in _tasks(plan, list(runs["run_id"])):
        member = load_ensemble(ensemble_path).member(task.member)
        for name, value in member.params.items():
            key = f"params.{name}"
            if key not in plan.factors:
                assert task.assignments[key] == value
        assert task.assignments["params.detection_base"] in (0.002, 0.02)  # the factor wins


def test_independent_seeds_draw_a_member_per_run(tmp_path, ensemble_path):
    plan = _plan(tmp_path, ensemble_path, seeds="independent")
    assert len(plan.runs) == 12
    assert plan.runs.groupby("replication")["member"].nunique().gt(1).any()


def test_set_parameters_win_over_the_members(tmp_path, ensemble_path):
    plan = _plan(tmp_path, ensemble_path, set={f"params.{FIXED}": 2_000_000.0})
    for task in _tasks(plan, list(plan.runs["run_id"])):
        assert f"params.{FIXED}" not in task.assignments
    assert all(s.params[FIXED] == 2_000_000.0 for s in plan.scenarios.values())


def test_an_ensemble_sweep_stores_members_and_its_runs_differ_by_member(tmp_path, ensemble_path):
    plan = _plan(tmp_path, ensemble_path, factors={"us.enforcement": {"values": [0.5]}})
    out = tmp_path / "out"
    report = run_sweep(plan, out, serial(), progress=False)
    assert (report.ran, report.failed) == (3, 0)
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns[:5]) == ["run_id", "point", "replication", "seed", "member"]
    assert runs[metric_column("compute_gap", HORIZON)].nunique() == runs["member"].nunique()
    manifest = store.read_manifest(out)
    assert manifest["ensemble"]["sha256"] == load_ensemble(ensemble_path).sha256
    seeds_only = tiny_plan(tmp_path / "seeds", factors={"us.enforcement": {"values": [0.5]}})
    assert seeds_only.fingerprint != plan.fingerprint and "ensemble" not in seeds_only.runs


def test_the_ensemble_file_is_part_of_the_sweeps_identity(tmp_path, ensemble_path):
    def plan():
        return tiny_plan(tmp_path, uncertainty="ensemble", ensemble_file=str(ensemble_path))

    first = plan()
    assert plan().fingerprint == first.fingerprint
    write_ensemble(ensemble_path, members=10, seed=1)  # another file at the same path
    assert plan().fingerprint != first.fingerprint


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (
            {"ensemble_file": "x.parquet"},
            "ensemble_file = 'x.parquet': only with uncertainty = \"ensemble\"",
        ),
        ({"uncertainty": "members"}, "uncertainty"),
        (
            {"uncertainty": "ensemble", "ensemble_file": "gone.parquet"},
            "chipwar calibrate --ensemble",
        ),
    ],
)
def test_bad_uncertainty_settings_are_refused_in_one_line(tmp_path, overrides, needle):
    with pytest.raises(InputError) as err:
        tiny_plan(tmp_path, **overrides)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_compare_with_an_ensemble_draws_members_for_every_scenario(tmp_path, ensemble_path):
    plan = compare_plan(
        ["porous", "current-policy"], 4, 2, ensemble=True, ensemble_file=ensemble_path
    )
    assert plan.spec.uncertainty == "ensemble" and plan.spec.replications == 4
    assert plan.runs.groupby("point")["member"].apply(list).apply(tuple).nunique() == 1


def test_compare_refuses_seeds_with_an_ensemble(tmp_path, capsys, ensemble_path):
    argv = ["compare", "porous", "current-policy", "--out", str(tmp_path / "c")]
    status = main([*argv, "--seeds", "3", "--ensemble", "3", "--ensemble-file", str(ensemble_path)])
    assert status == 2 and "only without --ensemble N" in capsys.readouterr().err
