"""What the frames need from a run, computed from its tables once they have been read.

Reading a run folder is not done here: the command line reads it (runs/core/run_folder.py, with
its one-line errors) and hands over the tables. :func:`read_track` arranges them month by
country, so that drawing a frame is indexing, and checks the columns a replay uses, so that an
old or foreign folder is refused in one line rather than deep inside matplotlib. The scenario
is read as recorded, not validated, so an old run still replays after the model's parameter
ranges change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from chipwar.world.calendar import format_month, parse_month
from chipwar.world.countries import CountryTable
from chipwar.world.errors import InputError
from chipwar.world.stacks import STACK_BY_NAME

SERIES_COLUMNS = ("date", "compute_gap", "lead_months", "smuggled_h100e_cum")
COUNTRY_COLUMNS = ("date", "iso_a3", "official_stack", "cn_share")
NO_DATA = -1  # in RunTrack.official: the run has no row for that country and month
#: Side-panel columns drawn with a band, and the bands table's metric behind each.
BAND_METRICS = {"gap": "compute_gap", "lead": "lead_months"}
BAND_COLUMNS = ("date", "metric", "p10", "p90")


class RunTables(Protocol):
    """One run's files as read (runs/core/run_folder.py's ``RunFolder`` is one)."""

    @property
    def path(self) -> Path: ...  # the run folder, to name files in messages

    @property
    def name(self) -> str: ...  # the scenario's name

    @property
    def branch(self) -> str | None: ...  # the month the scenario's levers took over, if any

    @property
    def scenario_data(self) -> dict[str, Any]: ...  # scenario.toml, parsed, not validated

    @property
    def series(self) -> pd.DataFrame: ...

    @property
    def countries(self) -> pd.DataFrame: ...

    @property
    def events(self) -> list[dict[str, Any]]: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    @property
    def bands(self) -> pd.DataFrame | None: ...  # an ensemble run's bands (date, metric, p10..)


@dataclass(frozen=True, eq=False)
class RunTrack:
    """One run's tables arranged for drawing: row = month, column = country-table row."""

    path: Path
    name: str
    description: str
    seed: int
    scale: int | None
    version: str
    branch: int | None
    months: np.ndarray  # month numbers, increasing by one
    cn_share: np.ndarray  # (months, countries); NaN where the run has no row for a country
    official: np.ndarray  # (months, countries) int8: a stack code (world/stacks.py) or NO_DATA
    gap: np.ndarray
    lead: np.ndarray
    smuggled: np.ndarray
    official_cn: np.ndarray  # countries whose official stack is Chinese
    pop_cn: np.ndarray  # people under those governments
    events: list[dict[str, Any]] = field(repr=False)
    # An ensemble run's 10-90% band per panel column (BAND_METRICS): (months, 2), NaN where the
    # bands table has no row for a month; empty for a single run.
    bands: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def row_at(self, month: int) -> int:
        """The latest row at or before ``month`` (a run that ended stays on its last month)."""
        return int(np.searchsorted(self.months, month, side="right")) - 1


def _check_columns(frame: pd.DataFrame, path: Path, required: Sequence[str]) -> None:
    for name in required:
        if name not in frame.columns:
            raise InputError(str(path), "columns", name, "a column written by chipwar run")


