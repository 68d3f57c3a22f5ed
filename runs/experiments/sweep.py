"""`chipwar sweep`: run every run of an experiment on any executor, into a resumable store.

The runner (runs/core/executors.py) hands workers chunks of runs; each worker runs its chunk,
writes each run's files itself (series first, its row last) and returns only small outcomes. A
run that raises is recorded as failed with its error text and the sweep goes on. Because a
run's row file is written last and atomically, the set of row files is exactly the set of
finished runs: ``--resume`` runs the others, and since every run is fully determined by its
scenario and seed, the resumed store equals an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from chipwar.runs.core import faults
from chipwar.runs.core.executors import ExecutorInfo, Progress, run_many
from chipwar.runs.core.single_run import run_scenario
from chipwar.runs.experiments import store
from chipwar.runs.experiments.spec import (
    Plan,
    is_categorical,
    member_assignments,
    metric_column,
    point_assignments,
)
from chipwar.world.errors import OutputError
from chipwar.world.scenario import Scenario, with_overrides

ERROR_CHARS = 2000


@dataclass(frozen=True)
class RunTask:
    """One run as a worker sees it."""

    run_id: int
    point: int
    replication: int
    seed: int
    label: str  # base scenario
    assignments: dict[str, float | str]  # the member's parameters, then the point's factors
    factors: dict[str, Any]  # for the runs table, as in the design
    member: int | None = None  # the ensemble member drawn (uncertainty = "ensemble")


@dataclass(frozen=True)
class SweepJob:
    """Everything a worker needs to run and store any run of the sweep (small to send)."""

    out: str
    scenarios: dict[str, Scenario]
    horizon: str
    dates: tuple[str, ...]
    metrics: tuple[str, ...]
    countries: bool
    schema: Any  # pyarrow Schema of the runs table


@dataclass(frozen=True)
class Outcome:
    run_id: int
    ok: bool
    error: str = ""


def execute_run(job: SweepJob, task: RunTask) -> Outcome:
    """Run one task; write its series (and countries) and then its row, each atomically."""
    out = Path(job.out)
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        **task.factors,
    }
    if task.member is not None:
        row["member"] = task.member
    try:
        scenario = with_overrides(
            job.scenarios[task.label], task.assignments, source=f"point {task.point}"
        )
        result = run_scenario(scenario, task.seed, until=job.horizon)
        series = result.series
        for date in job.dates:
            hit = series[series["date"] == date]
            for metric in job.metrics:
                value = float(hit.iloc[0][metric]) if not hit.empty else None
                row[metric_column(metric, date)] = value
    except Exception as err:  # the run failed: record it, keep the sweep going
        text = f"{type(err).__name__}: {err}"
        row.update(status=store.STATUS_FAILED, error=text[:ERROR_CHARS])
        store.write_table_atomic(store.row_path(out, task.run_id), store.row_table(job.schema, row))
        return Outcome(task.run_id, False, text.splitlines()[0][:200] if text else "")
    store.write_table_atomic(
        store.series_path(out, task.point, task.run_id), store.frame_table(series, task.run_id)
    )
    if job.countries:
        store.write_table_atomic(
            store.series_path(out, task.point, task.run_id, "countries"),
            store.frame_table(result.countries, task.run_id),
        )
    row.update(status=store.STATUS_OK, error="")
    store.write_table_atomic(store.row_path(out, task.run_id), store.row_table(job.schema, row))
    return Outcome(task.run_id, True)


@dataclass
class SweepReport:
    """What a sweep session did."""

    total: int
    done_before: int
    ran: int = 0
    failed: int = 0
    unfinished: int = 0
    seconds: float = 0.0
    executor: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def runs_per_minute(self) -> float:
        return 60.0 * self.ran / self.seconds if self.seconds > 0 else math.nan


def _tasks(plan: Plan, run_ids: list[int]) -> list[RunTask]:
    by_point = {}
    for point in range(len(plan.design)):
        label, assignments = point_assignments(plan, point)
        factors = {}
        for name in plan.factors:
            value = plan.design.at[point, name]
            factors[name] = str(value) if is_categorical(name) else value.item()
        by_point[point] = (label, assignments, factors)
    runs = plan.runs.set_index("run_id")
    tasks = []
    for run_id in run_ids:
        row = runs.loc[run_id]
        label, assignments, factors = by_point[int(row["point"])]
        member = int(row["member"]) if plan.ensemble is not None else None
        if member is not None:
            assignments = {**member_assignments(plan, member), **assignments}
        tasks.append(
            RunTask(
                run_id=int(run_id),
                point=int(row["point"]),
                replication=int(row["replication"]),
                seed=int(row["seed"]),
                label=label,
                assignments=assignments,
                factors=factors,
                member=member,
            )
        )
    return tasks


def run_sweep(
    plan: Plan,
    out: Path,
    info: ExecutorInfo,
    resume: bool = False,
    progress: bool | None = None,
    on_chunk: Callable[[list[Outcome]], None] | None = None,
) -> SweepReport:
    """Run what is missing from ``out`` on the given executor; consolidate ``runs.parquet``."""
    out = Path(out)
    started = time.perf_counter()
    done = store.open_store(out, plan, resume)
    schema = store.runs_schema(plan)
    todo = [int(r) for r in plan.runs["run_id"] if int(r) not in done]
    report = SweepReport(total=len(plan.runs), done_before=len(done), executor=info.label)
    job = SweepJob(
        out=str(out.resolve()),
        scenarios=plan.scenarios,
        horizon=plan.horizon,
        dates=tuple(plan.dates),
        metrics=tuple(plan.spec.outputs.metrics),
        countries=plan.spec.outputs.countries,
        schema=schema,
    )
    bar = Progress(
        plan.spec.name, "run", show=progress, total=report.total, initial=report.done_before
    )
    runner = run_many(partial(execute_run, job), _tasks(plan, todo), info, bar)
    storage_error: OutputError | None = None
    faults.reached("after-runs", 0)  # tests stop here at will (runs/core/faults.py)
    try:
        for batch in runner:
            if batch.error is not None:  # a worker died or could not store: redo on --resume
                err = batch.error
                report.unfinished += len(batch.tasks)
                report.errors.append(f"{type(err).__name__}: {err}")
                if isinstance(err, OutputError) and storage_error is None:
                    # A full disk fails every run after it: stop handing out work.
                    storage_error = err
                    report.unfinished += runner.stop()
                continue
            outcomes = batch.results or []
            report.ran += len(outcomes)
            report.failed += sum(not o.ok for o in outcomes)
            runner.bar.set_postfix(failed=report.failed, refresh=False)
            if on_chunk:
                on_chunk(outcomes)
            faults.reached("after-runs", report.ran)
    finally:
        runner.close()  # on Ctrl-C too: what has not started is cancelled
        report.seconds = time.perf_counter() - started
        try:
            store.consolidate(out, schema)
            store.append_session(
                out,
                {
                    "executor": info.label,
                    "workers": info.workers,
                    "runs_before": report.done_before,
                    "ran": report.ran,
                    "failed": report.failed,
                    "unfinished": report.unfinished,
                    "seconds": round(report.seconds, 3),
                },
            )
        except OutputError:
            if storage_error is None:
                raise  # else the first failed write is the one to report
    if storage_error is not None:  # finished runs are kept; --resume continues after space is freed
        raise storage_error
    return report


def failures(out: Path) -> pd.DataFrame:
    """Failed runs with their error text."""
    runs = store.read_runs(out)
    return runs[runs["status"] == store.STATUS_FAILED][["run_id", "point", "seed", "error"]]
