"""Analysis of a sweep: conditions, Sobol indices, PRIM boxes, fan charts and the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import tiny_plan

from chipwar.runs.core.executors import ExecutorInfo, SerialExecutor
from chipwar.runs.experiments.analyze import (
    analyze_sweep,
    load_sweep,
    parse_condition,
    sobol_indices,
)
from chipwar.runs.experiments.sweep import run_sweep
from chipwar.world.errors import InputError

SERIAL = ExecutorInfo(SerialExecutor(), 1, "serial", None)
METRICS = ["lead_months", "compute_gap"]
DATES = ["2028-12", "2030-12"]


def test_conditions_parse_with_optional_date():
    c = parse_condition("lead_months>=12", METRICS, DATES)
    assert (c.metric, c.date, c.op, c.threshold) == ("lead_months", "2028-12", ">=", 12.0)
    assert c.column == "lead_months_2028_12"
    c = parse_condition(" compute_gap@2030-12 < 2.5e0 ", METRICS, DATES)
    assert (c.date, c.op, c.threshold) == ("2030-12", "<", 2.5)


@pytest.mark.parametrize(
    "text, field",
    [
        ("lead_months=>12", "condition"),
        ("lead_months>=twelve", "condition"),
        ("import os>=1", "condition"),
        ("happiness>=1", "metric"),
        ("lead_months@2029-01>=12", "date"),
    ],
)
def test_bad_conditions_are_input_errors(text, field):
    with pytest.raises(InputError) as caught:
        parse_condition(text, METRICS, DATES)
    assert caught.value.field == field and caught.value.source == "--prim"


@pytest.fixture(scope="module")
def sobol_sweep(tmp_path_factory) -> Path:
    """A small Sobol design: a factor that moves the lead and one that cannot (stack promotion)."""
    folder = tmp_path_factory.mktemp("sobol")
    plan = tiny_plan(
        folder,
        replications=1,
        horizon="2024-04",
        design={"kind": "sobol", "samples": 4},
        factors={
            "us.anti_distillation": {"range": [0.0, 1.0]},
            "us.stack_promotion": {"range": [0.0, 1.0]},
        },
    )
    run_sweep(plan, folder / "out", SERIAL, progress=False)
    return folder / "out"


@pytest.mark.slow
def test_sobol_indices_rank_the_factor_that_matters(sobol_sweep):
    table = sobol_indices(load_sweep(sobol_sweep), "lead_months", "2024-04")
    assert list(table.columns) == ["factor", "S1", "S1_conf", "ST", "ST_conf"]
    by_factor = table.set_index("factor")
    assert table["factor"].iloc[0] == "us.anti_distillation"
    assert by_factor.loc["us.anti_distillation", "ST"] > 0.5
    assert abs(by_factor.loc["us.stack_promotion", "ST"]) < 1e-9


@pytest.mark.slow
def test_analyze_writes_report_with_sobol_prim_fans_and_heatmap(sobol_sweep, tmp_path):
    runs = pd.read_parquet(sobol_sweep / "runs.parquet")
    threshold = float(runs["lead_months_2024_04"].median())
    report = analyze_sweep(
        sobol_sweep,
        report_dir=tmp_path / "report",
        metrics=["lead_months"],
        sobol=True,
        prim=[f"lead_months>={threshold}"],
    )
    text = report.read_text()
    for needle in ("Sobol sensitivity indices", "Scenario discovery (PRIM)", "quasi-p"):
        assert needle in text
    assert "coverage" in text and "density" in text
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"fan_lead_months.png", "sobol_lead_months.png", "prim_0.png", "points.csv"} <= names
    assert any(n.startswith("heatmap_lead_months") for n in names)
    for name in names:
        if name.endswith(".png"):
            assert (tmp_path / "report" / name).stat().st_size > 5000, name
            assert f"({name})" in text, name


@pytest.mark.slow
def test_sobol_needs_a_sobol_design(tmp_path):
    plan = tiny_plan(tmp_path, replications=1, horizon="2024-02")
    run_sweep(plan, tmp_path / "out", SERIAL, progress=False)
    with pytest.raises(InputError, match="sobol"):
        sobol_indices(load_sweep(tmp_path / "out"), "lead_months", "2024-02")
    with pytest.raises(InputError, match="happiness"):
        analyze_sweep(tmp_path / "out", metrics=["happiness"])
    report = analyze_sweep(tmp_path / "out", prim=["lead_months>=1000"])
    assert "PRIM needs runs on both sides" in report.read_text()
