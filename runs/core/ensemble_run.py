"""An ensemble run: one scenario under many calibrated parameter sets, summarised as bands.

``chipwar run --ensemble N`` and ``chipwar demo`` run the scenario once per drawn member
(world/ensemble.py: the member's parameters, its own seed) through the one runner
(runs/core/executors.py), then summarise:

- the members table: one row per member run, its parameters and its headline metrics at the
  summary dates, in the sweeps' ``<metric>_<YYYY>_<MM>`` columns;
- bands: p10, p50 and p90 of every headline metric, per month and at the summary dates, over
  the member runs, weighted by each run's weight (equal for a draw, which already resampled the
  members by weight; the members' own weights for ``--ensemble all``);
- the representative member: the run nearest the medians of the compute gap (in logs) and the
  lead over every month, each measured in its p10-p90 width. Its scenario, series, country
  table and events are the run folder's usual files, so a replay shows a real run inside the
  bands and ``chipwar run --scenario DIR/scenario.toml --seed SEED`` (its seed in meta.json)
  gives its series again.

Nothing here depends on the executor, so serial, pool and Dask runs write the same bytes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chipwar.runs.core.executors import ExecutorInfo, Progress, run_all
from chipwar.runs.core.run_folder import BAND_QUANTILES, metric_column, plain, summary_dates
from chipwar.world.ensemble import Ensemble, Member, apply_member, member_seed, weighted_quantiles
from chipwar.world.reporters import HEADLINE_METRICS
from chipwar.world.scenario import DATA_START, Scenario

if TYPE_CHECKING:  # the model is imported where members run (a pool's workers), not here
    from chipwar.runs.core.single_run import RunResult

ALL = "all"  # --ensemble all: every member once, with its weight
#: What picks the representative member: the metric, and whether it is compared in logs.
REPRESENTATIVE_METRICS = (("compute_gap", True), ("lead_months", False))


@dataclass(frozen=True)
class MemberTask:
    """One member run as a worker sees it (small to send)."""

    draw: int  # position in the draw
    member: Member
    seed: int
    weight: float  # the run's weight in the bands


@dataclass(frozen=True)
class EnsembleJob:
    """What every member run shares."""

    scenario: Scenario
    until: str | None
    keep: frozenset[str]  # parameters fixed by the user, not taken from members


@dataclass
class EnsembleResult:
    """An ensemble run's outcome: the member table, the bands and the representative run."""

    members: pd.DataFrame  # one row per member run (ensemble.parquet)
    bands: pd.DataFrame  # date, metric, p10, p50, p90 (bands.parquet)
    summary_bands: dict[str, dict[str, dict[str, float | None]]]  # summary.json "bands"
    representative: RunResult  # with "bands" in its summary and the ensemble in its meta
    seconds: float


def member_tasks(ensemble: Ensemble, count: int | str, seed: int) -> tuple[list[MemberTask], str]:
    """The runs of ``count`` draws (or ``"all"`` members) and the scheme's name for meta.json."""
    if count == ALL:
        members, scheme = ensemble.every_member(), "every member once, weighted"
        weights = [m.weight for m in members]
    else:
        assert isinstance(count, int)
        members, scheme = ensemble.draw(count, seed), "systematic resampling by weight"
        weights = [1.0] * len(members)
    tasks = [
        MemberTask(k, member, member_seed(seed, k), weight)
        for k, (member, weight) in enumerate(zip(members, weights, strict=True))
    ]
    return tasks, scheme


def run_member(job: EnsembleJob, task: MemberTask) -> RunResult:
    """Worker side: the scenario with the member's parameters, run with the member's seed."""
    from chipwar.runs.core.single_run import run_scenario

    scenario = apply_member(job.scenario, task.member, keep=job.keep)
    return run_scenario(scenario, task.seed, job.until)


def warm_worker() -> None:
    """A pool worker's start (``open_executor(warm=...)``): import the model and load its numba
    kernels with one month of the smallest field, before the first member arrives."""
    from chipwar.world.model import ChipWarModel
    from chipwar.world.scenario import MIN_SCALE

    tiny = Scenario(history=False, scale=MIN_SCALE, branch=DATA_START)
    ChipWarModel(tiny, rng=0, until=DATA_START).step()


