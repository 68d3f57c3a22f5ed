"""The calibrated ensemble: ABC-SMC on a toy problem with a known posterior, determinism, the
file contract of world/data/ensemble.parquet, and refusals of bad command lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from chipwar.runs.cli.main import main
from chipwar.runs.core.executors import serial
from chipwar.runs.experiments import abc, calibrate


def _toy(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first coordinate must land in [0.30, 0.35]; the second is not constrained."""
    x = unit[:, 0]
    miss = np.maximum(0.30 - x, 0.0) + np.maximum(x - 0.35, 0.0)
    misses = np.stack([miss, np.zeros_like(miss)], axis=1)
    return np.sqrt(np.mean(misses**2, axis=1)), misses


def test_abc_smc_concentrates_on_the_known_posterior():
    settings = abc.AbcSettings(members=200, draws=20_000, seed=3)
    result = abc.abc_smc(_toy, 2, settings)
    assert result.complete and result.tolerances[-1] == 0.0
    first, second = result.points[:, 0], result.points[:, 1]
    # posterior: uniform on [0.30, 0.35] x [0, 1]
    assert np.all((first >= 0.30) & (first <= 0.35))
    assert abs(np.average(first, weights=result.weights) - 0.325) < 0.01
    assert np.quantile(second, 0.1) < 0.25 and np.quantile(second, 0.9) > 0.75
    assert np.isclose(result.weights.sum(), 1.0) and np.all(result.weights > 0)
    assert result.draws <= settings.draws


def test_abc_smc_is_deterministic_and_seeded():
    settings = abc.AbcSettings(members=50, draws=2_000, seed=7)
    one, two = abc.abc_smc(_toy, 2, settings), abc.abc_smc(_toy, 2, settings)
    assert np.array_equal(one.points, two.points) and np.array_equal(one.weights, two.weights)
    other = abc.abc_smc(_toy, 2, abc.AbcSettings(members=50, draws=2_000, seed=8))
    assert not np.array_equal(one.points, other.points)


def test_abc_smc_stops_at_the_budget_with_the_last_complete_generation():
    result = abc.abc_smc(_toy, 2, abc.AbcSettings(members=50, draws=60, seed=1))
    assert not result.complete
    assert result.draws <= 60 and len(result.points) == 50


@pytest.mark.parametrize("budget", [50, 50 + 120])
def test_abc_smc_returns_a_population_when_the_budget_ends_on_a_generation(budget):
    # 50 prior draws, then one batch of 1.2 * 50 / 0.5 = 120 draws that all pass: either budget
    # runs out exactly where a generation would begin, which once crashed on an empty generation
    def accept_all(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(len(unit)), np.ones((len(unit), 1))  # never reaches tolerance 0

    result = abc.abc_smc(accept_all, 2, abc.AbcSettings(members=50, draws=budget, seed=1))
    assert result.draws == budget and len(result.points) == 50
    assert len(result.misses) == budget


def test_log_uniform_prior_only_for_ranges_spanning_orders_of_magnitude():
    by_name = {p.name: p for p in calibrate.priors()}
    assert by_name["detection_base"].log and not by_name["initial_stock_us"].log
    p = by_name["detection_base"]
    assert p.from_unit(0.0) == pytest.approx(p.low) and p.from_unit(1.0) == pytest.approx(p.high)
    assert p.from_unit(0.5) == pytest.approx(np.sqrt(p.low * p.high))


def check_contract(path: Path) -> dict:
    """The shared contract of an ensemble file (common notes): what a loader may rely on."""
    table = pq.read_table(path)
    frame = table.to_pandas()
    params = calibrate.fit_parameter_names()
    assert list(frame.columns) == ["member", "weight", *params, "distance"]
    assert str(frame["member"].dtype) == "int64"
    assert list(frame["member"]) == list(range(len(frame)))
    for column in ["weight", *params, "distance"]:
        assert str(frame[column].dtype) == "float64", column
    assert (frame["weight"] > 0).all() and frame["weight"].sum() == pytest.approx(1.0)
    for prior in calibrate.priors():
        values = frame[prior.name]
        assert values.between(prior.low, prior.high).all(), prior.name
    record = json.loads(table.schema.metadata[calibrate.ENSEMBLE_KEY])
    for field in (
        "method",
        "library",
        "settings",
        "draws",
        "accepted",
        "target_inside_share",
        "binding_targets",
        "date",
        "seeds",
        "scale",
    ):
        assert field in record, field
    assert record["accepted"] <= record["draws"]
    return record


@pytest.mark.slow
def test_fit_ensemble_same_seed_same_bytes_and_contract(tmp_path):
    settings = abc.AbcSettings(members=2, draws=4, seed=0)
    paths = []
    for k in range(2):
        table, record = calibrate.fit_ensemble(settings, [0], serial(), progress=False)
        path = tmp_path / f"e{k}.parquet"
        calibrate.write_ensemble(table, record, path)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    record = check_contract(paths[0])
    assert record["draws"] == 4 and record["scale"] == calibrate.FIT_SCALE


def test_the_committed_ensemble_keeps_the_contract():
    path = calibrate.ensemble_file()
    if not path.exists():
        pytest.skip("no ensemble committed yet")
    record = check_contract(path)
    members = pq.read_table(path).to_pandas()
    assert record["settings"]["members"] == len(members)
    # every member lies within the last generation's tolerance; a complete fit means every
    # member reproduces every fit target (distance 0)
    assert (members["distance"] <= record["tolerances"][-1]).all()
    if record["complete"]:
        assert record["tolerances"][-1] == 0.0 and (members["distance"] == 0.0).all()


@pytest.mark.parametrize(
    "argv",
    [
        ["--members", "1"],
        ["--members", "10", "--draws", "15"],
    ],
)
def test_bad_ensemble_arguments_are_refused_in_one_line(argv, tmp_path, capsys):
    out = tmp_path / "e.parquet"
    assert main(["calibrate", "--ensemble", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--" in err
    assert not out.exists()


def test_non_numbers_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["calibrate", "--ensemble", "--members", "lots"])
    assert caught.value.code == 2
    assert "lots" in capsys.readouterr().err


def test_draws_without_ensemble_are_refused(tmp_path, capsys):
    assert main(["calibrate", "--check", "--draws", "5", "--report", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
