"""Faults: `kill -9` at chosen points, full disks, unwritable folders, failing writes.

Nothing already finished may be lost or corrupted, resuming must give the uninterrupted result,
and a disk or folder that cannot take the results is refused before any work starts.

Kills land at deterministic points, whatever the machine's speed: the process under test runs
with ``CHIPWAR_FAULT`` (runs/core/faults.py), pauses at the chosen point (after N recorded runs,
after the N-th file written), and is killed there; each test then checks that the kill landed
where it meant to (so many rows, this file new and that one old) before checking the recovery.

A full disk is produced two honest ways: the pre-flight reads the free space with
``shutil.disk_usage`` (replaced here by a nearly full disk), and writes during the work go to
``/dev/full``, which fails every write with ENOSPC as a full disk does. Tests run as root, which
ignores permission bits, so an unwritable folder is a path under a regular file.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
from collections import namedtuple
from pathlib import Path

import pytest
from helpers import small_scenario
from reliability import (
    CLI,
    assert_clean_refusal,
    folder_hashes,
    kill_tree,
    run_cli,
    start_paused,
    tally,
)
from sweep_helpers import horizon, scaled_scenario, session_options, store_files, write_spec

from chipwar.runs.experiments import store
from chipwar.runs.wargame.session import OUTPUTS_STAMP, Session, good_copy_path, load_record

Usage = namedtuple("Usage", "total used free")


# --- kill -9 ------------------------------------------------------------------------------------
def _finished_files_intact(out: Path, reference: dict[str, bytes]) -> None:
    """Every result file in the killed folder is byte for byte the uninterrupted one."""
    for name, data in store_files(out).items():
        if name.endswith(".tmp") or Path(name).name.startswith("."):
            continue  # a write the kill interrupted: resume deletes it
        assert name in reference, name
        assert data == reference[name], f"{name} differs from the uninterrupted sweep"


def _kill_paused(argv: list[str], fault: str, flag: Path) -> str:
    """Run ``chipwar ARGV`` until it pauses at ``fault``, kill -9 it there; the flag's text."""
    victim, where = start_paused(argv, fault, flag)
    kill_tree(victim)
    assert victim.returncode == -signal.SIGKILL, f"{argv} was not killed at {fault}"
    return where


def _series_without_row(out: Path) -> set[int]:
    """Runs whose series file was written but whose row (written last) was not: cut mid-run."""
    rows = store.done_run_ids(out)
    series = {int(p.stem.split("-")[1]) for p in (out / "series").rglob("run-*.parquet")}
    return series - rows


@pytest.mark.slow
def test_a_sweep_killed_again_and_again_resumes_to_the_uninterrupted_bytes(tmp_path):
    factors = {"params.detection_base": {"range": [0.001, 0.02], "levels": 12}}
    spec = write_spec(tmp_path, factors=factors, replications=1, horizon=horizon(8))
    reference = tmp_path / "reference"
    assert run_cli(["sweep", str(spec), "--out", str(reference), "--workers", "1"])[0] == 0
    expected = store_files(reference)
    out, flag = tmp_path / "killed", tmp_path / "paused"
    sweep = ["sweep", str(spec), "--out", str(out)]

    # 1. While creating the folder: spec and scenario written, no manifest yet.
    _kill_paused([*sweep, "--workers", "1"], "after-writes=2:pause", flag)
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} == {
        "experiment.toml",
        "scenarios/00.toml",
    }
    # 2. Serial, after exactly three runs: three rows, nothing consolidated.
    resume = [*sweep, "--resume"]
    where = _kill_paused([*resume, "--workers", "1"], "after-runs=3:pause", flag)
    assert where.endswith("after-runs=3\n")
    assert store.done_run_ids(out) == {0, 1, 2} and not (out / "runs.parquet").exists()
    _finished_files_intact(out, expected)
    # 3. Two workers, after their first chunk: the chunks already handed out (at most 8 runs)
    #    finish while the driver waits, the rest were never handed out.
    _kill_paused([*resume, "--workers", "2"], "after-runs=2:pause", flag)
    done = store.done_run_ids(out)
    assert {0, 1, 2} < done and 3 + 2 <= len(done) <= 3 + 8 < 12, sorted(done)
    _finished_files_intact(out, expected)
    # 4. Serial, mid-run: the next run's series file is written, its row is not.
    _kill_paused([*resume, "--workers", "1"], "after-writes=1:pause", flag)
    assert store.done_run_ids(out) == done
    cut = _series_without_row(out)
    assert len(cut) == 1 and cut.isdisjoint(done), cut
    _finished_files_intact(out, expected)
    tally("kill -9 of a sweep (4 points, workers 1 and 2)", "survived: nothing lost")

    code, stdout, err = run_cli([*resume, "--workers", "1"])
    assert code == 0, err
    assert f"({12 - len(done)} now" in stdout
    assert store_files(out) == expected
    assert not list(out.rglob("*.tmp"))
    tally("sweep resumed after the kills", "same bytes as uninterrupted")


