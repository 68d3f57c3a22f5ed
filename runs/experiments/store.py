"""The sweep result store: a plain Parquet dataset that survives being killed at any moment.

Layout of a sweep folder (readable by pandas, pyarrow and DuckDB without chipwar installed)::

    manifest.json              what was planned: fingerprint of the spec, counts, column names
    experiment.toml            the spec; scenarios/NN.toml the resolved base scenarios
    design.parquet             one row per design point: point and factor values
    rows/run-NNNNNN.parquet    one row per finished run (ok or failed); written last, so it marks
                               the run as done
    runs.parquet               all rows, sorted by run_id (rebuilt from rows/ at the end of a sweep)
    series/point=P/run-NNNNNN.parquet     per-month model series (run_id + model columns)
    countries/point=P/run-NNNNNN.parquet  per-month country table, if the spec asks for it
    sessions.jsonl             one line per sweep session: executor, wall time, runs done

Every file is written under a temporary name and renamed into place, so a reader (or a resumed
sweep) never sees half a file; a killed sweep leaves at most some ``.tmp`` files, which resume
deletes. Results hold no timings, so the same spec gives the same bytes on every executor.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chipwar.runs.core.atomic import write_bytes_atomic
from chipwar.runs.experiments.spec import Plan, is_categorical
from chipwar.world.errors import InputError, OutputError

LAYOUT = 1
ROW_NAME = re.compile(r"^run-(\d{6,})\.parquet$")
STATUS_OK, STATUS_FAILED = "ok", "failed"


def run_file(run_id: int) -> str:
    return f"run-{run_id:06d}.parquet"


def series_path(out: Path, point: int, run_id: int, table: str = "series") -> Path:
    return Path(out) / table / f"point={point}" / run_file(run_id)


def row_path(out: Path, run_id: int) -> Path:
    return Path(out) / "rows" / run_file(run_id)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def write_table_atomic(path: Path, table: pa.Table) -> None:
    write_bytes_atomic(path, parquet_bytes(table))


def runs_schema(plan: Plan) -> pa.Schema:
    """Columns of the runs table, fixed by the spec (the same for ok and failed rows)."""
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("replication", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    if plan.ensemble is not None:
        fields.append(pa.field("member", pa.int64()))
    for name in plan.factors:
        kind = (
            pa.string() if is_categorical(name) else pa.int64() if name == "scale" else pa.float64()
        )
        fields.append(pa.field(name, kind))
    fields += [pa.field(c, pa.float64()) for c in plan.metric_columns()]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    return pa.schema(fields)


def row_table(schema: pa.Schema, row: Mapping[str, Any]) -> pa.Table:
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names}], schema=schema)


def frame_table(frame: pd.DataFrame, run_id: int) -> pa.Table:
    """A run's series (or country) table with its run id in front."""
    frame = frame.reset_index(drop=True)
    frame.insert(0, "run_id", pd.Series(run_id, index=frame.index, dtype="int64"))
    return pa.Table.from_pandas(frame, preserve_index=False)


# --- opening a store --------------------------------------------------------------------------
def manifest_for(plan: Plan) -> dict[str, Any]:
    manifest = {
        "layout": LAYOUT,
        "fingerprint": plan.fingerprint,
        "name": plan.spec.name,
        "design": plan.spec.design.kind,
        "points": len(plan.design),
        "replications": plan.spec.replications,
        "runs": len(plan.runs),
        "horizon": plan.horizon,
        "dates": plan.dates,
        "factors": plan.factors,
        "metrics": list(plan.spec.outputs.metrics),
        "metric_columns": plan.metric_columns(),
        "scenarios": {f"{i:02d}": label for i, label in enumerate(plan.scenarios)},
        "countries": plan.spec.outputs.countries,
        "chipwar_version": version("chipwar"),
    }
    if plan.ensemble is not None:
        manifest["ensemble"] = {
            "file": plan.spec.ensemble_file or "world/data/ensemble.parquet",
            "sha256": plan.ensemble.sha256,
            "members_in_file": len(plan.ensemble),
            "draw": "systematic resampling by weight (world/ensemble.py)",
        }
    return manifest


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / "manifest.json"
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            str(out), "sweep folder", str(out), "a folder written by chipwar sweep"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("layout") != LAYOUT:
        raise InputError(str(path), "layout", manifest.get("layout"), f"layout {LAYOUT}")
    return manifest


