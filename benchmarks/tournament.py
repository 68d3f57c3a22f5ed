"""The doctrine tournament's figure: a 3x3 tournament over 20 members, as a user runs it.

The command runs in a fresh process (``python -m chipwar.runs.cli tournament ...``), so the wall
time includes what a user waits for: the interpreter, the imports, the worker pool's start-up,
every run, the analysis and the files. The budget is two minutes on two cores. The timings of
one run (build and steps) come from one pairing profiled in this process, to say where the time
goes.
"""

from __future__ import annotations

import os
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
            cmd += ["--ensemble", str(ensemble)]
        if scale is not None:
            cmd += ["--scale", str(scale)]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
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
        "runs_per_s": round(runs / wall, 2),
        "budget_s": BUDGET_S,
        "within_budget": wall <= BUDGET_S,
    }


def profile_play(scenario: str = SCENARIO, until: str = "2028-12") -> dict[str, float]:
    """One pairing (hawk against hawk) without ensemble parameters in this process: seconds to
    build the model and to step it, after a warm-up run that loads the numba cache."""
    from chipwar.world.model import ChipWarModel
    from chipwar.world.scenario import load_scenario, with_players

    match = with_players(load_scenario(scenario), {"us": "hawk", "china": "hawk"})
    timings: dict[str, float] = {}
    for _ in range(2):  # the first loads the kernels; the second is timed
        started = time.perf_counter()
        model = ChipWarModel(match, rng=0, until=until)
        built = time.perf_counter()
        while model.running:
            model.step()
            model.observe()
        timings = {
            "build_s": round(built - started, 3),
            "steps_s": round(time.perf_counter() - built, 3),
            "months": model.months,
        }
    return timings


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
        f"({result['runs_per_s']:.2f} runs/s), {verdict} the {result['budget_s']:.0f} s budget"
    )
    play = result.get("play")
    if play:
        line += (
            f"; one run in this process: build {play['build_s']:.2f} s + {play['months']} months "
            f"{play['steps_s']:.2f} s"
        )
    return line
