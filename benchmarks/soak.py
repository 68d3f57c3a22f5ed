"""Memory soak: many consecutive small runs in one process, and what memory they leave behind.

A sweep worker or the dashboard runs thousands of models in one process, so every model must be
freed after its run. This runs ``runs`` small runs one after the other (the same
``run_scenario`` the command line uses, results dropped), and at checkpoints (after 10, 100 and
the last run by default) collects garbage and records:

- ``rss_mb``: resident memory of the process (Linux /proc), what the machine sees;
- ``traced_mb``: bytes Python's allocators hold for live objects (tracemalloc; numpy's buffers
  included), with ``--trace`` only: tracing slows the runs several times over;
- ``models_alive``: ChipWarModel objects still reachable (0 means every model was freed);
- ``objects``: objects tracked by the garbage collector.

Growth between the first and the last checkpoint is the leak, if any. RSS also moves with the
allocator's fragmentation, so judge it per run over many runs (a leaked model is about 0.5 MB).

    python -m chipwar.benchmarks.soak --runs 1000            # a few minutes (no tracing)
    python -m chipwar.benchmarks.soak --runs 1000 --trace    # also traced bytes; slower

(``chipwar bench --soak N`` runs the same soak with the default options.)
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from typing import Any

MB = 1e6


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def models_alive() -> int:
    from chipwar.world.model import ChipWarModel

    return sum(isinstance(obj, ChipWarModel) for obj in gc.get_objects())


def checkpoint(run: int, started: float) -> dict[str, Any]:
    gc.collect()
    row = {
        "run": run,
        "rss_mb": round(rss_bytes() / MB, 2),
        "models_alive": models_alive(),
        "objects": len(gc.get_objects()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if tracemalloc.is_tracing():
        row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / MB, 3)
    return row


def soak(
    runs: int = 1000,
    scale: int = 1000,
    until: str = "2024-06",
    checkpoints: tuple[int, ...] = (10, 100),
    trace: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``runs`` small runs in this process; memory at the checkpoints (and after the last)."""
    from chipwar.runs.core.single_run import run_scenario
    from chipwar.world.scenario import Scenario

    scenario = Scenario.model_validate(
        {"name": "soak", "history": False, "branch": "2024-01", "scale": scale}
    )
    marks = sorted({c for c in checkpoints if c < runs} | {runs})
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    rows = []
    try:
        for run in range(1, runs + 1):
            run_scenario(scenario, seed=run, until=until)
            if run in marks:
                rows.append(checkpoint(run, started))
                if progress:
                    print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        if trace:
            tracemalloc.stop()
    first, last = rows[0], rows[-1]
    span = max(last["run"] - first["run"], 1)
    report: dict[str, Any] = {
        "runs": runs,
        "scale": scale,
        "until": until,
        "checkpoints": rows,
        "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 2),
        "rss_growth_kb_per_run": round(1000 * (last["rss_mb"] - first["rss_mb"]) / span, 2),
        "models_alive_at_end": last["models_alive"],
    }
    if trace:
        growth = last["traced_mb"] - first["traced_mb"]
        report["traced_growth_mb"] = round(growth, 3)
        report["traced_growth_kb_per_run"] = round(1000 * growth / span, 3)
    return report


def format_report(report: dict[str, Any]) -> str:
    traced = "traced_mb" in report["checkpoints"][0]
    head = "| after run | RSS (MB) |" + (" traced (MB) |" if traced else "")
    head += " models alive | GC objects |"
    lines = [
        f"Memory soak: {report['runs']} runs of {report['scale']} adopters to {report['until']}",
        "",
        head,
        "|---:|---:|" + ("---:|" if traced else "") + "---:|---:|",
    ]
    for row in report["checkpoints"]:
        cells = [str(row["run"]), f"{row['rss_mb']:.1f}"]
        if traced:
            cells.append(f"{row['traced_mb']:.2f}")
        cells += [str(row["models_alive"]), f"{row['objects']:,}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"RSS growth {report['rss_growth_mb']:+.1f} MB "
        f"({report['rss_growth_kb_per_run']:+.1f} KB per run)"
        + (
            f"; traced growth {report['traced_growth_mb']:+.2f} MB "
            f"({report['traced_growth_kb_per_run']:+.2f} KB per run)"
            if traced
            else ""
        )
        + f"; models alive at the end: {report['models_alive_at_end']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--until", default="2024-06")
    parser.add_argument("--every", type=int, default=0, help="also a checkpoint every N runs")
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report = soak(
        args.runs,
        args.scale,
        args.until,
        checkpoints=(10, 100, *range(args.every, args.runs, args.every or args.runs)),
        trace=args.trace,
        progress=True,
    )
    print(json.dumps(report) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
