"""Calibration: scoring, writing fitted values into the data files, the report."""

from __future__ import annotations

import shutil
import tomllib
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from chipwar.runs.experiments import calibrate
from chipwar.runs.experiments.calibrate import (
    Evaluation,
    FitResult,
    evaluate,
    report,
    write_fitted_values,
)
from chipwar.world.parameters import parameter_table
from chipwar.world.targets import load_targets


def test_score_is_zero_only_when_every_run_sits_on_every_central_value():
    targets = [t for t in load_targets() if t.use == "fit"]
    perfect = Evaluation({}, {t.name: [t.central, t.central] for t in targets})
    inside = Evaluation({}, {t.name: [t.lower, t.upper] for t in targets})
    outside = Evaluation({}, {t.name: [t.upper * 3 + 1, t.upper * 3 + 1] for t in targets})
    assert perfect.score(targets) == 0.0
    assert 0.0 < inside.score(targets) < outside.score(targets)


def test_fitted_values_are_written_into_copies_of_the_data_files(tmp_path, monkeypatch):
    params = tmp_path / "parameters.toml"
    record = tmp_path / "calibration.toml"
    shutil.copy(calibrate.parameters_file(), params)
    shutil.copy(calibrate.calibration_file(), record)
    monkeypatch.setattr(calibrate, "parameters_file", lambda: params)
    monkeypatch.setattr(calibrate, "calibration_file", lambda: record)
    names = calibrate.fit_parameter_names()
    table = parameter_table()
    fitted = {name: table[name].min for name in names}
    write_fitted_values(FitResult(Evaluation(fitted, {}), 0.123, 7, []), seeds=[0, 1])
    parameter_table.cache_clear()  # the shipped table is untouched; drop the cached read
    written = tomllib.loads(params.read_text())
    assert {name: written[name]["value"] for name in names} == fitted
    assert written[names[0]]["source"] == table[names[0]].source  # comments and sources kept
    last = tomllib.loads(record.read_text())["last_fit"]
    assert last["score"] == 0.123 and last["values"] == fitted and last["seeds"] == [0, 1]
    assert record.read_text().startswith("#")


@pytest.mark.slow
def test_evaluate_measures_every_fit_target_on_each_seed():
    targets = [t for t in load_targets() if t.use == "fit"]
    with ThreadPoolExecutor(max_workers=1) as executor:
        result = evaluate({}, [0], executor, targets, scale=1000, until="2028-12")
    assert set(result.values) == {t.name for t in targets}
    assert all(len(values) == 1 for values in result.values.values())


def test_report_has_a_row_and_a_chart_per_target(tmp_path):
    rows = []
    for target in load_targets():
        values = [target.lower, target.central, target.upper * 2]
        rows.append(
            {
                "target": target.name,
                "use": target.use,
                "preset": target.preset,
                "lower": target.lower,
                "upper": target.upper,
                "central": target.central,
                "inside_share": 2 / 3,
                "median": target.central,
                "p10": target.lower,
                "p90": target.upper * 2,
                "values": values,
                "description": target.description,
                "source": target.source,
            }
        )
    path = report(pd.DataFrame(rows), tmp_path, "test")
    text = path.read_text()
    for target in load_targets():
        assert f"| {target.name} |" in text
        assert (tmp_path / f"{target.name}.png").stat().st_size > 1000
    assert "FAIL" in text  # 2/3 inside is below the pass share