@pytest.fixture(scope="module")
def bot_game(tmp_path_factory) -> Path:
    """A folder holding a fresh bots-only session (3-month turns) and its first briefs."""
    folder = tmp_path_factory.mktemp("bot_game")
    session = Session.new(
        folder / "game.json", scaled_scenario(small_scenario()), seed=4, **session_options(3, 3)
    )
    session.write_outputs(0)
    return folder


def _copy_game(template: Path, to: Path) -> Path:
    shutil.copytree(template, to)
    return to / "game.json"


@pytest.fixture(scope="module")
def advanced(bot_game, tmp_path_factory) -> tuple[Path, list[str]]:
    """The game after one uninterrupted advance, and the files the advance wrote, in order."""
    reference = _copy_game(bot_game, tmp_path_factory.mktemp("advanced") / "game")
    real_replace = os.replace
    calls: list[str] = []

    def counting(src, dst, *args, **kwargs):
        calls.append(str(Path(dst).relative_to(reference.parent)))
        return real_replace(src, dst, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", counting)
        assert run_cli(["wargame", "advance", str(reference)])[0] == 0
    assert calls[:2] == ["game.json", good_copy_path(reference).name]
    assert calls[-1] == f"game.d/{OUTPUTS_STAMP}"
    return reference, calls


@pytest.mark.slow
def test_a_wargame_advance_killed_after_each_kind_of_write_keeps_a_valid_session(
    bot_game, advanced, tmp_path
):
    """Killed after the session file, after its good copy, amid the report and briefs, and
    before the last file: each time the session is valid and the next command completes it."""
    reference, writes = advanced
    old, new = (bot_game / "game.json").read_bytes(), reference.read_bytes()
    assert new != old
    middle = random.Random(7).randrange(3, len(writes) - 1)
    for n in (1, 2, middle, len(writes) - 1):
        path = _copy_game(bot_game, tmp_path / f"kill{n}")
        fault = f"after-writes={n}:pause"
        where = _kill_paused(["wargame", "advance", str(path)], fault, tmp_path / "paused")
        assert where.endswith(f"after-writes={n}\n")
        assert path.read_bytes() == new  # the turn is saved first
        assert good_copy_path(path).read_bytes() == (new if n >= 2 else old), n
        load_record(path)  # valid JSON, schema and checksum
        folder = path.parent
        for k, name in enumerate(writes):  # written so far: the reference's bytes; later: not
            done = (folder / name).exists() and (
                (folder / name).read_bytes() == (reference.parent / name).read_bytes()
            )
            assert done == (k < n), (n, name)
        code, _, err = run_cli(["wargame", "status", str(path)])
        assert code == 0, err
        assert "was behind" in err  # it saw the cut-short turn and completed its files
        assert folder_hashes(folder / "game.d") == folder_hashes(reference.parent / "game.d"), n
        assert path.read_bytes() == new
        tally("kill -9 of wargame advance after a chosen write", "survived: valid, completed")


class Crash(BaseException):
    """Stands for the process dying at this instant (not an Exception: nothing catches it)."""


def test_a_crash_at_each_write_of_an_advance_leaves_old_or_new_never_broken(
    bot_game, tmp_path, monkeypatch
):
    """Deterministic companion of the kill test: die just before the k-th rename of a turn's
    files (session, its good copy, the report and the briefs)."""
    reference = _copy_game(bot_game, tmp_path / "reference")
    old = reference.read_bytes()
    real_replace = os.replace
    calls: list[str] = []

    def counting(src, dst, *args, **kwargs):
        calls.append(str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", counting)
    assert run_cli(["wargame", "advance", str(reference)])[0] == 0
    new = reference.read_bytes()
    writes = list(calls)
    assert writes[:2] == [str(reference), str(good_copy_path(reference))]
    for k in (0, 1, random.Random(3).randrange(2, len(writes))):
        path = _copy_game(bot_game, tmp_path / f"crash{k}")
        count = [0]

        def crashing(src, dst, *args, k=k, count=count, **kwargs):
            count[0] += 1
            if count[0] > k:
                raise Crash
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", crashing)
        with pytest.raises(Crash):
            run_cli(["wargame", "advance", str(path)])
        monkeypatch.setattr(os, "replace", real_replace)
        assert path.read_bytes() == (old if k == 0 else new), k
        assert good_copy_path(path).read_bytes() == (new if k >= 2 else old), k
        load_record(path)
        tally("crash before a rename in wargame advance", "survived: old or new, valid")
        if k == 0:
            assert run_cli(["wargame", "advance", str(path)])[0] == 0
            assert path.read_bytes() == new
        else:  # the turn is saved, its files were cut short: the next command completes them
            code, _, err = run_cli(["wargame", "status", str(path)])
            assert code == 0, err
            assert _folder_bytes(path.parent / "game.d") == _folder_bytes(
                reference.parent / "game.d"
            ), k
            code, _, err = run_cli(["wargame", "status", str(path)])
            assert "was behind" not in err  # once complete, nothing more is rewritten


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- full disks and unwritable folders, before any work -----------------------------------------
@pytest.fixture
def nearly_full_disk(monkeypatch):
    """Every disk reports 2 MB free (the pre-flight wants more for any output)."""
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _path: Usage(10**12, 10**12 - 2 * 10**6, 2 * 10**6)
    )


@pytest.fixture
def no_work(monkeypatch):
    """Building a model counts as starting work: fail loudly if a refused command gets there."""
    from chipwar.world import model

    def refuse(*_args, **_kwargs):
        raise AssertionError("work started before the output folder was checked")

    monkeypatch.setattr(model.ChipWarModel, "__init__", refuse)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    argv = ["run", "--scenario", "porous", "--scale", "1000", "--until", "2024-03"]
    assert run_cli([*argv, "--out", str(out)])[0] == 0
    return out


def _commands(tmp_path: Path, tiny_run: Path, session: Path) -> dict[str, list[str]]:
    spec = write_spec(tmp_path / "spec")
    out = str(tmp_path / "results" / "out")
    return {
        "run": ["run", "--scenario", "porous", "--scale", "1000", "--out", out],
        "sweep": ["sweep", str(spec), "--out", out, "--workers", "1"],
        "compare": ["compare", "porous", "current-policy", "--seeds", "1", "--out", out],
        "wargame new": ["wargame", "new", str(tmp_path / "g.json"), "--scenario", "porous"],
        "wargame advance": ["wargame", "advance", str(session)],
        "replay": ["replay", str(tiny_run), "--out", str(tmp_path / "r.gif")],
    }


def test_a_full_disk_is_refused_before_any_work(
    tmp_path, tiny_run, bot_game, nearly_full_disk, no_work
):
    session = _copy_game(bot_game, tmp_path / "game")
    for name, argv in _commands(tmp_path, tiny_run, session).items():
        before = folder_hashes(tmp_path)
        code, _, err = run_cli(argv)
        assert_clean_refusal(code, err, "needed", "MB free")
        assert folder_hashes(tmp_path) == before, name
        assert not (tmp_path / "results").exists(), name


def test_an_output_path_under_a_regular_file_is_refused_before_any_work(
    tmp_path, tiny_run, bot_game, no_work
):
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder should be")
    session = _copy_game(bot_game, tmp_path / "game")
    commands = _commands(tmp_path, tiny_run, session)
    commands["wargame new"][2] = str(blocker / "g.json")
    commands["replay"][3] = str(blocker / "r.gif")
    del commands["wargame advance"]  # its folder exists by definition
    for name, argv in commands.items():
        before = folder_hashes(tmp_path)
        code, _, err = run_cli(argv)
        assert_clean_refusal(code, err, str(blocker))
        assert folder_hashes(tmp_path) == before, name
        assert blocker.read_text() == "a file where a folder should be"


# --- writes that fail during the work (ENOSPC from /dev/full) -----------------------------------
def _full_disk_after(n: int):
    """os.fdopen that hands out /dev/full (every write: ENOSPC) after ``n`` real files."""
    real = os.fdopen
    count = [0]

    def fdopen(fd, *args, **kwargs):
        count[0] += 1
        if count[0] <= n:
            return real(fd, *args, **kwargs)
        os.close(fd)
        return open("/dev/full", "wb")  # the caller closes it

    return fdopen


def test_a_full_disk_while_writing_a_run_leaves_the_earlier_run_intact(
    tmp_path, tiny_run, monkeypatch
):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    before = folder_hashes(out)
    monkeypatch.setattr(os, "fdopen", _full_disk_after(2))  # the third file hits the full disk
    argv = ["run", "--scenario", "porous", "--scale", "1000", "--until", "2026-06", "--seed", "9"]
    code, _, err = run_cli([*argv, "--out", str(out)])  # to the branch: no lever warning
    assert_clean_refusal(code, err, str(out / "countries.parquet"), "No space left on device")
    assert folder_hashes(out) == before  # not one file of the new run replaced an old one


def test_a_full_disk_during_a_sweep_stops_it_and_resume_finishes_it(tmp_path, monkeypatch):
    spec = write_spec(tmp_path)
    reference = tmp_path / "reference"
    assert run_cli(["sweep", str(spec), "--out", str(reference), "--workers", "1"])[0] == 0
    expected = store_files(reference)
    out = tmp_path / "out"
    # spec, scenario, design, manifest, then 3 files per run: three runs fit, the fourth fails
    monkeypatch.setattr(os, "fdopen", _full_disk_after(4 + 3 * 3 + 1))
    code, stdout, err = run_cli(["sweep", str(spec), "--out", str(out), "--workers", "1"])
    assert err.startswith("tiny: 8 runs")  # the plan line, then the one-line error
    error = err.split("\n", 1)[1]
    assert_clean_refusal(code, error, str(out), "run-000003.parquet", "No space left")
    assert store.done_run_ids(out) == {0, 1, 2}
    _finished_files_intact(out, expected)
    monkeypatch.undo()  # space freed
    code, stdout, err = run_cli(
        ["sweep", str(spec), "--out", str(out), "--workers", "1", "--resume"]
    )
    assert code == 0, err
    assert "5 now" in stdout
    assert store_files(out) == expected


def test_a_full_disk_while_saving_a_turn_keeps_the_session_and_a_retry_works(
    bot_game, tmp_path, monkeypatch
):
    reference = _copy_game(bot_game, tmp_path / "reference")
    assert run_cli(["wargame", "advance", str(reference)])[0] == 0
    path = _copy_game(bot_game, tmp_path / "game")
    before = folder_hashes(path.parent)
    monkeypatch.setattr(os, "fdopen", _full_disk_after(0))
    code, _, err = run_cli(["wargame", "advance", str(path)])
    assert_clean_refusal(code, err, str(path), "No space left on device")
    assert folder_hashes(path.parent) == before
    monkeypatch.undo()
    assert run_cli(["wargame", "advance", str(path)])[0] == 0
    assert path.read_bytes() == reference.read_bytes()


def test_other_disk_errors_and_bugs_are_one_line_and_debug_shows_the_traceback(
    tmp_path, monkeypatch
):
    from chipwar.runs.core import single_run as single

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "somewhere/report.md")

    argv = ["run", "--scenario", "porous", "--scale", "1000", "--out", str(tmp_path / "o")]
    monkeypatch.setattr(single, "run_scenario", full)
    code, _, err = run_cli(argv)
    assert_clean_refusal(code, err, "somewhere/report.md", "No space left on device")

    def bug(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(single, "run_scenario", bug)
    code, _, err = run_cli(argv)
    assert code == 1 and err.count("\n") == 1 and "CHIPWAR_DEBUG=1" in err
    assert "Traceback" not in err
    monkeypatch.setenv("CHIPWAR_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run_cli(argv)


@pytest.mark.slow
def test_bad_input_in_real_processes_prints_one_line_and_exits_2(tmp_path, bot_game):
    """The whole path a user meets: a fresh interpreter, no traceback, status 2."""
    junk = tmp_path / "junk.toml"
    junk.write_bytes(os.urandom(200))
    session = _copy_game(bot_game, tmp_path / "game")
    session.write_bytes(session.read_bytes()[:-40])  # truncated
    spec = write_spec(tmp_path / "spec", horizon="2031-13")
    env = {k: v for k, v in os.environ.items() if k != "CHIPWAR_DEBUG"}
    cases = [
        (["run", "--scenario", str(junk), "--out", str(tmp_path / "o")], str(junk)),
        (["wargame", "move", str(session), "--role", "us", "--set", "kyc=2"], str(session)),
        (["sweep", str(spec), "--out", str(tmp_path / "s")], "horizon"),
    ]
    for argv, needle in cases:
        before = folder_hashes(tmp_path)
        done = subprocess.run([*CLI, *argv], capture_output=True, text=True, env=env)
        assert_clean_refusal(done.returncode, done.stderr, needle)
        assert done.stdout == ""
        assert folder_hashes(tmp_path) == before
