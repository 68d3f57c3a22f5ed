"""Checks of the governments' official stacks across presets and seeds (issue 14, section 4).

Why: the stack choice is noisy and path dependent, so its checks are statements about shares of
seeds, not about one run. This script runs every preset over a set of seeds and reports:

1. allies: no US treaty ally or major non-NATO ally is on the Chinese stack (at any month) in
   more than 10% of the seeds of any preset;
2. inertia: official changes average at most 0.3 per choosing government per year;
3. contrast: porous has at least 5 more control-preferring Global South governments on the
   Chinese stack than loopholes-closed at 2028-12 (median over seeds);

and the governments on the Chinese stack in each preset at 2028-12 and 2030-12 (the median count
over seeds, and those in more than half of the seeds). China, Hong Kong and Macao are not
foreign governments and are never counted.

Usage (from the repository root; ~4 s per run at scale 5000)::

    .venv/bin/python tools/government_checks.py --seeds 20 --scale 5000 [--json PATH]

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chipwar.agents.buyer import BEIJING, FIXED_STACK
from chipwar.world.adoption import STACK_CN
from chipwar.world.alignment import load_alignment
from chipwar.world.countries import REGIONS, load_countries
from chipwar.world.model import ChipWarModel
from chipwar.world.targets import CONTROL_REGIMES, GLOBAL_SOUTH

PRESETS = ("current-policy", "porous", "loopholes-closed")
DATES = ("2028-12", "2030-12")
ALLY_SHARE_MAX = 0.10
CHANGES_PER_YEAR_MAX = 0.3
CONTRAST_MIN = 5


@dataclass
class PresetRuns:
    """What the checks need from the runs of one preset: stacks by month, changes per run."""

    preset: str
    official: list[np.ndarray] = field(default_factory=list)  # per seed: (months, countries)
    dates: list[str] = field(default_factory=list)
    changes: list[int] = field(default_factory=list)


def run_preset(
    preset: str, seeds: range, scale: int, overrides: dict[str, float] | None = None
) -> PresetRuns:
    """Run one preset over the seeds, keeping each month's official stacks."""
    out = PresetRuns(preset)
    for seed in seeds:
        model = ChipWarModel(preset, rng=seed, scale=scale, **(overrides or {}))
        months: list[np.ndarray] = []
        dates: list[str] = []
        while model.running:
            model.step()
            months.append(np.array([b.official for b in model.buyers], dtype=np.int8))
            dates.append(str(model.metrics["date"]))
        out.official.append(np.stack(months))
        out.dates = dates
        out.changes.append(sum(1 for e in model.events if e["kind"] == "stack_flip"))
    return out


