"""How often each shock strikes a run, and how much shocks widen the spread of the 2028 outcomes.

Runs each preset over many seeds with shocks on and off (the same seeds, so the pairs share every
other draw) and prints: shocks per run by kind (mean, min-max) against the expectation from the
base rates, and the p10/p50/p90 of the 2028-12 compute gap and lead with and without shocks.

    .venv/bin/python tools/shock_spread.py --seeds 20 --scale 1000 porous loopholes-closed

``--only NAME`` keeps one shock (the others' rates scaled to 0), to see what each adds.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from chipwar.world.calendar import parse_month
from chipwar.world.model import ChipWarModel
from chipwar.world.scenario import load_scenario, with_overrides
from chipwar.world.shocks import shock_table

DATE = "2028-12"


def run(
    preset: str, seed: int, scale: int, shocks: bool, only: str | None = None
) -> tuple[dict, Counter]:
    settings = {"scale": scale, "shocks.enabled": 1.0 if shocks else 0.0}
    if only:
        settings |= {f"shocks.{s.name}": 0.0 for s in shock_table() if s.name != only}
    scenario = with_overrides(load_scenario(preset), settings)
    model = ChipWarModel(scenario, rng=seed)
    at = {}
    while model.running:
        model.step()
        if model.metrics["date"] == DATE:
            at = {k: model.metrics[k] for k in ("compute_gap", "lead_months")}
    counts = Counter(
        e["shock"] for e in model.event_log() if e["kind"] == "shock" and e["phase"] == "start"
    )
    return at, counts


def quantiles(values: list[float]) -> str:
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return f"{p10:7.3f} {p50:7.3f} {p90:7.3f}  (p90-p10 {p90 - p10:.3f}, {(p90 - p10) / p50:.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--only", default=None, help="keep only this shock")
    args = parser.parse_args()
    for preset in args.presets:
        scenario = load_scenario(preset)
        months = parse_month(scenario.end) - parse_month(scenario.branch) + 1
        on, off, counts = [], [], []
        for seed in range(args.seeds):
            result, count = run(preset, seed, args.scale, True, args.only)
            on.append(result)
            counts.append(count)
            off.append(run(preset, seed, args.scale, False)[0])
        only = f", only {args.only}" if args.only else ""
        print(f"\n{preset}: {args.seeds} seeds, scale {args.scale}, {months} forecast months{only}")
        print(f"  {'shock':26s} {'per run':>8s} {'min-max':>8s} {'expected':>9s}")
        for spec in shock_table():
            n = [c.get(spec.name, 0) for c in counts]
            expected = spec.rate_per_year * months / 12
            print(f"  {spec.name:26s} {np.mean(n):8.2f} {min(n):4d}-{max(n):<3d} {expected:9.2f}")
        for metric in ("compute_gap", "lead_months"):
            for label, results in (("without shocks", off), ("with shocks   ", on)):
                spread = quantiles([r[metric] for r in results])
                print(f"  {DATE} {metric:12s} p10/p50/p90 {label}: {spread}")


if __name__ == "__main__":
    main()
