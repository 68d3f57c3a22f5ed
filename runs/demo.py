"""`chipwar demo`: the paper's two 2028 worlds side by side, with bands, charts and a table.

Each world is an ensemble run (runs/core/ensemble_run.py): the calibrated members drawn from
world/data/ensemble.parquet, each with its own seed, on one executor for both worlds. The charts
draw the median and the 10-90% band over the members; each world's run folder holds its
representative member (the run nearest the medians), which the replay shows inside its bands.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from chipwar.runs.core import run_folder
from chipwar.runs.core.atomic import write_text_atomic
from chipwar.runs.core.ensemble_run import run_ensemble, warm_worker
from chipwar.runs.core.executors import open_executor
from chipwar.runs.core.replays import write_replay
from chipwar.runs.core.single_run import prepare_out_dir
from chipwar.runs.core.tables import bands_markdown, bands_table
from chipwar.viz.plots import plot_metric, plot_region_shares
from chipwar.viz.replay import ReplayOptions
from chipwar.world.ensemble import load_ensemble
from chipwar.world.scenario import load_scenario, with_overrides

DEMO_PRESETS = ("loopholes-closed", "porous")
DEMO_MEMBERS = 20


def run_demo(
    out: Path,
    seed: int = 0,
    scale: int | None = None,
    members: int | str = DEMO_MEMBERS,
    ensemble_file: Path | None = None,
    workers: int | None = None,
    dask: str | None = None,
) -> Path:
    """Run both presets as ensembles; write their run folders, a bands table, charts, a replay."""
    ensemble = load_ensemble(ensemble_file)  # before any work: a missing file is one line
    out = prepare_out_dir(out)
    started = time.perf_counter()
    runs, bands, summaries = {}, {}, {}
    with open_executor(workers, dask, warm=warm_worker) as info:
        for name in DEMO_PRESETS:
            scenario = load_scenario(name)
            if scale is not None:
                scenario = with_overrides(scenario, {"scale": scale}, source="--scale")
            print(
                f"running {name}: {members} members (seed {seed}, {scenario.scale:,} adopters, "
                f"{info.label}) ...",
                flush=True,
            )
            result = run_ensemble(scenario, ensemble, members, seed, info, progress=None)
            representative = result.representative
            run_folder.write(representative, out / name, members=result.members, bands=result.bands)
            representative.series.attrs["branch"] = scenario.branch
            runs[name] = representative.series
            bands[name] = result.bands
            summaries[name] = result.summary_bands
    count = len(result.members)  # the same draw for both worlds
    charts = [
        plot_metric(
            runs,
            "compute_gap",
            "Compute gap: US over China effective compute",
            "ratio (log scale)",
            out / "compute_gap.png",
            log=True,
            bands=bands,
            members=count,
        ),
        plot_metric(
            runs,
            "lead_months",
            "US frontier lead over China",
            "months",
            out / "lead_months.png",
            bands=bands,
            members=count,
        ),
        plot_region_shares(runs, out / "cn_share_by_region.png"),
    ]
    write_text_atomic(
        out / "comparison.md",
        "# chipwar demo: the two 2028 worlds\n\n"
        f"{count} calibrated parameter sets per world drawn from `{ensemble.path.name}` "
        f"(master seed {seed}), each run with its own seed: the 10th, 50th and 90th percentiles "
        "over them. Run folders (the member nearest the medians, with `bands.parquet` and "
        "`ensemble.parquet`): "
        + ", ".join(f"`{n}/`" for n in runs)
        + ".\n\n"
        + bands_markdown(summaries)
        + "\n"
        + "".join(f"![{c.stem}]({c.name})\n" for c in charts),
    )
    print()
    print(bands_table(summaries))
    # Side-by-side replay for talks: 720p MP4, one frame per month at 3 months a second.
    print("\nrendering the side-by-side replay ...", flush=True)
    replay = write_replay(
        [out / name for name in DEMO_PRESETS],
        out / "replay.mp4",
        ReplayOptions.make(),
        progress=sys.stderr.isatty(),
    )
    print(
        f"\nwrote {out}/: comparison.md, "
        + ", ".join(c.name for c in charts)
        + f", {replay.path.name} (both worlds side by side, {replay.frames} frames)"
        + f" and one run folder per scenario, in {time.perf_counter() - started:.1f} s"
    )
    return out
