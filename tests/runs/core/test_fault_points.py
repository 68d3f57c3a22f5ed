"""The fault hook itself (runs/core/faults.py): what a chosen fault does, and only then."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from reliability import PATIENCE, wait_until

from chipwar.runs.core import faults

# Three writes; each prints its number once it is done.
THREE_WRITES = (
    "from chipwar.runs.core import faults\n"
    "for k in (1, 2, 3):\n"
    "    faults.reached('after-writes')\n"
    "    print(k, flush=True)\n"
)


def _three_writes(fault: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", THREE_WRITES],
        env={**os.environ, faults.FAULT_ENV: fault, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("action", "status"), [("exit", faults.EXIT_STATUS), ("kill", -signal.SIGKILL)]
)
def test_exit_and_kill_stop_the_process_right_after_the_chosen_write(action, status):
    process = _three_writes(f"after-writes=2:{action}")
    out, err = process.communicate(timeout=PATIENCE)
    assert process.returncode == status, err
    assert out == "1\n"  # the second write's print never ran


def test_pause_announces_itself_and_goes_on_when_the_flag_is_removed(tmp_path):
    flag = tmp_path / "paused"
    process = _three_writes("after-writes=2:pause", **{faults.FLAG_ENV: str(flag)})
    try:
        wait_until(lambda: flag.exists() or process.poll() is not None, "the pause")
        assert flag.read_text() == f"{process.pid} after-writes=2\n"
        assert process.poll() is None  # still there, waiting
        flag.unlink()
        out, err = process.communicate(timeout=PATIENCE)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out == "1\n2\n3\n"  # fired once, then carried on
    assert not list(tmp_path.iterdir())  # no temporary left beside the flag


def test_a_pause_nobody_ends_gives_up_loudly(tmp_path):
    flag = tmp_path / "paused"
    env = {faults.FLAG_ENV: str(flag), faults.TIMEOUT_ENV: "0"}
    process = _three_writes("after-writes=1:pause", **env)
    out, err = process.communicate(timeout=PATIENCE)
    assert process.returncode == faults.EXIT_STATUS
    assert out == "" and "fault pause at after-writes=1 was never ended" in err


def test_without_a_fault_nothing_happens(monkeypatch):
    monkeypatch.delenv(faults.FAULT_ENV, raising=False)
    for count in range(3):
        faults.reached("after-runs", count)
        faults.reached("after-writes")


@pytest.mark.parametrize(
    "spec",
    ["after-run=3:pause", "after-runs=3:stop", "after-runs=x:pause", "after-runs:pause"],
)
def test_a_misspelt_fault_is_an_error_not_a_fault_that_never_fires(spec, monkeypatch):
    with pytest.raises(ValueError, match="POINT=N:ACTION"):
        faults.parse(spec)
    monkeypatch.setenv(faults.FAULT_ENV, spec)
    with pytest.raises(ValueError, match="POINT=N:ACTION"):
        faults.reached("after-runs", 0)


def test_several_faults_and_counts_given_by_the_caller():
    parsed = faults.parse("after-runs=0:pause, after-writes=12:kill")
    assert [(f.point, f.at, f.action) for f in parsed] == [
        ("after-runs", 0, "pause"),
        ("after-writes", 12, "kill"),
    ]


def test_a_pause_in_a_thread_counts_from_when_the_fault_was_chosen(tmp_path, monkeypatch):
    flag = tmp_path / "paused"
    monkeypatch.delenv(faults.FAULT_ENV, raising=False)
    faults.reached("after-writes")  # before any fault: not counted
    monkeypatch.setenv(faults.FLAG_ENV, str(flag))
    monkeypatch.setenv(faults.FAULT_ENV, "after-writes=2:pause")
    done: list[int] = []

    def writes() -> None:
        for k in (1, 2, 3):
            faults.reached("after-writes")
            done.append(k)

    thread = threading.Thread(target=writes)
    thread.start()
    wait_until(flag.exists, "the pause")
    assert flag.read_text() == f"{os.getpid()} after-writes=2\n" and done == [1]
    flag.unlink()
    thread.join(PATIENCE)
    assert not thread.is_alive() and done == [1, 2, 3]
    monkeypatch.delenv(faults.FAULT_ENV)
    faults.reached("after-writes")  # the fault is gone: the next choice counts afresh


def test_hold_stops_a_thread_at_the_point_until_the_block_ends():
    passed = threading.Event()

    def writer() -> None:
        faults.reached("before-turn-files")
        passed.set()

    with faults.hold("before-turn-files") as gate:
        thread = threading.Thread(target=writer)
        thread.start()
        assert gate.arrived.wait(PATIENCE)
        assert not passed.is_set()  # held at the point
    thread.join(PATIENCE)
    assert passed.is_set()
    with pytest.raises(ValueError, match="unknown fault point"), faults.hold("nowhere"):
        pass
