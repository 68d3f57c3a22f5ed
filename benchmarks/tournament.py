"""The doctrine tournament's figure: a 3x3 tournament over 20 members, as a user runs it.

The command runs in a fresh process (``python -m chipwar.runs.cli tournament ...``), so the wall
time includes what a user waits for: the interpreter, the imports, the worker pool's start-up,
every run, the analysis and the files; the CPU time of the process and its workers says what
the runs would take on two idle cores when the machine is shared. The budget is two minutes on
two cores. One member's pairings are also timed in this process, the tournament's way (one
shared history) and as fresh runs.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCENARIO = "current-policy"
MEMBERS = 20
WORKERS = 2
BUDGET_S = 120.0


def tournament_run(
    members: int = MEMBERS,
    workers: int = WORKERS,
    scenario: str = SCENARIO,
    ensemble: Path | None = None,
    scale: int | None = None,
) -> dict[str, Any]:
    """Time ``chipwar tournament`` end to end in a fresh process; a missing ensemble file is
    reported as skipped (with the command's own one-line reason), not as a failure."""
    with tempfile.TemporaryDirectory(prefix="chipwar-bench-tournament-") as folder:
        cmd = [sys.executable, "-m", "chipwar.runs.cli", "tournament", "--scenario", scenario]
        cmd += ["--members", str(members), "--workers", str(workers), "--out", folder]
        if ensemble is not None:
            cmd += ["--ensemble-file", str(ensemble)]
        if scale is not None:
            cmd += ["--scale", str(scale)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        result: dict[str, Any] = {
            "scenario": scenario,
            "members": members,
            "workers": workers,
            "scale": scale,
            "load_average": round(os.getloadavg()[0], 2),
        }
        if done.returncode == 2 and "ensemble" in done.stderr:
            return {**result, "skipped": done.stderr.strip().splitlines()[-1]}
        if done.returncode != 0:
            raise RuntimeError(f"tournament failed: {done.stderr.strip()[-400:]}")
        import pandas as pd

        table = pd.read_parquet(Path(folder) / "payoffs.parquet")
        runs = len(table)
        pairings = table[["us_doctrine", "china_doctrine"]].drop_duplicates().shape[0]
    return {
        **result,
        "pairings": pairings,
        "runs": runs,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "runs_per_s": round(runs / wall, 2),
        "budget_s": BUDGET_S,
        "within_budget": wall <= BUDGET_S,
    }


def profile_member(scenario: str = SCENARIO, until: str = "2028-12") -> dict[str, float]:
    """One member's 3x3 pairings in this process, without ensemble parameters: the tournament's
    way (one shared history, then a copy per pairing) against nine fresh runs, after a warm-up
    that loads the numba cache. Where the time goes, and what the shared history saves."""
    from chipwar.runs.experiments.tournament import doctrines_of, play, play_member
    from chipwar.world.scenario import load_scenario

    world = load_scenario(scenario)
    doctrines = doctrines_of(world)
    play(world, doctrines[0], doctrines[0], None, 1, until)  # warm-up
    started = time.perf_counter()
    shared = play_member(world, doctrines, doctrines, None, 0, until)
    middle = time.perf_counter()
    fresh = [play(world, a, b, None, 0, until) for a in doctrines for b in doctrines]
    done = time.perf_counter()
    if shared != fresh:
        raise AssertionError("the shared history changed a pairing's payoff components")
    return {
        "pairings": len(fresh),
        "shared_s": round(middle - started, 2),
        "fresh_s": round(done - middle, 2),
    }


def tournament_bench(ensemble: Path | None = None) -> dict[str, Any]:
    """The tournament bar: the command timed in a fresh process, then one member's pairings
    profiled here (skipped, with the reason, when there is no ensemble to draw from)."""
    result = tournament_run(ensemble=ensemble)
    if "skipped" not in result:
        result["member"] = profile_member()
    return result


def format_tournament(result: dict[str, Any]) -> str:
    """One line for the bench's report."""
    head = (
        f"tournament {result['scenario']}, {result.get('pairings', 9)} pairings x "
        f"{result['members']} members on "
        f"{result['workers']} workers (fresh process, load average {result['load_average']})"
    )
    if "skipped" in result:
        return f"{head}: skipped ({result['skipped']})"
    verdict = "within" if result["within_budget"] else "OVER"
    line = (
        f"{head}: {result['runs']} runs in {result['wall_s']:.1f} s "
        f"({result['runs_per_s']:.2f} runs/s), {verdict} the {result['budget_s']:.0f} s budget; "
        f"{result['cpu_s']:.1f} s of CPU in the process and its workers "
        f"({result['cpu_s'] / result['workers']:.1f} s per worker's core if none were shared)"
    )
    member = result.get("member")
    if member:
        line += (
            f"; one member's {member['pairings']} pairings in this process: "
            f"{member['shared_s']:.2f} s with one shared history, {member['fresh_s']:.2f} s as "
            "fresh runs"
        )
    return line
