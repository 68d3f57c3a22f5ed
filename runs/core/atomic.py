"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from chipwar.world.errors import OutputError


def _document_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 less the umask): mkstemp's temporary
    files are 0600, which would leave every output readable by its writer only."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


DOCUMENT_MODE = _document_mode()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Temporary name in the same folder, flushed to disk, then renamed over the target."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(path, err) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, DOCUMENT_MODE)
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):  # a full disk, a read-only folder: one line, not a bug
            raise OutputError(path, err) from None
        raise