def run_ensemble(
    scenario: Scenario,
    ensemble: Ensemble,
    count: int | str,
    seed: int,
    info: ExecutorInfo,
    *,
    until: str | None = None,
    keep: Collection[str] = (),
    progress: bool | None = False,
) -> EnsembleResult:
    """Run ``count`` drawn members (or ``"all"``) of ``scenario`` on ``info``'s executor."""
    started = time.perf_counter()
    tasks, scheme = member_tasks(ensemble, count, seed)
    job = EnsembleJob(scenario, until, frozenset(keep))
    bar = Progress(scenario.name, "member", show=progress, leave=False)
    results = run_all(partial(run_member, job), tasks, info, bar)
    weights = np.array([t.weight for t in tasks])
    series = [r.series for r in results]
    dates = summary_dates(str(series[0]["date"].iloc[-1]))
    bands = band_table(series, weights)
    summary_bands = bands_at(bands, dates)
    chosen = representative(series, weights)
    table = members_table(tasks, results, ensemble.parameters, dates)
    result = results[chosen]
    result.summary["members"] = len(tasks)
    result.summary["bands"] = summary_bands
    result.meta["ensemble"] = {
        "file": str(ensemble.path),
        "sha256": ensemble.sha256,
        "members_in_file": len(ensemble),
        "runs": len(tasks),
        "distinct_members": len({t.member.index for t in tasks}),
        "draw": scheme,
        "master_seed": seed,
        "representative": {"draw": chosen, "member": tasks[chosen].member.index},
        "fixed_parameters": sorted(keep),
        "quantiles": "weighted inverted CDF (world/ensemble.py weighted_quantiles)",
    }
    result.meta["timings_s"] = {"ensemble": round(time.perf_counter() - started, 3)}
    return EnsembleResult(table, bands, summary_bands, result, time.perf_counter() - started)


def band_table(series: Sequence[pd.DataFrame], weights: np.ndarray) -> pd.DataFrame:
    """p10, p50, p90 of each headline metric per month over the runs (all end the same month)."""
    months = series[0]["date"].to_numpy()
    rows: list[dict[str, Any]] = []
    for metric in HEADLINE_METRICS:
        values = np.stack([s[metric].to_numpy(dtype=float) for s in series], axis=1)
        for i, date in enumerate(months):
            q = weighted_quantiles(values[i], weights, list(BAND_QUANTILES.values()))
            band = dict(zip(BAND_QUANTILES, q, strict=True))
            rows.append({"date": str(date), "metric": metric, **band})
    frame = pd.DataFrame(rows, columns=["date", "metric", *BAND_QUANTILES])
    return frame.astype({name: "float64" for name in BAND_QUANTILES})


def bands_at(bands: pd.DataFrame, dates: Sequence[str]) -> dict[str, dict[str, Any]]:
    """summary.json's ``"bands"``: ``{date: {metric: {"p10", "p50", "p90"}}}``."""
    out: dict[str, dict[str, Any]] = {}
    for date in dates:
        at = bands[bands["date"] == date].set_index("metric")
        out[date] = {
            metric: {name: plain(at.at[metric, name]) for name in BAND_QUANTILES}
            for metric in HEADLINE_METRICS
            if metric in at.index
        }
    return out


def representative(series: Sequence[pd.DataFrame], weights: np.ndarray) -> int:
    """The run nearest the weighted medians of the gap (in logs) and the lead over every month,
    each month's distance in units of that month's p10-p90 width: the mean over months of both.
    A run near the medians all along, not only at one date, so a replay's line stays inside its
    band. The first of equals."""
    distance = np.zeros(len(series))
    for metric, log in REPRESENTATIVE_METRICS:
        values = np.stack([s[metric].to_numpy(dtype=float) for s in series], axis=1)
        if log:
            values = np.log(np.where(values > 0, values, np.nan))
        for month in values:
            low, mid, high = weighted_quantiles(month, weights, list(BAND_QUANTILES.values()))
            if not math.isfinite(mid):
                continue
            width = high - low if math.isfinite(high - low) and high > low else 1.0
            gap = np.abs(month - mid) / width
            distance += np.where(np.isfinite(gap), gap, np.inf) / len(values)
    return int(np.argmin(distance))


def _at(series: pd.DataFrame, date: str, metric: str) -> float:
    hit = series[series["date"] == date]
    return float(hit.iloc[0][metric]) if not hit.empty else math.nan


def members_table(
    tasks: Sequence[MemberTask],
    results: Sequence[RunResult],
    parameters: Sequence[str],
    dates: Sequence[str],
) -> pd.DataFrame:
    """ensemble.parquet: per member run its draw, member, weight, seed, parameters and metrics."""
    rows = []
    for task, result in zip(tasks, results, strict=True):
        row: dict[str, Any] = {
            "draw": task.draw,
            "member": task.member.index,
            "weight": task.weight,
            "seed": task.seed,
        }
        row.update({name: task.member.params[name] for name in parameters})
        for date in dates:
            for metric in HEADLINE_METRICS:
                row[metric_column(metric, date)] = _at(result.series, date, metric)
        rows.append(row)
    frame = pd.DataFrame(rows)
    types = {name: "float64" for name in frame.columns}
    types.update({"draw": "int64", "member": "int64", "seed": "int64"})
    return frame.astype(types)
