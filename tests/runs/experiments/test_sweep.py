"""Sweeps: the store they write, failed runs, resume, and identical results on every executor."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from reliability import kill_tree, start_paused, tally
from sweep_helpers import (
    HORIZON,
    MONTHS,
    SCENARIO,
    horizon,
    store_files,
    tiny_plan,
    write_spec,
)

from chipwar.runs.cli.main import main
from chipwar.runs.core.executors import ExecutorInfo, SerialExecutor, chunk_size, open_executor
from chipwar.runs.experiments import store, sweep
from chipwar.runs.experiments.spec import metric_column
from chipwar.runs.experiments.sweep import run_sweep
from chipwar.world.errors import InputError
from chipwar.world.reporters import COUNTRY_COLUMNS, MODEL_COLUMNS

SERIAL = ExecutorInfo(SerialExecutor(), 1, "serial", None)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """One uninterrupted serial sweep of the tiny spec (4 points x 2 seeds), shared."""
    folder = tmp_path_factory.mktemp("finished")
    out = folder / "out"
    report = run_sweep(tiny_plan(folder), out, SERIAL, progress=False)
    assert (report.ran, report.failed, report.unfinished) == (8, 0, 0)
    return out


def test_store_holds_runs_table_and_partitioned_series(finished):
    runs = pd.read_parquet(finished / "runs.parquet")
    assert list(runs["run_id"]) == list(range(8)) and set(runs["status"]) == {"ok"}
    assert list(runs.columns[:6]) == [
        "run_id",
        "point",
        "replication",
        "seed",
        "us.enforcement",
        "params.detection_base",
    ]
    columns = {metric_column("lead_months", HORIZON), metric_column("compute_gap", HORIZON)}
    assert {*columns, "error"} <= set(runs.columns)
    assert runs.groupby("replication")["seed"].nunique().eq(1).all()  # common seeds
    # The same point and seed give the same result; different factor values do not.
    assert runs[metric_column("smuggled_h100e_cum", HORIZON)].nunique() > 2
    manifest = store.read_manifest(finished)
    assert manifest["runs"] == 8 and manifest["dates"] == [HORIZON]
    assert sorted(p.name for p in (finished / "series").iterdir()) == [
        f"point={i}" for i in range(4)
    ]
    countries = store.read_series(finished, table="countries")
    assert {"run_id", "point", *COUNTRY_COLUMNS} <= set(countries.columns)
    assert countries["run_id"].nunique() == 8 and countries["iso_a3"].nunique() > 150
    assert not list(finished.rglob("*.tmp"))


def test_series_are_readable_without_chipwar(finished):
    by_pandas = pd.read_parquet(finished / "series")
    assert len(by_pandas) == 8 * MONTHS and {"run_id", "point", *MODEL_COLUMNS} <= set(by_pandas)
    table = ds.dataset(finished / "series", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 8 * MONTHS
    duckdb = pytest.importorskip("duckdb")
    query = f"""
        SELECT r.point, avg(s.lead_months) AS lead
        FROM read_parquet('{finished}/series/*/*.parquet', hive_partitioning = true) s
        JOIN read_parquet('{finished}/runs.parquet') r USING (run_id)
        WHERE s.date = '{HORIZON}' GROUP BY r.point ORDER BY r.point
    """
    assert len(duckdb.sql(query).fetchall()) == 4


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    real = sweep.run_scenario
    plan = tiny_plan(tmp_path)
    doomed = int(plan.runs["seed"].iloc[1])

    def flaky(scenario, seed, until=None, progress=False):
        if seed == doomed and scenario.levers.us.enforcement == 0.9:
            raise FloatingPointError("overflow in the ledger\nsecond line")
        return real(scenario, seed, until, progress)

    monkeypatch.setattr(sweep, "run_scenario", flaky)
    report = run_sweep(plan, tmp_path / "out", SERIAL, progress=False)
    assert (report.ran, report.failed) == (8, 2)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2 and failed[metric_column("lead_months", HORIZON)].isna().all()
    assert failed["error"].str.startswith("FloatingPointError: overflow in the ledger").all()
    for run in failed.itertuples():
        assert not store.series_path(tmp_path / "out", run.point, run.run_id).exists()
    assert len(sweep.failures(tmp_path / "out")) == 2


def test_resume_runs_only_what_is_missing_and_matches(finished, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    for run_id in (2, 5, 6):  # as if killed before these rows were written
        (out / "rows" / store.run_file(run_id)).unlink()
    (out / "runs.parquet").unlink()
    (out / "series" / "point=1" / ".run-000002.parquet.abc.tmp").write_bytes(b"half")
    (out / "rows" / store.run_file(7)).write_bytes(b"PAR1 truncated")  # unreadable row file
    seen: list[int] = []
    plan = tiny_plan(tmp_path / "spec")
    report = run_sweep(
        plan,
        out,
        SERIAL,
        resume=True,
        progress=False,
        on_chunk=lambda o: seen.extend(r.run_id for r in o),
    )
    assert sorted(seen) == [2, 5, 6, 7] and report.done_before == 4
    assert store_files(out) == store_files(finished)


def test_a_finished_sweep_is_not_overwritten_and_resume_checks_the_spec(finished, tmp_path):
    plan = tiny_plan(tmp_path / "spec")
    with pytest.raises(InputError, match="add --resume"):
        run_sweep(plan, finished, SERIAL, progress=False)
    changed = tiny_plan(tmp_path / "other", replications=3)
    with pytest.raises(InputError, match="same spec"):
        run_sweep(changed, finished, SERIAL, resume=True, progress=False)
    with pytest.raises(InputError, match="a sweep to resume"):
        run_sweep(plan, tmp_path / "empty", SERIAL, resume=True, progress=False)
    again = run_sweep(plan, finished, SERIAL, resume=True, progress=False)
    assert again.ran == 0 and again.done_before == 8


def test_chunks_shrink_towards_the_end():
    assert chunk_size(200, 1) == 1
    assert chunk_size(200, 2) == 16 and chunk_size(40, 2) == 5 and chunk_size(3, 2) == 1


def test_serial_executor_keeps_errors_in_the_future_but_not_ctrl_c():
    executor = SerialExecutor()
    assert executor.submit(pow, 2, 5).result() == 32
    with pytest.raises(ZeroDivisionError):
        executor.submit(lambda: 1 / 0).result()

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        executor.submit(interrupted)


@pytest.mark.slow
def test_serial_pool_and_dask_give_the_same_bytes(finished, tmp_path):
    for name, options in [("pool", {"workers": 2}), ("dask", {"workers": 2, "dask": "local"})]:
        with open_executor(**options) as info:
            assert info.workers == 2 and info.threads == 1
            report = run_sweep(
                tiny_plan(tmp_path / name), tmp_path / name / "out", info, progress=False
            )
        assert report.ran == 8 and report.unfinished == 0, name
        assert store_files(tmp_path / name / "out") == store_files(finished), name
        tally(f"determinism: sweep serial vs {name}", "same bytes")


def _doctrine_plan(folder: Path):
    """The tiny world with players every month: doctrine.china x doctrine.us, one seed each."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny-players.toml").write_text(SCENARIO + "player_turn_months = 1\n")
    return tiny_plan(
        folder,
        scenario="tiny-players.toml",
        replications=1,
        factors={
            "doctrine.china": {"values": ["hawk", "dove", "none"]},
            "doctrine.us": {"values": ["hawk", "none"]},
        },
    )


