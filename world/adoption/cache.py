"""Keeps numba's on-disk cache of the adoption kernels in step with this package's sources.

Why: numba stamps each cached function with its own source file only. The kernels in
``incremental.py``, ``reference.py`` and ``links.py`` inline functions from ``draws.py``,
``rule.py`` and ``intrinsics.py``, so after an edit to one of those, numba would keep loading
machine code compiled from the old version. Before any kernel runs, :func:`forget_stale_kernels`
compares a hash of every source file of the package with the one recorded beside the cache and,
if they differ, removes the cache's index files (``*.nbi``): numba then compiles from the current
sources and writes new ones. Removing an index is safe while another process reads the cache
(numba treats a missing index or data file as a cache miss).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba

PACKAGE_DIR = Path(__file__).resolve().parent
STAMP_NAME = "chipwar-adoption-sources.sha256"


def sources_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the names and bytes of the package's ``.py`` files, in name order."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_dirs(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Where numba keeps this package's kernels: ``__pycache__`` beside the sources, or under
    ``NUMBA_CACHE_DIR`` when that is set (numba names the subfolder after the source folder)."""
    dirs = [package_dir / "__pycache__"]
    if numba.config.CACHE_DIR:
        folder = os.path.abspath(package_dir)
        tag = hashlib.sha1(folder.encode()).hexdigest()
        dirs.append(Path(numba.config.CACHE_DIR) / f"{package_dir.name}_{tag}")
    return dirs


def forget_stale_kernels(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Remove cached kernel indexes made from other sources than the current ones.

    Returns the index files removed. A cache folder that cannot be written is left alone (an
    installed, read-only package does not change its sources).
    """
    digest = sources_digest(package_dir)
    removed: list[Path] = []
    for folder in cache_dirs(package_dir):
        stamp = folder / STAMP_NAME
        try:
            if stamp.read_text(encoding="ascii").strip() == digest:
                continue
        except (OSError, UnicodeDecodeError):
            pass  # no stamp yet (or a damaged one): treat as changed
        try:
            folder.mkdir(parents=True, exist_ok=True)  # as numba would, so the stamp comes first
        except OSError:
            continue
        if not os.access(folder, os.W_OK):
            continue
        stems = {path.stem for path in package_dir.glob("*.py")}
        for index in folder.glob("*.nbi"):
            if index.name.split(".", 1)[0] in stems:
                try:
                    index.unlink()
                    removed.append(index)
                except FileNotFoundError:
                    pass  # another process removed it first
        _write_stamp(stamp, digest)
    return removed


def _write_stamp(stamp: Path, digest: str) -> None:
    """Replace the stamp in one step, so a concurrent reader sees the old digest or the new."""
    try:
        fd, tmp = tempfile.mkstemp(dir=stamp.parent, prefix=f".{stamp.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(digest + "\n")
        os.replace(tmp, stamp)
    except OSError:
        pass  # the cache folder went read-only: numba will not write there either
