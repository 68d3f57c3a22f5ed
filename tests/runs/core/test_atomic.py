"""Atomic writes keep the old file on failure and give new files the usual permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chipwar.runs.core.atomic import DOCUMENT_MODE, write_bytes_atomic
from chipwar.world.errors import OutputError


def test_new_files_get_the_mode_open_would_give(tmp_path: Path) -> None:
    path = tmp_path / "out" / "summary.json"
    write_bytes_atomic(path, b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == DOCUMENT_MODE
    umask = os.umask(0)
    os.umask(umask)
    assert (0o666 & ~umask) == DOCUMENT_MODE


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.json"
    path.write_bytes(b"old")

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]
