"""A replay of run folders written to one file: what ``chipwar replay`` and ``chipwar demo`` call.

The drawing and encoding live in viz/replay/ and know nothing of folders or disks. Here the
folders are read (run_folder.py, one-line errors for anything chipwar did not write), the output
path and the disk are checked before anything is drawn (preflight.py), and the replay is encoded
into a temporary beside the target that replaces it only once complete (atomic.py): an
interrupted render never leaves half a video under the target's name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chipwar.runs.core import run_folder
from chipwar.runs.core.atomic import atomic_path
from chipwar.runs.core.preflight import check_output_folder, replay_bytes
from chipwar.viz.replay import Replay, ReplayOptions, check_request, output_format
from chipwar.world.errors import InputError


@dataclass(frozen=True)
class ReplayResult:
    """What was written: the file, its frames, the render time and its size."""

    path: Path
    frames: int
    seconds: float
    bytes: int


def check_out_file(out: Path) -> None:
    """Refuse an output path that is a folder, or in a folder that is missing or read-only."""
    if out.is_dir():
        raise InputError("--out", "out", str(out), "a file path (this is a folder)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError("--out", "out", str(out), "a path in an existing folder")
    if not os.access(parent, os.W_OK):
        raise InputError("--out", "out", str(out), "a path in a writable folder")


def write_replay(
    run_dirs: Sequence[Path],
    out: Path,
    options: ReplayOptions,
    *,
    frame: str | None = None,
    progress: bool = False,
) -> ReplayResult:
    """Render one run folder, or two side by side, to an MP4, a GIF or (``frame``) a PNG still.

    Every check (options, output path, run folders, the still's month, disk room for a video)
    comes before the first frame is drawn.
    """
    out = Path(out)
    fmt = output_format(out, frame)
    check_request(run_dirs, options, fmt)
    check_out_file(out)
    runs = [run_folder.read(path, optional=("summary.json",)) for path in run_dirs]
    replay = Replay(runs, options, fmt, frame)
    started = time.perf_counter()
    if frame is None:
        check_output_folder(out.parent, replay_bytes(fmt, replay.frames, options.size))
    with atomic_path(out) as target:
        count = replay.write(target, progress=progress)
    return ReplayResult(out, count, time.perf_counter() - started, out.stat().st_size)
