"""The run folder: the one list of its files, its one writer and its one reader.

A run folder (``chipwar run``, ``chipwar demo``, ``chipwar wargame export``) holds::

    scenario.toml      the fully resolved scenario (every lever and parameter written out)
    series.parquet     one row per month: the model-level metrics (world/reporters.py)
    countries.parquet  one row per country and month
    events.jsonl       one JSON object per event (policy changes, busts, stack flips, ...)
    summary.json       the headline metrics at :data:`SUMMARY_DATES` (those the run reached)
    meta.json          seed, dates, scale, timings and library versions

An ensemble run (``chipwar run --ensemble N``, ``chipwar demo``) writes the same files for its
representative member (runs/core/ensemble_run.py), a ``"bands"`` object in summary.json, and
:data:`ENSEMBLE_FILES`::

    ensemble.parquet   one row per member run: draw, member, weight, seed, the member's
                       parameters and its headline metrics at the summary dates
                       (``<metric>_<YYYY>_<MM>``, as in sweeps)
    bands.parquet      one row per month and headline metric: p10, p50, p90 over the members

:func:`write` writes them all or none (runs/core/atomic.py). :func:`read` gives them back as a
:class:`RunFolder`, with one-line InputErrors for anything that is not a folder chipwar wrote;
the scenario is kept as recorded, not revalidated, so a folder stays readable after the model's
documented parameter ranges move (:meth:`RunFolder.scenario` validates it when asked).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chipwar.runs.core.atomic import write_files_atomic
from chipwar.world.calendar import parse_month
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.core.single_run import RunResult
    from chipwar.world.scenario import Scenario

#: Every file of a run folder, in the order they are written.
RUN_FILES = (
    "scenario.toml",
    "series.parquet",
    "countries.parquet",
    "events.jsonl",
    "summary.json",
    "meta.json",
)
#: The files an ensemble run adds, in the order they are written (after RUN_FILES).
ENSEMBLE_FILES = ("ensemble.parquet", "bands.parquet")
#: The headline dates: summary.json, the run tables, the sweeps' default output dates.
SUMMARY_DATES = ("2028-12", "2030-12")
#: The quantiles of a band, by their key in summary.json and column in bands.parquet.
BAND_QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
WRITTEN_BY = "a run directory written by chipwar run or chipwar demo"


@dataclass(frozen=True)
class RunFolder:
    """A run folder read back: its tables, events, summary, metadata and scenario as written."""

    path: Path
    scenario_text: str  # scenario.toml as written
    scenario_data: dict[str, Any]  # the same, parsed but not validated
    series: pd.DataFrame
    countries: pd.DataFrame
    events: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    bands: pd.DataFrame | None = None  # bands.parquet of an ensemble run, else None
    members: pd.DataFrame | None = None  # ensemble.parquet of an ensemble run, else None

    @property
    def name(self) -> str:
        """The scenario's name (the folder's name if neither file records one)."""
        return str(self.scenario_data.get("name") or self.meta.get("scenario") or self.path.name)

    @property
    def params(self) -> dict[str, Any]:
        """The parameter values the run used, as recorded (never revalidated)."""
        params = self.scenario_data.get("params", {})
        return dict(params) if isinstance(params, dict) else {}

    @property
    def branch(self) -> str | None:
        """The month the scenario's levers took over, or None (no history phase)."""
        return branch_of(self.scenario_data)

    def scenario(self) -> Scenario:
        """The scenario validated against today's schema, except its parameters (see ``params``):
        a later recalibration may have moved their documented ranges."""
        from chipwar.world.scenario import scenario_from_dict

        data = {k: v for k, v in self.scenario_data.items() if k != "params"}
        return scenario_from_dict(data, str(self.path / "scenario.toml"))


def branch_of(scenario: dict[str, Any]) -> str | None:
    """The branch month of a recorded (parsed, unvalidated) scenario, if it has a history phase
    before it; None otherwise or if the field is not a month."""
    branch = scenario.get("branch")
    if not isinstance(branch, str) or not scenario.get("history", True):
        return None
    try:
        parse_month(branch)
    except ValueError:
        return None
    return branch


def summary_dates(last: str) -> list[str]:
    """The summary dates a run ending in ``last`` reached, or ``[last]`` if it reached none."""
    return [d for d in SUMMARY_DATES if d <= last] or [last]


def metric_column(metric: str, date: str) -> str:
    """The column of a metric at a date in run and ensemble tables: ``lead_months_2028_12``."""
    return f"{metric}_{date.replace('-', '_')}"


# --- writing ------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A JSON-safe Python number (no numpy scalars, no NaN: None)."""
    if isinstance(value, np.integer | int):
        return int(value)
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A table as the Parquet bytes of a run folder (zstd, no index)."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return buffer.getvalue()


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def events_bytes(events: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(event, default=plain) + "\n" for event in events).encode()


