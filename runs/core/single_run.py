"""One run of one scenario: build the model, step it to the end, collect its tables.

Its folder is written and read by runs/core/run_folder.py.
"""

from __future__ import annotations

import platform
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from chipwar.runs.core.run_folder import SUMMARY_DATES, plain
from chipwar.world.calendar import parse_month
from chipwar.world.errors import InputError
from chipwar.world.reporters import HEADLINE_METRICS
from chipwar.world.scenario import Scenario

if TYPE_CHECKING:  # imported where a run is built: a process that only gathers results
    from chipwar.world.model import ChipWarModel  # (a pool's parent) never loads the model


@dataclass
class RunResult:
    """Everything a run produced, in memory."""

    scenario: Scenario
    seed: int
    series: pd.DataFrame
    countries: pd.DataFrame
    events: list[dict[str, Any]]
    summary: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


def run_scenario(
    scenario: Scenario, seed: int, until: str | None = None, progress: bool = False
) -> RunResult:
    """Run a scenario with a seed to its end (or ``until``) and collect its tables."""
    from chipwar.world.model import ChipWarModel

    started = time.perf_counter()
    model = ChipWarModel(scenario, rng=seed, until=until)
    built = time.perf_counter()
    total = model.end_month - model.start_month + 1
    with tqdm(
        total=total, desc=scenario.name, unit="month", disable=not progress, leave=False
    ) as bar:
        while model.running:
            model.step()
            bar.update()
    finished = time.perf_counter()
    result = collect_result(model, model.spec, seed, scenario.name)
    result.meta.update(
        {
            "adopter_bytes": model.observe().adopter_bytes,
            "timings_s": {
                "build": round(built - started, 3),
                "steps": round(finished - built, 3),
                "total": round(time.perf_counter() - started, 3),
            },
            "python": platform.python_version(),
            "mesa": version("mesa"),
            "numpy": np.__version__,
            "numba": version("numba"),
        }
    )
    return result


def collect_result(
    model: ChipWarModel,
    scenario: Scenario,
    seed: int,
    name: str,
    extra_meta: dict[str, Any] | None = None,
) -> RunResult:
    """The tables, events, summary and meta of a model stepped so far: the one assembly of a run
    result, for ``chipwar run`` and for a wargame session's export alike.

    ``scenario`` is the scenario that reproduces the run (a session's carries its moves as dated
    events) and ``name`` the name its summary and meta give; ``extra_meta`` follows the common
    fields.
    """
    series = model.series_table()
    result = RunResult(
        scenario=scenario,
        seed=seed,
        series=series,
        countries=model.country_table(),
        events=model.event_log(),
        summary=summarise(series, name, seed),
    )
    result.meta = {
        "chipwar_version": version("chipwar"),
        "seed": seed,
        "scenario": name,
        "start": scenario.start,
        "end": str(series["date"].iloc[-1]) if len(series) else None,
        "months": len(series),
        "scale": scenario.scale,
        "adopters": model.observe().adopters,
        **(extra_meta or {}),
    }
    return result


def summarise(series: pd.DataFrame, name: str, seed: int) -> dict[str, Any]:
    """Headline metrics at 2028-12 and 2030-12 (those the run reached)."""
    summary: dict[str, Any] = {"scenario": name, "seed": seed}
    for date in SUMMARY_DATES:
        rows = series[series["date"] == date]
        if rows.empty:
            continue
        row = rows.iloc[0]
        summary[date] = {metric: plain(row[metric]) for metric in HEADLINE_METRICS}
    return summary


def prepare_out_dir(out: Path, needed: int = 0) -> Path:
    """Create (or reuse) the output folder and prove it is writable before any work is done.

    ``needed``: an estimate of the bytes the command will write; a disk without room for them
    is refused now rather than when the work is done (see runs/core/preflight.py).
    """
    from chipwar.runs.core.preflight import check_output_folder

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", "out", str(out), "a directory path (this is a file)")
    check_output_folder(out, needed)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-", suffix=".tmp"):
            pass
    except OSError as err:
        raise InputError(
            "--out", "out", str(out), f"a writable directory ({err.strerror})"
        ) from err
    return out


def until_check(until: str | None, scenario: Scenario) -> None:
    """Refuse an --until outside the scenario's dates with a one-line error."""
    if until is None:
        return
    try:
        month = parse_month(until)
    except ValueError:
        raise InputError("--until", "until", until, "a month as YYYY-MM") from None
    if not parse_month(scenario.start) <= month <= parse_month(scenario.end):
        raise InputError(
            "--until", "until", until, f"a month between {scenario.start} and {scenario.end}"
        )
