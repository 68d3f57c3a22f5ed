"""One seed, the same bytes: across processes with different hash seeds, across a sweep resumed
after interruptions at random points, and across a wargame played one command at a time.

(Same bytes across serial, pool and Dask executors: tests/runs/test_sweep.py; two runs of
`chipwar run` in one process: tests/runs/test_cli.py.)
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import small_scenario
from reliability import tally
from sweep_helpers import store_files, tiny_plan

from chipwar.runs.core.executors import ExecutorInfo, SerialExecutor
from chipwar.runs.core.run_folder import RUN_FILES
from chipwar.runs.experiments.sweep import run_sweep
from chipwar.runs.wargame.session import Session

SERIAL = ExecutorInfo(SerialExecutor(), 1, "serial", None)
TIMING_FIELDS = ("timings_s",)  # meta.json: the only fields that measure time


def _run_dir_bytes(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in RUN_FILES}
    meta = json.loads(files["meta.json"])
    assert set(meta["timings_s"]) == {"build", "steps", "total"}
    for name in TIMING_FIELDS:
        meta.pop(name)
    files["meta.json"] = json.dumps(meta, sort_keys=True).encode()
    return files


@pytest.mark.slow
def test_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """String hashing (set and dict order of strings) must not reach the results.

    The runs go past porous's branch date (2026-06), where the ``us.kyc`` override takes over;
    the same run without it must differ, else the override was compared without ever acting.
    """
    argv = ["run", "--scenario", "porous", "--scale", "2000", "--until", "2026-09", "--seed", "3"]
    argv += ["--set", "params.detection_base=0.01"]
    kyc = ["--set", "us.kyc=0.4"]
    runs = {seed: (seed, [*argv, *kyc]) for seed in ("0", "1", "12345")}
    runs["no-kyc"] = ("0", argv)
    processes = {}
    for name, (hash_seed, args) in runs.items():
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [
            sys.executable,
            "-m",
            "chipwar.runs.cli",
            *args,
            "--out",
            str(tmp_path / name),
        ]
        processes[name] = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    for process in processes.values():
        assert process.wait(timeout=300) == 0, process.stderr.read()
        process.stderr.close()
    first = _run_dir_bytes(tmp_path / "0")
    for hash_seed in ("1", "12345"):
        again = _run_dir_bytes(tmp_path / hash_seed)
        for name in RUN_FILES:
            assert again[name] == first[name], f"{name} differs with PYTHONHASHSEED={hash_seed}"
        tally("determinism: chipwar run, PYTHONHASHSEED 0 vs " + hash_seed, "same bytes")
    without = _run_dir_bytes(tmp_path / "no-kyc")
    for name in ("series.parquet", "countries.parquet"):
        assert without[name] != first[name], f"--set us.kyc=0.4 left {name} unchanged"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    run_sweep(tiny_plan(folder), folder / "out", SERIAL, progress=False)
    return store_files(folder / "out")


class Interrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("stop_after", sorted(random.Random(11).sample(range(1, 8), 3)))
def test_a_sweep_interrupted_and_resumed_gives_the_same_bytes(uninterrupted, tmp_path, stop_after):
    plan = tiny_plan(tmp_path / "spec")
    out = tmp_path / "out"
    finished: list[int] = []

    def stop(outcomes) -> None:
        finished.extend(o.run_id for o in outcomes)
        if len(finished) >= stop_after:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(plan, out, SERIAL, progress=False, on_chunk=stop)
    report = run_sweep(plan, out, SERIAL, resume=True, progress=False)
    assert report.done_before == stop_after and report.ran == 8 - stop_after
    assert store_files(out) == uninterrupted
    tally("determinism: sweep interrupted and resumed", "same bytes")


def test_a_wargame_played_one_command_at_a_time_gives_the_same_file(tmp_path):
    """Each command opens the file and replays the log; the bytes equal one live session's."""
    options = {"seed": 6, "turn_months": 3, "until": "2024-10", "humans": ["us"]}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    live = Session.new(tmp_path / "a" / "game.json", small_scenario(), **options)
    step = Session.new(tmp_path / "b" / "game.json", small_scenario(), **options)
    moves = [{"enforcement": 0.7}, {"kyc": 0.5, "intel": 0.9}, {"enforcement": 0.2}]
    for settings in moves:
        live.submit("us", settings)
        live.advance()
        Session.open(step.path, keep_checkpoint=False).submit("us", settings)
        Session.open(step.path, keep_checkpoint=False).advance()
    assert live.finished
    assert step.path.read_bytes() == live.path.read_bytes()
    tally("determinism: wargame one command at a time vs live", "same bytes")
    reopened = Session.open(step.path)
    pd.testing.assert_frame_equal(reopened.model.series_table(), live.model.series_table())
    assert [t.digest for t in reopened.record.turns] == [t.digest for t in live.record.turns]
    # Undo the last turn and play it again: the same turn, the same state.
    reopened.undo()
    reopened.submit("us", moves[-1])
    reopened.advance()
    assert reopened.record.turns == live.record.turns
    pd.testing.assert_frame_equal(reopened.model.series_table(), live.model.series_table())
    tally("determinism: wargame undo and replay", "same turns and state")