def summarise(runs: dict[str, PresetRuns]) -> dict[str, Any]:
    """The three checks and the Chinese-stack lists, as plain data."""
    countries = load_countries()
    alignment = load_alignment(countries)
    iso = [str(code) for code in countries.iso]
    foreign = np.array([code not in BEIJING for code in iso])
    choosing = int(sum(code not in FIXED_STACK for code in iso))
    south = {REGIONS.index(r) for r in GLOBAL_SOUTH}
    control = foreign & np.array(
        [
            int(reg) in CONTROL_REGIMES and int(region) in south
            for reg, region in zip(countries.regime, countries.region_index, strict=True)
        ]
    )
    allies = alignment.us_ally & foreign
    report: dict[str, Any] = {"presets": {}}
    worst_ally = 0.0
    worst_rate = 0.0
    for preset, r in runs.items():
        stacks = np.stack(r.official)  # (seeds, months, countries)
        cn = stacks == STACK_CN
        years = stacks.shape[1] / 12.0
        rate = float(np.mean(r.changes)) / (choosing * years)
        ever = cn.any(axis=1).mean(axis=0)  # share of seeds in which a country is ever CN
        ally_rows = {iso[i]: round(float(ever[i]), 3) for i in np.flatnonzero(allies) if ever[i]}
        entry: dict[str, Any] = {
            "changes_per_government_year": round(rate, 4),
            "changes_per_run_mean": float(np.mean(r.changes)),
            "allies_ever_cn_share": dict(sorted(ally_rows.items(), key=lambda kv: -kv[1])),
            "max_ally_share": max(ally_rows.values(), default=0.0),
        }
        for date in DATES:
            t = r.dates.index(date)
            at = cn[:, t, :] & foreign
            share = at.mean(axis=0)
            entry[date] = {
                "count_median": float(np.median(at.sum(axis=1))),
                "control_median": float(np.median((at & control).sum(axis=1))),
                "control_by_seed": (at & control).sum(axis=1).tolist(),
                "in_most_seeds": [iso[i] for i in np.flatnonzero(share > 0.5)],
                "share_of_seeds": {
                    iso[i]: round(float(share[i]), 2) for i in np.flatnonzero(share > 0)
                },
            }
        report["presets"][preset] = entry
        worst_ally = max(worst_ally, entry["max_ally_share"])
        worst_rate = max(worst_rate, rate)
    checks: dict[str, Any] = {
        "allies": {
            "value": worst_ally,
            "limit": ALLY_SHARE_MAX,
            "ok": worst_ally <= ALLY_SHARE_MAX,
        },
        "inertia": {
            "value": round(worst_rate, 4),
            "limit": CHANGES_PER_YEAR_MAX,
            "ok": worst_rate <= CHANGES_PER_YEAR_MAX,
        },
    }
    if "porous" in runs and "loopholes-closed" in runs:
        porous = report["presets"]["porous"]["2028-12"]["control_by_seed"]
        closed = report["presets"]["loopholes-closed"]["2028-12"]["control_by_seed"]
        diff_of_medians = float(np.median(porous) - np.median(closed))
        median_of_diffs = float(np.median(np.subtract(porous, closed)))
        checks["contrast"] = {
            "value": diff_of_medians,
            "median_of_paired_differences": median_of_diffs,
            "limit": CONTRAST_MIN,
            "ok": diff_of_medians >= CONTRAST_MIN,
        }
    if "porous" in runs:
        # The porous_spread target of targets.toml (a check, not one of this script's three):
        # control-preferring governments on the Chinese stack, 2028-12 minus 2026-05.
        r = runs["porous"]
        cn = np.stack(r.official) == STACK_CN
        start, end = r.dates.index("2026-05"), r.dates.index("2028-12")
        change = (cn[:, end, :] & control).sum(axis=1) - (cn[:, start, :] & control).sum(axis=1)
        report["porous_spread"] = {
            "median": float(np.median(change)),
            "by_seed": change.tolist(),
            "target_range": [5, 200],
        }
    report["checks"] = checks
    return report


def print_report(report: dict[str, Any], seeds: int, scale: int) -> None:
    print(f"# Government checks: {seeds} seeds, scale {scale}")
    for preset, e in report["presets"].items():
        print(f"\n## {preset}")
        print(
            f"official changes: {e['changes_per_run_mean']:.1f} per run, "
            f"{e['changes_per_government_year']:.3f} per government per year"
        )
        allies = ", ".join(f"{k} {v:.2f}" for k, v in e["allies_ever_cn_share"].items())
        print(f"allies ever on the Chinese stack (share of seeds): {allies or 'none'}")
        for date in DATES:
            d = e[date]
            print(
                f"{date}: median {d['count_median']:.0f} foreign governments on the Chinese stack"
                f" ({d['control_median']:.0f} control-preferring Global South); in >50% of seeds:"
                f" {' '.join(d['in_most_seeds']) or 'none'}"
            )
            rest = {k: v for k, v in d["share_of_seeds"].items() if v <= 0.5}
            if rest:
                print("  in <=50% of seeds: " + ", ".join(f"{k} {v:.2f}" for k, v in rest.items()))
    if "porous_spread" in report:
        spread = report["porous_spread"]
        print(
            f"\nporous_spread (targets.toml check, range 5-200): median {spread['median']:.0f}"
            f" (by seed {spread['by_seed']})"
        )
    print("\n## checks")
    for name, c in report["checks"].items():
        extra = {k: v for k, v in c.items() if k not in ("value", "limit", "ok")}
        print(
            f"{name}: {c['value']} (limit {c['limit']}) {'OK' if c['ok'] else 'FAIL'} {extra or ''}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--scale", type=int, default=5000)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--json", help="also write the report as JSON here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter or lever (as ChipWarModel keywords), e.g. buyer_switch_cost=0.4",
    )
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = float(value)
    runs = {p: run_preset(p, range(args.seeds), args.scale, overrides) for p in args.presets}
    report = summarise(runs)
    print_report(report, args.seeds, args.scale)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    return 0 if all(c["ok"] for c in report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
