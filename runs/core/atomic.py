"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The one writer of chipwar's output files. Every form stages the data under a temporary name in
the target's folder (``.NAME.XXXX.tmp``), flushes it to disk and renames it over the target; a
failure removes the temporary and leaves the target as it was. OS errors (a full disk, a
read-only folder) become :class:`~chipwar.world.errors.OutputError`, one line naming the file.

- :func:`write_bytes_atomic`, :func:`write_text_atomic`: one file from data in memory;
- :func:`write_files_atomic`: several files of one folder, all or nothing (a run folder);
- :func:`atomic_path`: a temporary path for writers that stream to a path themselves (ffmpeg,
  Pillow, pyarrow), renamed over the target when the ``with`` block ends without an error.

New files get the mode ``open()`` would give them (:data:`DOCUMENT_MODE`), or ``mode`` (0o600
for secrets such as join tokens).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from chipwar.runs.core import faults
from chipwar.world.errors import OutputError

TEMP_SUFFIX = ".tmp"


def _document_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 less the umask): mkstemp's temporary
    files are 0600, which would leave every output readable by its writer only."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


DOCUMENT_MODE = _document_mode()


def _stage(path: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a fresh temporary beside ``path``, flushed to disk; return its name."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as err:
        raise OutputError(path, err) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):  # a full disk, a read-only folder: one line, not a bug
            raise OutputError(path, err) from None
        raise
    return Path(tmp)


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(path, err) from None


def write_bytes_atomic(path: Path, data: bytes, *, mode: int = DOCUMENT_MODE) -> None:
    """Temporary name in the same folder (created if missing), flushed, then renamed over."""
    path = Path(path)
    _make_folder(path.parent)
    _rename_into_place(_stage(path, data, mode), path)


def _rename_into_place(tmp: Path, path: Path) -> None:
    """Rename a staged temporary over ``path``; on failure the temporary is removed."""
    try:
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(path, err) from None
        raise
    faults.reached("after-writes")  # tests stop or kill here (runs/core/faults.py)


def write_text_atomic(
    path: Path, text: str, *, encoding: str = "utf-8", mode: int = DOCUMENT_MODE
) -> None:
    """:func:`write_bytes_atomic` of ``text`` encoded (UTF-8 unless told)."""
    write_bytes_atomic(path, text.encode(encoding), mode=mode)


def write_files_atomic(folder: Path, files: Mapping[str, bytes]) -> None:
    """Stage every file first, then rename them all into place.

    A full disk (or any failed write) therefore leaves the folder exactly as it was, not a
    folder with some files from this write and some from an earlier one. Names are relative to
    ``folder``, which must exist.
    """
    folder = Path(folder)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            target = folder / name
            staged.append((_stage(target, data, DOCUMENT_MODE), target))
        for tmp, target in staged:
            try:
                os.replace(tmp, target)
            except OSError as err:
                raise OutputError(target, err) from None
            faults.reached("after-writes")
    except BaseException:
        for tmp, _target in staged:
            tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: Path, *, mode: int = DOCUMENT_MODE) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed over it if the block ends without an error.

    The temporary keeps the target's extension (``.replay.mp4.XXXX.tmp.mp4``), because writers
    such as ffmpeg choose the format by it. It exists (empty) when the block starts; whatever
    the block leaves there is flushed to disk and renamed into place. On an error in the block
    (which propagates as it is) the temporary is removed and ``path`` is left as it was.

    ::

        with atomic_path(out) as tmp:
            image.save(tmp, format="PNG")
    """
    path = Path(path)
    _make_folder(path.parent)
    try:
        fd, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX + path.suffix
        )
        os.close(fd)
    except OSError as err:
        raise OutputError(path, err) from None
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:  # the writer failed: its error as it is, the target untouched
        tmp.unlink(missing_ok=True)
        raise
    try:
        with open(tmp, "rb") as handle:  # the writer may have replaced the file: sync what is there
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(path, err) from None
        raise
    _rename_into_place(tmp, path)
