"""`chipwar demo`: the paper's two 2028 worlds side by side, with charts and a table."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from chipwar.runs.core import run_folder
from chipwar.runs.core.atomic import write_text_atomic
from chipwar.runs.core.replays import write_replay
from chipwar.runs.core.single_run import prepare_out_dir, run_scenario
from chipwar.runs.core.tables import summary_markdown, summary_table
from chipwar.viz.plots import plot_metric, plot_region_shares
from chipwar.viz.replay import ReplayOptions
from chipwar.world.scenario import load_scenario, with_overrides

DEMO_PRESETS = ("loopholes-closed", "porous")


def run_demo(out: Path, seed: int = 0, scale: int | None = None) -> Path:
    """Run both presets, write their run folders, a comparison table and three charts."""
    out = prepare_out_dir(out)
    started = time.perf_counter()
    runs = {}
    for name in DEMO_PRESETS:
        scenario = load_scenario(name)
        if scale is not None:
            scenario = with_overrides(scenario, {"scale": scale}, source="--scale")
        print(f"running {name} (seed {seed}, {scenario.scale:,} adopters) ...", flush=True)
        result = run_scenario(scenario, seed)
        run_folder.write(result, out / name)
        result.series.attrs["branch"] = scenario.branch
        runs[name] = result.series
    charts = [
        plot_metric(
            runs,
            "compute_gap",
            "Compute gap: US over China effective compute",
            "ratio (log scale)",
            out / "compute_gap.png",
            log=True,
        ),
        plot_metric(
            runs, "lead_months", "US frontier lead over China", "months", out / "lead_months.png"
        ),
        plot_region_shares(runs, out / "cn_share_by_region.png"),
    ]
    table = summary_table(runs)
    write_text_atomic(
        out / "comparison.md",
        "# chipwar demo: the two 2028 worlds\n\n"
        f"Seed {seed}. Run folders: "
        + ", ".join(f"`{n}/`" for n in runs)
        + ".\n\n"
        + summary_markdown(runs)
        + "\n"
        + "".join(f"![{c.stem}]({c.name})\n" for c in charts),
    )
    print()
    print(table)
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
