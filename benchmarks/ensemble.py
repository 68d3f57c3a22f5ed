"""The ensemble-run bar: ``chipwar run --ensemble 20`` of one preset at the default scale, on a
pool of 2 workers, in at most 10 s of wall time.

Each repeat runs the command as a user meets it, in a fresh process (interpreter start-up, imports,
the pool's workers starting and loading the numba cache, every member, the bands and the files),
and the bar takes the best of the repeats, as the other bars do (a shared machine only adds
time). Beside it: the command's own account of its time (from the ensemble on), the CPU time of
the command and its workers, and one member run in a warm process, so the parts can be told
apart: start-up, members x per-member time / workers, and the rest.
"""

from __future__ import annotations

import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PRESET = "current-policy"
MEMBERS = 20
WORKERS = 2
BAR_S = 10.0


def ensemble_file(path: str | Path | None) -> Path:
    """The ensemble the bench draws from: ``path`` or the shipped one."""
    from chipwar.world.ensemble import default_path

    return Path(path) if path is not None else default_path()


def command_run(path: Path, out: Path, members: int, workers: int) -> dict[str, float]:
    """One ``chipwar run --ensemble`` in a fresh process: wall, CPU (with its workers), and the
    seconds the command reports for the ensemble itself."""
    argv = [sys.executable, "-m", "chipwar.runs.cli", "run", "--scenario", PRESET, "--seed", "0"]
    argv += ["--ensemble", str(members), "--ensemble-file", str(path), "--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"ensemble run failed: {done.stderr.strip()[-400:]}")
    reported = re.search(r"in ([0-9.]+) s\s*$", done.stdout.strip())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "ensemble_s": float(reported.group(1)) if reported else math.nan,
    }


def member_time(path: Path, repeats: int = 3) -> float:
    """One member run in this (warm) process, best of ``repeats``: the per-member cost."""
    from chipwar.runs.core.ensemble_run import EnsembleJob, member_tasks, run_member
    from chipwar.world.ensemble import load_ensemble
    from chipwar.world.scenario import load_scenario

    tasks, _ = member_tasks(load_ensemble(path), repeats + 1, 0)
    job = EnsembleJob(load_scenario(PRESET), None, frozenset())
    run_member(job, tasks[0])  # loads the kernels from the numba cache
    best = math.inf
    for task in tasks[1:]:
        started = time.perf_counter()
        run_member(job, task)
        best = min(best, time.perf_counter() - started)
    return best


def ensemble_bench(
    path: str | Path | None = None,
    repeats: int = 3,
    members: int = MEMBERS,
    workers: int = WORKERS,
) -> dict[str, Any]:
    """The bar's measurement; ``{"skipped": reason}`` if there is no ensemble file to draw from."""
    source = ensemble_file(path)
    if not source.is_file():
        return {"skipped": f"no ensemble file at {source}: run `chipwar calibrate --ensemble`"}
    runs = []
    with tempfile.TemporaryDirectory(prefix="chipwar-bench-") as tmp:
        for k in range(repeats):
            runs.append(command_run(source, Path(tmp) / f"run-{k}", members, workers))
    best = min(runs, key=lambda r: r["wall_s"])
    per_member = member_time(source)
    return {
        "preset": PRESET,
        "members": members,
        "workers": workers,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "repeats": repeats,
        "wall_s": round(best["wall_s"], 2),
        "wall_s_all": [round(r["wall_s"], 2) for r in runs],
        "ensemble_s": round(best["ensemble_s"], 2),
        "cpu_s": round(best["cpu_s"], 2),
        "member_warm_s": round(per_member, 3),
        "members_ideal_s": round(members * per_member / workers, 2),
        "bar_s": BAR_S,
        "meets_bar": best["wall_s"] <= BAR_S,
        "file": str(source),
    }


def format_ensemble(report: dict[str, Any]) -> str:
    """The bar's lines for people."""
    if "skipped" in report:
        return f"ensemble run: skipped ({report['skipped']})"
    r = report
    verdict = "meets" if r["meets_bar"] else "MISSES"
    return "\n".join(
        [
            f"ensemble run, `chipwar run --scenario {r['preset']} --ensemble {r['members']} "
            f"--workers {r['workers']}` at the default scale, fresh process, best of "
            f"{r['repeats']} (load average {r['load_average']}):",
            f"  wall {r['wall_s']:.2f} s ({verdict} the {r['bar_s']:.0f} s bar; all repeats "
            f"{', '.join(f'{w:.2f}' for w in r['wall_s_all'])}); the command's own count from "
            f"the ensemble on {r['ensemble_s']:.2f} s; CPU {r['cpu_s']:.2f} s in all",
            f"  one member in a warm process {r['member_warm_s']:.3f} s: {r['members']} members "
            f"on {r['workers']} workers need {r['members_ideal_s']:.2f} s at best; the rest is "
            "start-up (interpreter, imports, workers, numba cache), bands and files",
        ]
    )