def check_store(out: Path, plan: Plan, resume: bool) -> bool:
    """The checks of :func:`open_store`, writing nothing (a pre-flight before executors start).

    True if ``out`` holds a sweep to resume; False if a new sweep is to be created in it (also
    under ``--resume`` when a sweep was killed while creating its folder: nothing ran yet).
    """
    out = Path(out)
    has_sweep = (out / "manifest.json").exists() or (out / "rows").exists()
    if resume:
        if not has_sweep:
            if (out / "experiment.toml").exists():  # killed before its manifest: start afresh
                return False
            raise InputError("--resume", "out", str(out), "a folder holding a sweep to resume")
        manifest = read_manifest(out)
        if manifest.get("fingerprint") != plan.fingerprint:
            raise InputError(
                "--resume",
                "spec",
                plan.source,
                f"the same spec and scenarios as the sweep in {out} (this one differs)",
            )
        return True
    if has_sweep:
        raise InputError(
            "--out", "out", str(out), "a new or empty folder (it holds a sweep: add --resume)"
        )
    return False


def open_store(out: Path, plan: Plan, resume: bool) -> set[int]:
    """Create the folder for a new sweep, or check it for ``--resume``; the run ids already done."""
    out = Path(out)
    if check_store(out, plan, resume):
        remove_temporaries(out)
        return done_run_ids(out, check=True)
    write_bytes_atomic(out / "experiment.toml", plan.spec.to_toml().encode())
    for i, scenario in enumerate(plan.scenarios.values()):
        write_bytes_atomic(out / "scenarios" / f"{i:02d}.toml", scenario.to_toml().encode())
    write_table_atomic(
        out / "design.parquet", pa.Table.from_pandas(plan.design, preserve_index=False)
    )
    # The manifest goes last: a folder with a manifest has everything a resume needs.
    text = json.dumps(manifest_for(plan), indent=2) + "\n"
    write_bytes_atomic(out / "manifest.json", text.encode())
    return set()


def remove_temporaries(out: Path) -> None:
    """Delete half-written files left by a killed sweep (their runs are redone)."""
    for path in Path(out).rglob(".*.tmp"):
        path.unlink(missing_ok=True)


def done_run_ids(out: Path, check: bool = False) -> set[int]:
    """Runs whose row file exists; with ``check``, unreadable row files are removed (redone)."""
    done = set()
    rows = Path(out) / "rows"
    if not rows.is_dir():
        return done
    for path in rows.iterdir():
        match = ROW_NAME.match(path.name)
        if not match:
            continue
        if check:
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException):
                path.unlink(missing_ok=True)
                continue
        done.add(int(match.group(1)))
    return done


# --- results ----------------------------------------------------------------------------------
def consolidate(out: Path, schema: pa.Schema) -> pa.Table:
    """Gather the row files into ``runs.parquet`` (sorted by run id), written atomically."""
    out = Path(out)
    paths = sorted((out / "rows").glob("run-*.parquet"))
    tables = [pq.read_table(p) for p in paths] or [pa.Table.from_pylist([], schema=schema)]
    table = pa.concat_tables(tables).sort_by("run_id")
    write_table_atomic(out / "runs.parquet", table)
    return table


def read_runs(out: Path) -> pd.DataFrame:
    """The runs table; rebuilt from the row files when a sweep did not finish its consolidation."""
    out = Path(out)
    read_manifest(out)
    path = out / "runs.parquet"
    n_rows = len(done_run_ids(out))
    if path.exists() and pq.read_metadata(path).num_rows == n_rows:
        return pd.read_parquet(path)
    paths = sorted((out / "rows").glob("run-*.parquet"))
    if not paths:
        return pd.read_parquet(path) if path.exists() else pd.DataFrame()
    table = pa.concat_tables([pq.read_table(p) for p in paths]).sort_by("run_id")
    return table.to_pandas()


def read_design(out: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(out) / "design.parquet")


def read_series(out: Path, columns: list[str] | None = None, table: str = "series") -> pd.DataFrame:
    """The per-month dataset as one frame (``point`` comes from the folder names)."""
    import pyarrow.dataset as ds

    root = Path(out) / table
    if not root.is_dir():
        return pd.DataFrame(columns=["run_id", "point", "date", *(columns or [])])
    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    wanted = None if columns is None else ["run_id", "point", "date", *columns]
    frame = dataset.to_table(columns=wanted).to_pandas()
    frame["point"] = frame["point"].astype("int64")
    return frame.sort_values(["run_id", "date"], kind="stable").reset_index(drop=True)


def append_session(out: Path, record: dict[str, Any]) -> None:
    """Log one sweep session (executor, timing); kept apart from the deterministic results."""
    path = Path(out) / "sessions.jsonl"
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as err:
        raise OutputError(path, err) from None
