"""`chipwar compare A B ...`: scenarios side by side over many seeds or calibrated members.

A comparison is an experiment whose one factor is the base scenario (a grid over the named
scenarios, ``--seeds`` replications with common seeds, so each seed meets every scenario): it runs
through the same executors and store as a sweep, and gets the same charts, plus a table. With
``--ensemble N`` the N replications draw members of the calibrated ensemble
(``uncertainty = "ensemble"``): each member meets every scenario, with its own seed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from chipwar.runs.core.atomic import write_text_atomic
from chipwar.runs.core.executors import ExecutorInfo
from chipwar.runs.core.run_folder import BAND_QUANTILES
from chipwar.runs.core.tables import TABLE_METRICS, metric_markdown
from chipwar.runs.experiments.analyze import analyze_sweep, load_sweep
from chipwar.runs.experiments.spec import (
    SCENARIO_FACTOR,
    Plan,
    experiment_from_dict,
    plan_experiment,
)
from chipwar.runs.experiments.sweep import SweepReport, run_sweep
from chipwar.world.ensemble import weighted_quantiles
from chipwar.world.errors import InputError

COMPARE_METRICS = ("lead_months", "compute_gap", "smuggled_h100e_cum", "countries_cn_majority")


def compare_plan(
    scenarios: list[str],
    seeds: int,
    seed: int = 0,
    scale: int | None = None,
    until: str | None = None,
    ensemble: bool = False,
    ensemble_file: Path | None = None,
) -> Plan:
    """The experiment behind a comparison (scenario factor x seeds, or x drawn members)."""
    if len(scenarios) < 2:
        raise InputError("compare", "scenarios", scenarios, "two or more scenarios")
    if len(set(scenarios)) != len(scenarios):
        raise InputError("compare", "scenarios", scenarios, "distinct scenarios")
    data = {
        "name": "compare",
        "description": "Scenarios side by side: " + " vs ".join(scenarios) + ".",
        "seed": seed,
        "replications": seeds,
        "factors": {SCENARIO_FACTOR: {"values": scenarios}},
        "design": {"kind": "grid"},
        "outputs": {"metrics": list(TABLE_METRICS)},
    }
    if scale is not None:
        data["scale"] = scale
    if until is not None:
        data["horizon"] = until
    if ensemble:
        data["uncertainty"] = "ensemble"
        data["description"] += f" {seeds} calibrated members, each with its own seed."
        if ensemble_file is not None:
            data["ensemble_file"] = str(Path(ensemble_file).resolve())
    spec = experiment_from_dict(data, "compare")
    return plan_experiment(spec, "compare", Path.cwd())


def compare_table(out: Path) -> pd.DataFrame:
    """Median and 10-90% range over seeds, per metric and date (rows) and scenario (columns)."""
    sweep = load_sweep(out)
    ok = sweep.ok
    rows: dict[str, dict[str, str]] = {}
    for date in sweep.manifest["dates"]:
        for metric, (label, fmt) in TABLE_METRICS.items():
            column = f"{metric}_{date.replace('-', '_')}"
            if column not in ok:
                continue
            row = rows.setdefault(f"{label} @ {date}", {})
            for name, group in ok.groupby(SCENARIO_FACTOR, sort=False):
                values = group[column].dropna()
                if values.empty:
                    row[str(name)] = "-"
                    continue
                quantiles = weighted_quantiles(
                    values.to_numpy(), None, list(BAND_QUANTILES.values())
                )
                low, mid, high = (fmt.format(q) for q in quantiles)
                row[str(name)] = mid if len(values) == 1 else f"{mid} [{low}, {high}]"
    frame = pd.DataFrame.from_dict(rows, orient="index")
    order = [s for s in sweep.manifest["scenarios"].values() if s in frame.columns]
    return frame[order]


def run_compare(plan: Plan, out: Path, info: ExecutorInfo, resume: bool = False) -> SweepReport:
    """Run the comparison, then write its charts, table and report into ``out``."""
    report = run_sweep(plan, out, info, resume=resume)
    table = compare_table(out)
    report_path = analyze_sweep(
        out,
        report_dir=out,
        metrics=[m for m in COMPARE_METRICS if m in plan.spec.outputs.metrics],
        most=len(plan.design),
        title="Comparison: " + " vs ".join(plan.scenarios),
    )
    text = report_path.read_text(encoding="utf-8")
    over = (
        f"{plan.spec.replications} calibrated member(s), each with its own seed"
        if plan.ensemble is not None
        else f"{plan.spec.replications} seed(s)"
    )
    intro = (
        f"## Headline metrics\n\nMedian over {over}, [10th, 90th percentile] in brackets "
        "(inverted-CDF quantiles, as the bands of `chipwar run --ensemble`).\n\n"
        + metric_markdown(table)
    )
    first_section = text.find("\n## ")
    text = (
        text[:first_section] + "\n" + intro + text[first_section:]
        if first_section >= 0
        else text + intro
    )
    write_text_atomic(report_path, text)
    print(table.to_string())
    return report
