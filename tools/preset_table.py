"""US and China compute (H100e) and power (GW) by preset and year (issue 14, closing note).

Why: physical scale is the first thing an analyst checks. For each preset the table gives, at the
end of 2025, 2027, 2028 and 2030 (mean over seeds): US and Chinese compute, the power they draw,
the world total, the largest run, the gap and the lead, and China's channels (smuggled since
2024, offshore rentable, licensed since 2024).

Usage (from the repository root)::

    .venv/bin/python tools/preset_table.py --seeds 5 --scale 1000 [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from _markdown import markdown

PRESETS = ("current-policy", "porous", "loopholes-closed")
DATES = ("2025-12", "2027-12", "2028-12", "2030-12")
COLUMNS = {
    "compute_us_h100e": "US H100e",
    "compute_cn_h100e": "CN H100e",
    "power_us_gw": "US GW",
    "power_cn_gw": "CN GW",
    "compute_world_h100e": "world H100e",
    "compute_gap": "gap",
    "lead_months": "lead",
    "largest_run_flop": "largest run FLOP",
    "smuggled_h100e_cum": "smuggled cum",
    "offshore_h100e": "offshore",
    "licensed_h100e_cum": "licensed cum",
}


def run_preset(preset: str, seed: int, scale: int) -> pd.DataFrame:
    from chipwar.runs.core.single_run import run_scenario
    from chipwar.world.scenario import load_scenario, with_overrides

    scenario = with_overrides(load_scenario(preset), {"scale": scale}, source="preset_table")
    series = run_scenario(scenario, seed).series
    rows = series[series["date"].isin(DATES)][["date", *COLUMNS]]
    return rows.assign(preset=preset, seed=seed)


def preset_table(seeds: range, scale: int, workers: int) -> pd.DataFrame:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        jobs = [executor.submit(run_preset, p, s, scale) for p in PRESETS for s in seeds]
        frame = pd.concat([job.result() for job in jobs])
    table = frame.groupby(["preset", "date"], sort=False)[list(COLUMNS)].mean().reset_index()
    return table.rename(columns=COLUMNS)


def _format(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.copy()
    for column in shown.columns:
        if column in ("preset", "date"):
            continue
        if column == "largest run FLOP":
            shown[column] = shown[column].map(lambda v: f"{v:.1e}")
        elif column in ("gap", "lead", "US GW", "CN GW"):
            shown[column] = shown[column].map(lambda v: f"{v:.1f}")
        else:
            shown[column] = shown[column].map(lambda v: f"{v / 1e6:.2f}M")
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    table = _format(preset_table(range(args.seeds), args.scale, args.workers))
    print(f"Mean of {args.seeds} seeds at scale {args.scale}:\n")
    print(markdown(table) if args.markdown else table.to_string(index=False))


if __name__ == "__main__":
    main()
