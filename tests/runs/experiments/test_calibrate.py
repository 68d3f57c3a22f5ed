"""Calibration: scoring, writing fitted values into the data files, the report."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from reliability import run_cli

from chipwar.runs.core import atomic
from chipwar.runs.core.executors import open_executor, serial
from chipwar.runs.experiments import calibrate
from chipwar.runs.experiments.calibrate import (
    Evaluation,
    FitResult,
    evaluate,
    report,
    write_fitted_values,
)
from chipwar.world.errors import InputError
from chipwar.world.parameters import build_parameter_table, parameter_table
from chipwar.world.targets import load_targets


def test_score_is_zero_only_when_every_run_sits_on_every_central_value():
    targets = [t for t in load_targets() if t.use == "fit"]
    perfect = Evaluation({}, {t.name: [t.central, t.central] for t in targets})
    inside = Evaluation({}, {t.name: [t.lower, t.upper] for t in targets})
    outside = Evaluation({}, {t.name: [t.upper * 3 + 1, t.upper * 3 + 1] for t in targets})
    assert perfect.score(targets) == 0.0
    assert 0.0 < inside.score(targets) < outside.score(targets)


def test_fitted_values_are_written_whole_and_atomically_to_a_copy_of_fitted_toml(
    tmp_path, monkeypatch
):
    fitted_path = tmp_path / "fitted.toml"
    monkeypatch.setattr(calibrate, "fitted_file", lambda: fitted_path)
    names = calibrate.fit_parameter_names()
    table = parameter_table()
    fitted = {name: table[name].min for name in names}
    written: list[tuple[Path, str]] = []

    def spy(path: Path, text: str, **kw) -> None:  # every byte goes through the atomic writer
        written.append((path, text))
        atomic.write_text_atomic(path, text, **kw)

    monkeypatch.setattr(calibrate, "write_text_atomic", spy)
    write_fitted_values(FitResult(Evaluation(fitted, {}), 0.123, 7, []), seeds=[0, 1])
    parameter_table.cache_clear()  # the shipped files are untouched; drop the cached read
    text = fitted_path.read_text()
    assert written == [(fitted_path, text)]
    assert text.startswith("# ") and "chipwar calibrate" in text.splitlines()[1]
    record = tomllib.loads(text)
    assert record["values"] == fitted
    assert record["fit"]["score"] == 0.123 and record["fit"]["seeds"] == [0, 1]
    # parameters.toml keeps its comments, ranges and sources; the fitted values lie over it
    rows = tomllib.loads(calibrate.calibration_file().with_name("parameters.toml").read_text())
    overlaid = build_parameter_table(rows, record["values"])
    assert {name: overlaid[name].value for name in names} == fitted
    assert overlaid[names[0]].source == table[names[0]].source


def test_the_shipped_fit_gives_every_fitted_parameter_its_value():
    rows = tomllib.loads(calibrate.calibration_file().with_name("parameters.toml").read_text())
    assert all("value" not in rows[name] for name in calibrate.fit_parameter_names())
    assert set(calibrate.fit_parameter_names()) <= set(
        tomllib.loads(calibrate.fitted_file().read_text())["values"]
    )
    shipped = tomllib.loads(calibrate.fitted_file().read_text())["values"]
    with pytest.raises(InputError, match=re.escape("a value here or in fitted.toml")):
        build_parameter_table(rows, {})
    with pytest.raises(InputError, match=re.escape("fitted.toml: detection_base = 5.0")):
        build_parameter_table(rows, {**shipped, "detection_base": 5.0})


@pytest.mark.slow
def test_evaluate_measures_every_fit_target_on_each_seed():
    targets = [t for t in load_targets() if t.use == "fit"]
    result = evaluate({}, [0], serial(), targets, scale=1000, until="2028-12")
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


@pytest.mark.slow
def test_evaluate_gives_the_same_values_on_a_process_pool():
    targets = [t for t in load_targets() if t.use == "fit"]
    params = {"detection_base": 0.01}
    seeds = [0, 1]  # at least two tasks, so both workers get one
    alone = evaluate(params, seeds, serial(), targets, scale=1000, until=calibrate.FIT_UNTIL)
    with open_executor(workers=2) as info:
        pooled = evaluate(params, seeds, info, targets, scale=1000, until=calibrate.FIT_UNTIL)
    assert len({t.preset for t in targets}) * len(seeds) > 1
    assert pooled == alone and alone.values.keys() == {t.name for t in targets}


@pytest.mark.slow
def test_calibrate_check_writes_its_report_and_leaves_the_fit_alone(tmp_path):
    fitted = calibrate.fitted_file().read_bytes()
    argv = ["calibrate", "--check", "--seeds", "1", "--workers", "2", "--scale", "1000"]
    code, out, err = run_cli([*argv, "--report", str(tmp_path / "report")])
    assert code == 0, err
    text = (tmp_path / "report" / "report.md").read_text()
    assert text.startswith("# chipwar calibration check (1 seeds)")
    assert "## From porous to loopholes-closed, one lever family at a time" in text
    assert all(f"| {t.name} |" in text for t in load_targets())
    assert f"wrote {tmp_path / 'report' / 'report.md'}" in out
    assert calibrate.fitted_file().read_bytes() == fitted
