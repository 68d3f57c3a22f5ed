"""One lever at a time: each lever at 0 and at 1 from porous and from loopholes-closed (issue 14).

Why: a credible model has no single lever that decides everything. Starting from a preset, each
lever is set to 0 and to 1 at the branch (2026-06; every other lever keeps the preset's value) and
the compute gap and lead are read at 2028-12, mean over seeds. The table gives both values and the
change from 0 to 1. A second table answers the smuggling check of §3: with chip sales at 0,
enforcement 0 against 1, from each preset.

Usage (from the repository root; ~0.5 s a run at scale 1000, 2 worker processes)::

    .venv/bin/python tools/lever_table.py --seeds 3 --scale 1000 [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from _markdown import markdown

PRESETS = ("porous", "loopholes-closed")
AT = "2028-12"


def run_point(preset: str, settings: dict[str, float], seed: int, scale: int) -> dict[str, float]:
    """Gap, lead and the grey channels at 2028-12 for one preset with lever settings."""
    from chipwar.world.model import ChipWarModel

    overrides = {key.replace(".", "_", 1): value for key, value in settings.items()}
    model = ChipWarModel(preset, rng=seed, scale=scale, until=AT, **overrides)
    model.run_model()
    m = model.metrics
    return {
        "gap": m["compute_gap"],
        "lead": m["lead_months"],
        "smuggled_cum": m["smuggled_h100e_cum"],
        "offshore": m["offshore_h100e"],
        "licensed_cum": m["licensed_h100e_cum"],
    }


def _mean(executor, preset, settings, seeds, scale) -> dict[str, float]:
    jobs = [executor.submit(run_point, preset, settings, s, scale) for s in seeds]
    rows = [job.result() for job in jobs]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def lever_table(seeds: range, scale: int, workers: int) -> pd.DataFrame:
    from chipwar.world.levers import lever_keys

    context = multiprocessing.get_context("spawn")
    rows = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        for preset in PRESETS:
            base = _mean(executor, preset, {}, seeds, scale)
            for key in lever_keys():
                low = _mean(executor, preset, {key: 0.0}, seeds, scale)
                high = _mean(executor, preset, {key: 1.0}, seeds, scale)
                rows.append(
                    {
                        "from": preset,
                        "lever": key,
                        "gap_base": base["gap"],
                        "gap_at_0": low["gap"],
                        "gap_at_1": high["gap"],
                        "d_gap": high["gap"] - low["gap"],
                        "lead_base": base["lead"],
                        "lead_at_0": low["lead"],
                        "lead_at_1": high["lead"],
                        "d_lead": high["lead"] - low["lead"],
                    }
                )
    return pd.DataFrame(rows)


def enforcement_table(seeds: range, scale: int, workers: int) -> pd.DataFrame:
    """With chip sales at 0: enforcement 0 against 1, from each preset (the §3 check)."""
    context = multiprocessing.get_context("spawn")
    rows = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        for preset in PRESETS:
            for enforcement in (0.0, 1.0):
                settings = {"us.china_chip_sales": 0.0, "us.enforcement": enforcement}
                rows.append(
                    {
                        "from": preset,
                        "us.enforcement": enforcement,
                        **_mean(executor, preset, settings, seeds, scale),
                    }
                )
    table = pd.DataFrame(rows)
    for preset in PRESETS:
        part = table[table["from"] == preset]
        gaps = part["gap"].to_numpy()
        table.loc[part.index, "gap_change_pct"] = 100.0 * (gaps[1] - gaps[0]) / gaps[0]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()
    seeds = range(args.seeds)
    levers = lever_table(seeds, args.scale, args.workers)
    enforcement = enforcement_table(seeds, args.scale, args.workers)
    show = markdown if args.markdown else str
    print(f"One lever at a time, {AT}, mean of {args.seeds} seeds at scale {args.scale}:\n")
    print(show(levers.round(2)))
    print(f"\nChip sales 0; enforcement 0 against 1, {AT}:\n")
    print(show(enforcement.round(2)))


if __name__ == "__main__":
    main()
