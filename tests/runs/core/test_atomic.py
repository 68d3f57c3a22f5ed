"""Atomic writes keep the old file on failure and give new files the usual permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chipwar.runs.core.atomic import (
    DOCUMENT_MODE,
    atomic_path,
    write_bytes_atomic,
    write_files_atomic,
    write_text_atomic,
)
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


def test_text_is_written_utf8_and_secrets_get_their_own_mode(tmp_path: Path) -> None:
    path = tmp_path / "game.access.json"
    write_text_atomic(path, "tokens: ü\n", mode=0o600)
    assert path.read_bytes() == "tokens: ü\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_several_files_are_written_all_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second file meets a full disk: the first is not renamed into place either."""
    (tmp_path / "a.txt").write_bytes(b"old a")
    real = os.fdopen
    opened = [0]

    def full_after_one(fd: int, *args: object, **kwargs: object):
        opened[0] += 1
        if opened[0] == 1:
            return real(fd, *args, **kwargs)
        os.close(fd)
        return open("/dev/full", "wb")

    monkeypatch.setattr(os, "fdopen", full_after_one)
    with pytest.raises(OutputError, match=r"b\.txt"):
        write_files_atomic(tmp_path, {"a.txt": b"new a", "b.txt": b"new b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_bytes() == b"old a"
    monkeypatch.undo()
    write_files_atomic(tmp_path, {"a.txt": b"new a", "b.txt": b"new b"})
    assert (tmp_path / "b.txt").read_bytes() == b"new b"
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == DOCUMENT_MODE


def test_a_streamed_file_appears_only_when_its_writer_finishes(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "replay.mp4"
    with atomic_path(out) as tmp:
        assert tmp.parent == out.parent and tmp.suffix == ".mp4" and tmp.name.startswith(".")
        tmp.write_bytes(b"frames")
        assert not out.exists()
    assert out.read_bytes() == b"frames"
    assert stat.S_IMODE(out.stat().st_mode) == DOCUMENT_MODE
    assert [p.name for p in out.parent.iterdir()] == ["replay.mp4"]


def test_a_failed_streaming_writer_keeps_the_old_file_and_its_own_error(tmp_path: Path) -> None:
    out = tmp_path / "replay.gif"
    out.write_bytes(b"old")
    with pytest.raises(BrokenPipeError), atomic_path(out) as tmp:
        tmp.write_bytes(b"half")
        raise BrokenPipeError("ffmpeg went away")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["replay.gif"]


def test_an_unwritable_folder_is_one_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError) as caught:
        write_bytes_atomic(blocker / "x.json", b"{}")
    assert "\n" not in str(caught.value) and str(blocker) in str(caught.value)
    with pytest.raises(OutputError), atomic_path(blocker / "x.png"):
        raise AssertionError("the block must not run")
