"""Ensemble runs: ordered bands with width, the same bytes for a seed on any executor, a run
folder that reads back with its bands, and a representative member that reruns exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ensemble_helpers import fitted_parameters, write_ensemble
from helpers import small_scenario

from chipwar.runs.cli.main import main
from chipwar.runs.core import run_folder
from chipwar.runs.core.ensemble_run import EnsembleResult, run_ensemble
from chipwar.runs.core.executors import open_executor, serial
from chipwar.runs.core.run_folder import ENSEMBLE_FILES, RUN_FILES, metric_column
from chipwar.runs.core.single_run import run_scenario
from chipwar.world.ensemble import load_ensemble, weighted_quantiles
from chipwar.world.reporters import HEADLINE_METRICS
from chipwar.world.scenario import load_scenario

UNTIL = "2024-08"


@pytest.fixture(scope="module")
def ensemble_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ensemble(tmp_path_factory.mktemp("ens") / "ensemble.parquet", members=10)


@pytest.fixture(scope="module")
def result(ensemble_path: Path) -> EnsembleResult:
    ensemble = load_ensemble(ensemble_path)
    return run_ensemble(small_scenario(), ensemble, 6, 3, serial(), until=UNTIL)


def test_bands_are_ordered_and_have_width_when_members_differ(result: EnsembleResult) -> None:
    bands = result.bands
    assert set(bands["metric"]) == set(HEADLINE_METRICS)
    assert len(bands) == 8 * len(HEADLINE_METRICS)  # every month of 2024-01..2024-08
    assert (bands["p10"] <= bands["p50"]).all() and (bands["p50"] <= bands["p90"]).all()
    gap = bands[bands["metric"] == "compute_gap"]
    assert (gap["p90"] > gap["p10"]).all()  # members differ in their stocks from month one
    summary = result.summary_bands[UNTIL]  # no headline date reached: the last month
    assert summary["compute_gap"]["p10"] < summary["compute_gap"]["p90"]
    last = gap[gap["date"] == UNTIL].iloc[0]
    assert summary["compute_gap"]["p50"] == pytest.approx(last["p50"], rel=1e-6)


def test_the_members_table_has_parameters_and_metrics_in_sweep_columns(
    result: EnsembleResult,
) -> None:
    table = result.members
    assert list(table.columns[:4]) == ["draw", "member", "weight", "seed"]
    assert set(fitted_parameters()) <= set(table.columns)
    assert metric_column("compute_gap", UNTIL) in table.columns
    assert table["seed"].nunique() == len(table) == 6
    p10 = np.quantile(table[metric_column("compute_gap", UNTIL)], 0.1, method="inverted_cdf")
    assert result.summary_bands[UNTIL]["compute_gap"]["p10"] == pytest.approx(p10, rel=1e-6)


def test_the_representative_member_is_a_real_run_that_reruns_exactly(
    result: EnsembleResult, tmp_path: Path
) -> None:
    out = run_folder.write(
        result.representative, tmp_path / "run", members=result.members, bands=result.bands
    )
    folder = run_folder.read(out)
    rerun = run_scenario(load_scenario(out / "scenario.toml"), folder.meta["seed"], UNTIL)
    pd.testing.assert_frame_equal(rerun.series, folder.series)
    chosen = folder.meta["ensemble"]["representative"]
    table = result.members.set_index("draw")
    assert table.at[chosen["draw"], "member"] == chosen["member"]
    assert table.at[chosen["draw"], "seed"] == folder.meta["seed"]
    gap = folder.series.set_index("date").at[UNTIL, "compute_gap"]
    band = folder.summary["bands"][UNTIL]["compute_gap"]
    assert band["p10"] <= gap <= band["p90"]


def test_an_ensemble_folder_reads_back_and_a_plain_run_replaces_it_whole(
    result: EnsembleResult, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    run_folder.write(result.representative, out, members=result.members, bands=result.bands)
    assert sorted(p.name for p in out.iterdir()) == sorted((*RUN_FILES, *ENSEMBLE_FILES))
    back = run_folder.read(out)
    assert back.bands is not None and back.members is not None
    pd.testing.assert_frame_equal(back.bands, result.bands)
    assert back.summary["members"] == 6
    plain = run_scenario(small_scenario(), 1, "2024-02")
    run_folder.write(plain, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert run_folder.read(out).bands is None


def test_a_serial_and_a_pool_ensemble_run_write_the_same_bytes(
    ensemble_path: Path, tmp_path: Path
) -> None:
    ensemble = load_ensemble(ensemble_path)
    written = {}
    for label, workers in (("serial", 1), ("pool", 2)):
        with open_executor(workers) as info:
            got = run_ensemble(small_scenario(), ensemble, 5, 11, info, until="2024-04")
        out = run_folder.write(
            got.representative, tmp_path / label, members=got.members, bands=got.bands
        )
        written[label] = _folder_bytes(out)
    assert written["serial"] == written["pool"]


def _folder_bytes(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in (*RUN_FILES, *ENSEMBLE_FILES)}
    meta = json.loads(files["meta.json"])
    meta.pop("timings_s")
    files["meta.json"] = json.dumps(meta, sort_keys=True).encode()
    return files


def test_the_command_line_gives_the_same_bytes_for_the_same_seed(ensemble_path, tmp_path, capsys):
    argv = ["run", "--scenario", "porous", "--scale", "1000", "--until", "2024-06"]
    argv += ["--ensemble", "4", "--ensemble-file", str(ensemble_path), "--workers", "1"]
    outs = []
    for name, seed in (("a", "2"), ("b", "2"), ("c", "3")):
        outs.append(tmp_path / name)
        assert main([*argv, "--seed", seed, "--out", str(outs[-1])]) == 0
    first, again, other = (_folder_bytes(out) for out in outs)
    assert first == again
    assert first["ensemble.parquet"] != other["ensemble.parquet"]
    printed = capsys.readouterr().out
    assert "p10" in printed and "p90" in printed and "compute gap" in printed


def test_parameters_set_on_the_command_line_win_over_the_members(ensemble_path, tmp_path):
    name = fitted_parameters()[0]
    out = tmp_path / "run"
    argv = ["run", "--scenario", "porous", "--scale", "1000", "--until", "2024-03", "--out"]
    argv += [str(out), "--ensemble", "3", "--ensemble-file", str(ensemble_path), "--workers", "1"]
    value = load_scenario("porous").parameters()[name] * 1.01
    assert main([*argv, "--set", f"params.{name}={value}"]) == 0
    folder = run_folder.read(out)
    assert folder.params[name] == value
    assert folder.meta["ensemble"]["fixed_parameters"] == [name]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--ensemble", "3", "--ensemble-file", "missing.parquet"], "chipwar calibrate --ensemble"),
        (["--ensemble", "0"], "expected a whole number >= 1"),
        (["--workers", "2"], "--workers: workers = '2': only with --ensemble N"),
        (["--ensemble-file", "x.parquet"], "only with --ensemble N"),
    ],
)
def test_bad_ensemble_options_are_one_line_and_exit_2(tmp_path, capsys, extra, needle):
    argv = ["run", "--scenario", "porous", "--scale", "1000", "--out", str(tmp_path / "r")]
    try:
        status = main([*argv, *extra])
    except SystemExit as stop:  # argparse refuses a bad number itself
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and needle in err and err.count("\n") == 1, err


def test_every_member_once_gives_weighted_bands(ensemble_path: Path) -> None:
    ensemble = load_ensemble(ensemble_path)
    got = run_ensemble(small_scenario(), ensemble, "all", 0, serial(), until="2024-03")
    table = got.members
    assert list(table["member"]) == list(range(len(ensemble)))
    assert list(table["weight"]) == list(ensemble.members["weight"])
    column = metric_column("compute_gap", "2024-03")
    want = weighted_quantiles(table[column], table["weight"], [0.1, 0.5, 0.9])
    band = got.summary_bands["2024-03"]["compute_gap"]
    assert [band["p10"], band["p50"], band["p90"]] == pytest.approx(list(want), rel=1e-6)
    assert got.representative.meta["ensemble"]["draw"] == "every member once, weighted"


def test_the_process_that_gathers_member_runs_never_loads_the_model() -> None:
    """A pool's parent imports the runner, reads results and writes files: the model (mesa,
    numba) loads only in the workers, so it does not slow the start of an ensemble run."""
    code = (
        "import sys; import chipwar.runs.core.ensemble_run, chipwar.runs.core.single_run, "
        "chipwar.runs.core.run_folder; print('chipwar.world.model' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
