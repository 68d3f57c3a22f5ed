"""Checks before work starts: can the output folder be written, and does its disk have room?

A week-long sweep that finds a full disk on its last run, or a wargame turn adjudicated into a
folder it cannot save to, wastes the user's time. Each command that writes results calls
:func:`check_output_folder` with an estimate of what it will write, before it builds a model; a
problem is one line (an InputError naming the folder) and exit status 2.

The estimates are generous upper bounds measured on real outputs (zstd Parquet): they exist to
catch a disk that is nearly full, not to predict sizes to the byte.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from chipwar.world.errors import InputError

MB = 1_000_000
SPARE_BYTES = 10 * MB  # never plan to fill a disk to its last byte

# A run directory: series ~0.6 KB, countries ~1.9 KB and events ~1.2 KB per month (measured on a
# full 84-month run, 310 KB), doubled, plus the scenario, summary and meta files.
RUN_BASE_BYTES = 50_000
RUN_MONTH_BYTES = 8_000
# One sweep run: its row file and its series (~0.6 KB per month, 30 KB of Parquet metadata), and
# the countries table (~1.9 KB per month) if the spec keeps it; doubled.
SWEEP_RUN_BASE_BYTES = 80_000
SWEEP_RUN_MONTH_BYTES = 1_500
SWEEP_COUNTRY_MONTH_BYTES = 4_000
# A wargame turn: the report (markdown, HTML, four PNG charts) and one brief per role.
TURN_BYTES = 2 * MB


def run_dir_bytes(months: int) -> int:
    return RUN_BASE_BYTES + RUN_MONTH_BYTES * max(months, 1)


def sweep_bytes(runs: int, months: int, countries: bool) -> int:
    per_run = SWEEP_RUN_BASE_BYTES + SWEEP_RUN_MONTH_BYTES * months
    if countries:
        per_run += SWEEP_COUNTRY_MONTH_BYTES * months
    return 1 * MB + runs * per_run  # + the manifest, design, spec and runs.parquet


def replay_bytes(suffix: str, frames: int, size: tuple[int, int]) -> int:
    pixels = size[0] * size[1]
    per_frame = pixels // 8 if suffix == ".gif" else pixels // 50  # palette GIF vs H.264
    return frames * per_frame + MB


def _existing_ancestor(folder: Path) -> Path:
    folder = Path(folder).absolute()
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return Path("/")  # pragma: no cover - the root exists


def check_output_folder(
    folder: Path, needed: int, option: str = "--out", field: str = "out"
) -> None:
    """Refuse a folder that cannot be written or whose disk lacks ``needed`` bytes (+ a spare).

    ``folder`` may not exist yet: its nearest existing parent is probed. The probe creates and
    deletes a temporary file, so it is honest for any user (root ignores permission bits, but not
    a read-only file system).
    """
    folder = Path(folder)
    probe = _existing_ancestor(folder)
    if not probe.is_dir():
        raise InputError(option, field, str(folder), f"a folder path ({probe} is a file)")
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".chipwar-write-test-", suffix=".tmp"):
            pass
    except OSError as err:
        raise InputError(
            option, field, str(folder), f"a writable folder ({probe}: {err.strerror})"
        ) from None
    free = shutil.disk_usage(probe).free
    if free < needed + SPARE_BYTES:
        raise InputError(
            option,
            field,
            str(folder),
            f"a folder on a disk with room for the results: about {_mb(needed + SPARE_BYTES)} "
            f"needed, {_mb(free)} free (free some space or choose another folder)",
        )


def _mb(count: int) -> str:
    return f"{count / MB:,.1f} MB" if count < 10_000 * MB else f"{count / 1e9:,.1f} GB"