@pytest.mark.slow
def test_a_doctrine_sweep_gives_the_same_bytes_serial_on_the_pool_and_on_dask(tmp_path):
    serial = tmp_path / "serial" / "out"
    assert run_sweep(_doctrine_plan(tmp_path / "serial"), serial, SERIAL, progress=False).ran == 6
    runs = pd.read_parquet(serial / "runs.parquet")
    assert list(runs["doctrine.china"]) == ["hawk", "hawk", "dove", "dove", "none", "none"]
    gap = metric_column("compute_gap", HORIZON)
    assert runs[gap].nunique() > 1  # the doctrines changed outcomes
    for name, options in [("pool", {"workers": 2}), ("dask", {"workers": 2, "dask": "local"})]:
        with open_executor(**options) as info:
            plan = _doctrine_plan(tmp_path / name)
            report = run_sweep(plan, tmp_path / name / "out", info, progress=False)
        assert report.ran == 6 and report.failed == 0, name
        assert store_files(tmp_path / name / "out") == store_files(serial), name
        tally(f"determinism: doctrine sweep serial vs {name}", "same bytes")


@pytest.mark.slow
def test_kill_9_part_way_then_resume_equals_an_uninterrupted_sweep(tmp_path, capsys):
    """A real SIGKILL of a sweep process after exactly 3 of its 12 runs, then --resume."""
    factors = {"params.detection_base": {"range": [0.001, 0.02], "levels": 12}}
    spec = write_spec(tmp_path, factors=factors, replications=1, horizon=horizon(8))
    out = tmp_path / "killed"
    argv = ["sweep", str(spec), "--out", str(out), "--workers", "1"]
    victim, where = start_paused(argv, "after-runs=3:pause", tmp_path / "paused")
    kill_tree(victim)
    assert victim.returncode == -signal.SIGKILL and where.endswith("after-runs=3\n")
    assert store.done_run_ids(out) == {0, 1, 2} and not (out / "runs.parquet").exists()

    assert main([*argv, "--resume"]) == 0
    assert "12 of 12 runs done (9 now" in capsys.readouterr().out
    reference = tmp_path / "reference"
    assert main(["sweep", str(spec), "--out", str(reference), "--workers", "1"]) == 0
    assert store_files(out) == store_files(reference)
    assert pq.read_metadata(out / "runs.parquet").num_rows == 12