def write(
    result: RunResult,
    out: Path,
    *,
    members: pd.DataFrame | None = None,
    bands: pd.DataFrame | None = None,
) -> Path:
    """Write a run's folder: every file of :data:`RUN_FILES`, all or none.

    An ensemble run passes its ``members`` and ``bands`` tables too (then :data:`ENSEMBLE_FILES`
    are written as well, in the same all-or-none step). The folder is created (or reused) and
    checked first (runs/core/single_run.py ``prepare_out_dir``); files of an earlier run in it
    are replaced only if all new ones were written, and an earlier ensemble run's extra files
    are removed when a plain run replaces it.
    """
    from chipwar.runs.core.single_run import prepare_out_dir

    out = prepare_out_dir(out)
    files = {
        "scenario.toml": result.scenario.to_toml().encode(),
        "series.parquet": parquet_bytes(result.series),
        "countries.parquet": parquet_bytes(result.countries),
        "events.jsonl": events_bytes(result.events),
        "summary.json": json_bytes(result.summary),
        "meta.json": json_bytes(result.meta),
    }
    assert tuple(files) == RUN_FILES
    if (members is None) != (bands is None):
        raise ValueError("an ensemble run writes both its members and its bands")
    if members is not None and bands is not None:
        files["ensemble.parquet"] = parquet_bytes(members)
        files["bands.parquet"] = parquet_bytes(bands)
    write_files_atomic(out, files)
    if members is None:  # a plain run in a folder an ensemble run wrote before
        for name in ENSEMBLE_FILES:
            (out / name).unlink(missing_ok=True)
    return out


# --- reading ------------------------------------------------------------------------------------
def _bad_file(path: Path, what: str, err: Exception | str) -> InputError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return InputError(str(path), "file", path.name, f"{what} ({reason[:120]})")


def read(path: str | Path, *, optional: Collection[str] = ()) -> RunFolder:
    """Read a run folder; InputError (one line, naming the file) if it is not one chipwar wrote.

    ``optional``: files of :data:`RUN_FILES` that may be missing (their fields stay empty); a
    replay, say, does not need ``summary.json``. :data:`ENSEMBLE_FILES` are read when present
    (an ensemble run's folder) and are None otherwise.
    """
    from chipwar.world.validation import read_toml

    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "DIR", str(path), f"an existing folder: {WRITTEN_BY}")
    if not path.is_dir():
        raise InputError(str(path), "DIR", str(path), f"a folder, not a file: {WRITTEN_BY}")
    unknown = set(optional) - set(RUN_FILES)
    if unknown:
        raise ValueError(f"not files of a run folder: {sorted(unknown)}")
    present = {name for name in RUN_FILES if (path / name).is_file()}
    missing = [name for name in RUN_FILES if name not in present and name not in optional]
    if missing:
        raise InputError(str(path), "run directory", f"no {missing[0]}", WRITTEN_BY)

    scenario_path = path / "scenario.toml"
    scenario_data = read_toml(scenario_path)
    return RunFolder(
        path=path,
        scenario_text=scenario_path.read_text(encoding="utf-8"),
        scenario_data=scenario_data,
        series=_read_parquet(path / "series.parquet"),
        countries=_read_parquet(path / "countries.parquet"),
        events=_read_events(path / "events.jsonl"),
        summary=_read_object(path / "summary.json") if "summary.json" in present else {},
        meta=_read_object(path / "meta.json") if "meta.json" in present else {},
        bands=_read_bands(path / "bands.parquet"),
        members=_read_parquet(path / "ensemble.parquet")
        if (path / "ensemble.parquet").is_file()
        else None,
    )


BANDS_COLUMNS = ("date", "metric", *BAND_QUANTILES)


def _read_bands(path: Path) -> pd.DataFrame | None:
    """bands.parquet if the folder has one (checked: its columns, dates as YYYY-MM), else None."""
    if not path.is_file():
        return None
    bands = _read_parquet(path)
    for name in BANDS_COLUMNS:
        if name not in bands.columns:
            raise InputError(str(path), "columns", name, "a column written by chipwar run")
    for date in bands["date"].unique():
        try:
            parse_month(str(date))
        except ValueError:
            raise InputError(str(path), "date", date, "YYYY-MM") from None
    return bands


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:  # UnicodeDecodeError and JSONDecodeError included
        raise _bad_file(path, "a JSON object written by chipwar run", err) from None
    return data


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises its own types for junk files
        raise _bad_file(path, "a Parquet table written by chipwar run", err) from None


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise _bad_file(path, "UTF-8 JSON lines", err) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("date"), str):
            raise InputError(
                f"{path} line {number}", "event", line, "a JSON object with a 'date' (YYYY-MM)"
            )
        try:
            parse_month(event["date"])
        except ValueError:
            raise InputError(f"{path} line {number}", "date", event["date"], "YYYY-MM") from None
        events.append(event)
    return events
