"""One run of one scenario: build the model, step it to the end, and write the run directory."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from chipwar.agents.buyer import Buyer
from chipwar.runs.core.atomic import DOCUMENT_MODE
from chipwar.world.calendar import parse_month
from chipwar.world.errors import InputError, OutputError
from chipwar.world.model import ChipWarModel
from chipwar.world.reporters import COUNTRY_COLUMNS, HEADLINE_METRICS, MODEL_COLUMNS
from chipwar.world.scenario import Scenario

SUMMARY_DATES = ("2028-12", "2030-12")
RUN_FILES = (
    "scenario.toml",
    "series.parquet",
    "countries.parquet",
    "events.jsonl",
    "summary.json",
    "meta.json",
)


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
    series = model_table(model)
    result = RunResult(
        scenario=model.spec,
        seed=seed,
        series=series,
        countries=country_table(model),
        events=model.events,
        summary=summarise(series, scenario.name, seed),
    )
    result.meta = {
        "chipwar_version": version("chipwar"),
        "seed": seed,
        "scenario": scenario.name,
        "start": scenario.start,
        "end": str(series["date"].iloc[-1]),
        "months": len(series),
        "scale": scenario.scale,
        "adopters": model.adoption.n_adopters,
        "adopter_bytes": model.adoption.nbytes(),
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
    return result


def model_table(model: ChipWarModel) -> pd.DataFrame:
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    return frame[list(MODEL_COLUMNS)]


def country_table(model: ChipWarModel) -> pd.DataFrame:
    frame = model.datacollector.get_agenttype_vars_dataframe(Buyer).reset_index(drop=True)
    return frame[list(COUNTRY_COLUMNS)]


def summarise(series: pd.DataFrame, name: str, seed: int) -> dict[str, Any]:
    """Headline metrics at 2028-12 and 2030-12 (those the run reached)."""
    summary: dict[str, Any] = {"scenario": name, "seed": seed}
    for date in SUMMARY_DATES:
        rows = series[series["date"] == date]
        if rows.empty:
            continue
        row = rows.iloc[0]
        summary[date] = {metric: _plain(row[metric]) for metric in HEADLINE_METRICS}
    return summary


def _plain(value: Any) -> Any:
    """A JSON-safe Python number (no numpy scalars, no NaN)."""
    if isinstance(value, np.integer | int):
        return int(value)
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


def prepare_out_dir(out: Path, needed: int = 0) -> Path:
    """Create (or reuse) the output folder and prove it is writable before any work is done.

    ``needed``: an estimate of the bytes the command will write; a disk without room for them
    is refused now rather than when the work is done (see runs/preflight.py).
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


def _write_all_atomic(out: Path, files: dict[str, bytes]) -> None:
    """Write every file under a temporary name first, then rename them all into place.

    A full disk (or any failed write) therefore leaves the folder exactly as it was, not a run
    directory with some files from this run and some from an earlier one.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            try:
                fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
                staged.append((tmp, out / name))
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, DOCUMENT_MODE)
            except OSError as err:
                raise OutputError(out / name, err) from None
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _path in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return buffer.getvalue()


def write_run_dir(result: RunResult, out: Path) -> Path:
    """Write the run directory of DESIGN.md §5; each file atomically."""
    out = prepare_out_dir(out)
    events = "".join(json.dumps(event, default=_plain) + "\n" for event in result.events)
    files = {
        "scenario.toml": result.scenario.to_toml().encode(),
        "series.parquet": _parquet_bytes(result.series),
        "countries.parquet": _parquet_bytes(result.countries),
        "events.jsonl": events.encode(),
        "summary.json": (json.dumps(result.summary, indent=2) + "\n").encode(),
        "meta.json": (json.dumps(result.meta, indent=2) + "\n").encode(),
    }
    _write_all_atomic(out, files)
    return out


def read_run_dir(path: Path) -> RunResult:
    """Load a run directory written by :func:`write_run_dir` (for comparisons and plots)."""
    from chipwar.world.scenario import scenario_from_dict
    from chipwar.world.validation import read_toml

    path = Path(path)
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise InputError(str(path), "run directory", missing[0], "a folder written by chipwar run")
    meta = json.loads((path / "meta.json").read_text())
    events = [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines() if line]
    data = read_toml(path / "scenario.toml")
    # The parameter values were valid when the run was made; a later recalibration may have moved
    # the documented ranges, which must not make old results unreadable. Keep them as recorded.
    meta["scenario_params"] = data.pop("params", {})
    return RunResult(
        scenario=scenario_from_dict(data, str(path / "scenario.toml")),
        seed=int(meta["seed"]),
        series=pd.read_parquet(path / "series.parquet"),
        countries=pd.read_parquet(path / "countries.parquet"),
        events=events,
        summary=json.loads((path / "summary.json").read_text()),
        meta=meta,
    )


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