def read_track(run: RunTables, table: CountryTable) -> RunTrack:
    """Arrange one run's tables for drawing; InputError (one line, naming the file) if a column
    the replay draws is missing or the months are not consecutive."""
    path = Path(run.path)
    series_path = path / "series.parquet"
    series, countries = run.series, run.countries
    _check_columns(series, series_path, SERIES_COLUMNS)
    _check_columns(countries, path / "countries.parquet", COUNTRY_COLUMNS)
    if series.empty:
        raise InputError(str(series_path), "rows", 0, "at least one month")
    try:
        months = np.array([parse_month(d) for d in series["date"]], dtype=np.int64)
    except ValueError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        what = f"dates as YYYY-MM ({reason[:120]})"
        raise InputError(str(series_path), "file", series_path.name, what) from None
    if np.any(np.diff(months) != 1):
        raise InputError(str(series_path), "date", "gaps", "consecutive months")

    n_months, n_countries = len(months), len(table)
    share = np.full((n_months, n_countries), np.nan)
    official = np.full((n_months, n_countries), NO_DATA, dtype=np.int8)
    known = countries["iso_a3"].isin(list(table.iso))
    rows = countries[known]
    if len(rows):
        month_of = {format_month(int(m)): i for i, m in enumerate(months)}
        mi = rows["date"].map(month_of)
        keep = mi.notna().to_numpy()
        mi = mi.to_numpy()[keep].astype(np.int64)
        ci = np.array([table.index(iso) for iso in rows["iso_a3"].to_numpy()[keep]], dtype=int)
        share[mi, ci] = rows["cn_share"].to_numpy(dtype=float)[keep]
        codes = rows["official_stack"].map(STACK_BY_NAME).fillna(NO_DATA).to_numpy()[keep]
        official[mi, ci] = codes.astype(np.int8)

    def column(name: str) -> np.ndarray:
        if name in series:
            return series[name].to_numpy(dtype=float)
        return np.full(n_months, np.nan)

    scenario, meta = run.scenario_data, run.meta
    seed = meta.get("seed", 0)
    return RunTrack(
        path=path,
        name=run.name,
        description=str(scenario.get("description") or ""),
        seed=int(seed) if isinstance(seed, int) else 0,
        scale=meta.get("adopters") or meta.get("scale") or scenario.get("scale"),
        version=str(meta.get("chipwar_version", "")),
        branch=parse_month(run.branch) if run.branch is not None else None,
        months=months,
        cn_share=share,
        official=official,
        gap=column("compute_gap"),
        lead=column("lead_months"),
        smuggled=column("smuggled_h100e_cum"),
        official_cn=column("countries_official_cn"),
        pop_cn=column("pop_cn_stack"),
        events=list(run.events),
        bands=read_bands(getattr(run, "bands", None), months, path / "bands.parquet"),
    )


def read_bands(bands: pd.DataFrame | None, months: np.ndarray, path: Path) -> dict[str, np.ndarray]:
    """The 10-90% band of each banded panel, month by month of the run (NaN where missing)."""
    if bands is None:
        return {}
    _check_columns(bands, path, BAND_COLUMNS)
    out = {}
    index = {format_month(int(m)): i for i, m in enumerate(months)}
    for column, metric in BAND_METRICS.items():
        rows = bands[bands["metric"] == metric]
        if rows.empty:
            continue
        band = np.full((len(months), 2), np.nan)
        at = rows["date"].map(index)
        keep = at.notna().to_numpy()
        rows_at = at.to_numpy()[keep].astype(np.int64)
        band[rows_at, 0] = rows["p10"].to_numpy(dtype=float)[keep]
        band[rows_at, 1] = rows["p90"].to_numpy(dtype=float)[keep]
        out[column] = band
    return out


def frame_months(tracks: Sequence[RunTrack], every: int) -> list[int]:
    """Months shown, one frame each: every ``every`` months over all runs, always the last one."""
    first = min(int(t.months[0]) for t in tracks)
    last = max(int(t.months[-1]) for t in tracks)
    months = list(range(first, last + 1, every))
    if months[-1] != last:
        months.append(last)
    return months


def frame_events(track: RunTrack, months: Sequence[int]) -> list[list[dict[str, Any]]]:
    """The events each frame covers: those after the previous frame's month, up to its own."""
    out: list[list[dict[str, Any]]] = [[] for _ in months]
    edges = np.asarray(months)
    for event in track.events:
        k = int(np.searchsorted(edges, parse_month(event["date"]), side="left"))
        if k < len(out):
            out[k].append(event)
    return out
