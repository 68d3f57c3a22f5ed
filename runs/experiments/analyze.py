"""`chipwar analyze`: what a sweep says, from its store alone.

Fan charts (median and 10-90% band over seeds) by design point, heatmaps over two factors, Sobol
first- and total-order indices (SALib) for ``sobol`` designs, scenario discovery with PRIM (EMA
Workbench) for a condition such as ``lead_months>=12``, and a markdown report linking the figures.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chipwar.runs.core.atomic import write_text_atomic
from chipwar.runs.core.run_folder import branch_of
from chipwar.runs.core.textdoc import md_frame
from chipwar.runs.experiments import store
from chipwar.runs.experiments.spec import (
    SCENARIO_FACTOR,
    Experiment,
    experiment_from_dict,
    is_categorical,
    metric_column,
    sobol_problem,
)
from chipwar.viz.sweep_plots import plot_fans, plot_heatmap, plot_prim_tradeoff, plot_sobol
from chipwar.world.errors import InputError
from chipwar.world.reporters import MODEL_COLUMNS
from chipwar.world.validation import read_toml

PREFERRED_METRICS = ("lead_months", "compute_gap", "countries_cn_majority")
LOG_METRICS = {"compute_gap"}
QUANTILES = (0.1, 0.5, 0.9)
CONDITION = re.compile(
    r"^\s*(?P<metric>[a-z][a-z0-9_]*)(?:@(?P<date>\d{4}-\d{2}))?\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
OPERATORS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


@dataclass(frozen=True)
class Condition:
    """A scenario-discovery condition on one metric at one date."""

    metric: str
    date: str
    op: str
    threshold: float

    @property
    def column(self) -> str:
        return metric_column(self.metric, self.date)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g} at {self.date}"


def parse_condition(text: str, metrics: list[str], dates: list[str]) -> Condition:
    """Parse ``METRIC[@YYYY-MM](<|<=|>|>=)NUMBER`` against what the sweep recorded."""
    match = CONDITION.match(text)
    if not match:
        raise InputError("--prim", "condition", text, "METRIC<THRESHOLD, e.g. lead_months>=12")
    metric = match["metric"]
    if metric not in metrics:
        raise InputError(
            "--prim", "metric", metric, "one recorded by the sweep: " + ", ".join(metrics)
        )
    date = match["date"] or dates[0]
    if date not in dates:
        raise InputError("--prim", "date", date, "a date the sweep recorded: " + ", ".join(dates))
    value = float(match["value"])
    if not math.isfinite(value):
        raise InputError("--prim", "threshold", match["value"], "a finite number")
    return Condition(metric, date, match["op"], value)


@dataclass
class Sweep:
    """A sweep folder, loaded."""

    out: Path
    manifest: dict[str, Any]
    spec: Experiment
    design: pd.DataFrame
    runs: pd.DataFrame

    @property
    def factors(self) -> list[str]:
        return list(self.manifest["factors"])

    @property
    def ok(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == store.STATUS_OK]

    @property
    def complete(self) -> bool:
        return len(self.runs) == int(self.manifest["runs"])


def load_sweep(out: Path) -> Sweep:
    out = Path(out)
    if not out.is_dir():
        raise InputError("analyze", "DIR", str(out), "a folder written by chipwar sweep")
    manifest = store.read_manifest(out)
    spec = experiment_from_dict(read_toml(out / "experiment.toml"), str(out / "experiment.toml"))
    return Sweep(out, manifest, spec, store.read_design(out), store.read_runs(out))


@dataclass
class Analysis:
    """What ``analyze`` found; the report is written from it."""

    figures: list[tuple[str, Path]] = field(default_factory=list)
    sobol: dict[str, pd.DataFrame] = field(default_factory=dict)
    prim: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    points: pd.DataFrame | None = None


def _short(name: str) -> str:
    return name.split(".", 1)[-1] if name != SCENARIO_FACTOR else name


def point_label(design_row: pd.Series, factors: list[str]) -> str:
    """A short legend label: the scenario name, or ``p12: enforcement=0.31, kyc=0.7``."""
    if factors == [SCENARIO_FACTOR]:
        return str(design_row[SCENARIO_FACTOR])
    parts = []
    for name in factors:
        value = design_row[name]
        shown = value if isinstance(value, str) else f"{float(value):.3g}"
        parts.append(f"{_short(name)}={shown}")
    text = ", ".join(parts)
    if len(text) > 70:
        text = text[:67] + "..."
    return f"p{int(design_row['point'])}: {text}" if text else f"p{int(design_row['point'])}"


def point_summary(sweep: Sweep, columns: list[str]) -> pd.DataFrame:
    """Per design point: factor values, finished and failed runs, median/p10/p90 of each column."""
    design = sweep.design.set_index("point")
    grouped = sweep.ok.groupby("point")
    table = design.copy()
    table["runs_ok"] = grouped.size().reindex(design.index, fill_value=0)
    failed = sweep.runs[sweep.runs["status"] != store.STATUS_OK].groupby("point").size()
    table["runs_failed"] = failed.reindex(design.index, fill_value=0)
    for column in columns:
        quantiles = grouped[column].quantile(list(QUANTILES)).unstack()
        for q in QUANTILES:
            values = quantiles[q] if q in quantiles else pd.Series(dtype=float)
            table[f"{column}_p{int(q * 100)}"] = values.reindex(design.index)
    return table.reset_index()


def _fan(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    quantiles = frame.groupby("date")[metric].quantile(list(QUANTILES)).unstack()
    quantiles.columns = [f"q{int(q * 100)}" for q in QUANTILES]
    return quantiles.reset_index()


def choose_points(summary: pd.DataFrame, column: str, most: int) -> list[int]:
    """All points if few; else points spread over the range of the point medians."""
    if len(summary) <= most:
        return [int(p) for p in summary["point"]]
    ranked = summary.dropna(subset=[f"{column}_p50"]).sort_values(f"{column}_p50", kind="stable")
    if ranked.empty:
        return []
    picks = np.linspace(0, len(ranked) - 1, min(most, len(ranked))).round().astype(int)
    return [int(ranked["point"].iloc[i]) for i in dict.fromkeys(picks)]


def fan_charts(
    sweep: Sweep, metrics: list[str], at: str, report_dir: Path, most: int, analysis: Analysis
) -> None:
    series = store.read_series(sweep.out, columns=metrics)
    if series.empty:
        analysis.notes.append("No finished run has a series yet: no fan charts.")
        return
    summary = point_summary(sweep, [metric_column(m, at) for m in metrics if _recorded(sweep, m)])
    design = sweep.design.set_index("point", drop=False)
    for metric in metrics:
        column = metric_column(metric, at)
        if f"{column}_p50" in summary:
            chosen = choose_points(summary, column, most)
        else:
            chosen = [int(p) for p in summary["point"][:most]]
        fans = {
            point_label(design.loc[p], sweep.factors): _fan(series[series["point"] == p], metric)
            for p in chosen
            if (series["point"] == p).any()
        }
        many = len(summary) > most
        note = (
            f"{len(chosen)} of {len(summary)} design points, spread over the range of the "
            f"median {metric} at {at}; grey: all {series['run_id'].nunique()} runs"
            if many
            else f"bands: 10-90% over {sweep.spec.replications} seed(s) per point"
        )
        path = plot_fans(
            branch=_branch(sweep),
            fans=fans,
            title=f"{metric} by design point",
            ylabel=MODEL_COLUMNS.get(metric, metric)[:90],
            path=report_dir / f"fan_{metric}.png",
            log=metric in LOG_METRICS,
            ensemble=_fan(series, metric) if many else None,
            note=note,
        )
        analysis.figures.append((f"Fan chart: {metric}", path))


def _branch(sweep: Sweep) -> str | None:
    """The branch date of the (first) base scenario, if its levers start there."""
    import tomllib

    try:
        data = tomllib.loads((sweep.out / "scenarios" / "00.toml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return branch_of(data)


def _recorded(sweep: Sweep, metric: str) -> bool:
    return metric in sweep.manifest["metrics"]


def _bins(values: pd.Series, n_bins: int = 8) -> pd.Series:
    """Levels as they are if few; else equal-width bins labelled by their centres."""
    if values.nunique() <= 12 or not pd.api.types.is_numeric_dtype(values):
        return values
    low, high = float(values.min()), float(values.max())
    edges = np.linspace(low, high, n_bins + 1)
    centres = [float(f"{(a + b) / 2:.3g}") for a, b in itertools.pairwise(edges)]
    return pd.cut(values, edges, labels=centres, include_lowest=True)


def heatmaps(
    sweep: Sweep, metrics: list[str], at: str, pair: tuple[str, str], report_dir: Path, a: Analysis
) -> None:
    x, y = pair
    ok = sweep.ok
    if ok.empty:
        return
    for metric in metrics:
        column = metric_column(metric, at)
        frame = pd.DataFrame({"x": _bins(ok[x]), "y": _bins(ok[y]), "v": ok[column]})
        table = frame.pivot_table(
            index="y", columns="x", values="v", aggfunc="mean", observed=False
        )
        others = [f for f in sweep.factors if f not in pair]
        title = f"Mean {metric} at {at}"
        if others:
            title += " (averaged over the other factors)"
        path = plot_heatmap(
            table,
            title,
            x,
            y,
            f"{metric}",
            report_dir / f"heatmap_{metric}_{_short(x)}_{_short(y)}.png",
        )
        a.figures.append((f"Heatmap: {metric} over {x} and {y}", path))


def sobol_indices(sweep: Sweep, metric: str, at: str) -> pd.DataFrame:
    """First- and total-order Sobol indices of a metric (mean over seeds at each point)."""
    from SALib.analyze import sobol

    if sweep.spec.design.kind != "sobol":
        raise InputError(
            "--sobol", "design", sweep.spec.design.kind, "a sweep whose design.kind is sobol"
        )
    if not sweep.complete:
        raise InputError(
            "--sobol",
            "runs",
            f"{len(sweep.runs)} of {sweep.manifest['runs']}",
            "a finished sweep (resume it first)",
        )
    column = metric_column(metric, at)
    y = sweep.ok.groupby("point")[column].mean().reindex(sweep.design["point"])
    missing = int(y.isna().sum())
    if missing:
        raise InputError(
            "--sobol", "runs", f"{missing} design points without a finished run", "none missing"
        )
    problem = sobol_problem(sweep.spec)
    if float(np.var(y.to_numpy())) == 0.0:
        zeros = np.zeros(problem["num_vars"])
        result: dict[str, Any] = {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
    else:
        with np.errstate(all="ignore"):
            result = sobol.analyze(
                problem,
                y.to_numpy(),
                calc_second_order=sweep.spec.design.second_order,
                print_to_console=False,
                seed=int(sweep.spec.seed % 2**32),
            )
    table = pd.DataFrame(
        {
            "factor": problem["names"],
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )
    return table.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def prim_box(sweep: Sweep, condition: Condition, min_density: float = 0.8) -> dict[str, Any]:
    """Scenario discovery: the box of factor values where the condition mostly holds (PRIM)."""
    ok = sweep.ok.dropna(subset=[condition.column])
    x = ok[sweep.factors].rename(columns={SCENARIO_FACTOR: "base_scenario"}).reset_index(drop=True)
    y = OPERATORS[condition.op](ok[condition.column].to_numpy(), condition.threshold)
    found: dict[str, Any] = {
        "condition": str(condition),
        "runs": len(ok),
        "cases": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else math.nan,
    }
    if not len(y) or y.all() or not y.any():
        found["note"] = (
            f"the condition holds in {int(y.sum())} of {len(y)} finished runs; "
            "PRIM needs runs on both sides"
        )
        return found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.WARNING)
        from ema_workbench.analysis import prim

        box = prim.Prim(
            x, y.astype(int), peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05
        ).find_box()
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    dense = trajectory[trajectory["density"] >= min_density]
    chosen = (
        int(dense["coverage"].idxmax()) if not dense.empty else int(trajectory["density"].idxmax())
    )
    limits, initial = box.box_lims[chosen], box.box_lims[0]
    quasi_p = {
        name: min((v for v in values if v >= 0), default=math.nan)
        for name, values in box.p_values[chosen].items()
    }
    rows = []
    for name in x.columns:
        low, high = limits[name].iloc[0], limits[name].iloc[1]
        full_low, full_high = initial[name].iloc[0], initial[name].iloc[1]
        if isinstance(low, set):
            if low != full_low:
                rows.append(
                    {
                        "factor": name,
                        "box": ", ".join(sorted(map(str, low))),
                        "full range": ", ".join(sorted(map(str, full_low))),
                        "quasi-p": quasi_p.get(name, math.nan),
                    }
                )
            continue
        if (low, high) != (full_low, full_high):
            rows.append(
                {
                    "factor": name,
                    "box": f"{float(low):.3g} .. {float(high):.3g}",
                    "full range": f"{float(full_low):.3g} .. {float(full_high):.3g}",
                    "quasi-p": quasi_p.get(name, math.nan),
                }
            )
    stats = trajectory.iloc[chosen]
    found.update(
        chosen=chosen,
        coverage=float(stats["coverage"]),
        density=float(stats["density"]),
        mass=float(stats["mass"]),
        limits=pd.DataFrame(rows, columns=["factor", "box", "full range", "quasi-p"]),
        trajectory=trajectory[["coverage", "density", "mass", "res_dim"]],
    )
    return found


def _md_table(frame: pd.DataFrame) -> str:
    return md_frame(frame, cell=_cell)


def _cell(value: Any) -> str:
    """Floats to three significant digits, a missing one left blank."""
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else f"{value:.3g}"
    return str(value)


def _spread(row: pd.Series, column: str, replications: int) -> str:
    mid = row.get(f"{column}_p50", math.nan)
    if not np.isfinite(mid):
        return ""
    if replications == 1:
        return f"{mid:.3g}"
    return f"{mid:.3g} [{row[f'{column}_p10']:.3g}, {row[f'{column}_p90']:.3g}]"


def default_metrics(sweep: Sweep) -> list[str]:
    recorded = list(sweep.manifest["metrics"])
    preferred = [m for m in PREFERRED_METRICS if m in recorded]
    return preferred or recorded[:2]


def analyze_sweep(
    out: Path,
    report_dir: Path | None = None,
    metrics: list[str] | None = None,
    at: str | None = None,
    sobol: bool = False,
    prim: list[str] | None = None,
    heatmap: tuple[str, str] | None = None,
    most: int = 6,
    title: str | None = None,
) -> Path:
    """Write figures, tables and ``report.md`` for a sweep folder; return the report's path."""
    sweep = load_sweep(out)
    dates = list(sweep.manifest["dates"])
    at = at or dates[0]
    if at not in dates:
        raise InputError("--at", "at", at, "a date the sweep recorded: " + ", ".join(dates))
    recorded = list(sweep.manifest["metrics"])
    metrics = metrics or default_metrics(sweep)
    for metric in metrics:
        if metric not in recorded:
            raise InputError("--metric", "metric", metric, "one recorded: " + ", ".join(recorded))
    conditions = [parse_condition(text, recorded, dates) for text in prim or ()]
    numeric = [f for f in sweep.factors if not is_categorical(f)]
    if heatmap is not None:
        for name in heatmap:
            if name not in sweep.factors:
                raise InputError(
                    "--heatmap", "factor", name, "a factor: " + ", ".join(sweep.factors)
                )
    report_dir = store_dir = Path(report_dir or Path(out) / "analysis")
    from chipwar.runs.core.single_run import prepare_out_dir

    prepare_out_dir(store_dir)
    analysis = Analysis()
    if sobol:
        for metric in metrics:
            table = sobol_indices(sweep, metric, at)
            analysis.sobol[metric] = table
            table.to_csv(report_dir / f"sobol_{metric}.csv", index=False)
            path = plot_sobol(
                table, f"Sobol indices: {metric} at {at}", report_dir / f"sobol_{metric}.png"
            )
            analysis.figures.append((f"Sobol indices: {metric}", path))
    fan_charts(sweep, metrics, at, report_dir, most, analysis)
    pair = heatmap
    if pair is None and len(numeric) >= 2:
        if analysis.sobol:
            ranked = list(next(iter(analysis.sobol.values()))["factor"])
            pair = (ranked[0], ranked[1])
        else:
            pair = (numeric[0], numeric[1])
    if pair is not None:
        heatmaps(sweep, metrics, at, pair, report_dir, analysis)
    for i, condition in enumerate(conditions):
        found = prim_box(sweep, condition)
        analysis.prim.append(found)
        if "trajectory" in found:
            found["trajectory"].to_csv(report_dir / f"prim_{i}.csv", index=False)
            path = plot_prim_tradeoff(
                found["trajectory"],
                found["chosen"],
                f"PRIM: {condition}",
                report_dir / f"prim_{i}.png",
            )
            analysis.figures.append((f"PRIM trade-off: {condition}", path))
    columns = [metric_column(m, at) for m in metrics]
    analysis.points = point_summary(sweep, columns)
    analysis.points.to_csv(report_dir / "points.csv", index=False)
    path = report_dir / "report.md"
    write_text_atomic(path, render_report(sweep, analysis, metrics, at, title))
    return path


def render_report(
    sweep: Sweep, analysis: Analysis, metrics: list[str], at: str, title: str | None
) -> str:
    spec, manifest = sweep.spec, sweep.manifest
    n_ok = len(sweep.ok)
    n_failed = len(sweep.runs) - n_ok
    lines = [
        f"# {title or 'Sweep ' + spec.name}",
        "",
        spec.description.strip(),
        "",
        f"- design: **{spec.design.kind}**, {manifest['points']} points x "
        f"{spec.replications} replication(s) = {manifest['runs']} runs; "
        f"horizon {manifest['horizon']}",
        f"- factors: {', '.join(sweep.factors) or '(none)'}",
        f"- finished: {n_ok} ok, {n_failed} failed"
        + ("" if sweep.complete else f", {int(manifest['runs']) - len(sweep.runs)} not yet run"),
        f"- metrics at {at}: {', '.join(metrics)}",
        "",
    ]
    for note in analysis.notes:
        lines += [f"> {note}", ""]
    if analysis.sobol:
        lines += ["## Sobol sensitivity indices", ""]
        lines += [
            "First order (S1): share of the variance explained by the factor alone; total (ST): "
            "including all its interactions. Confidence: 95% bootstrap half-widths.",
            "",
        ]
        for metric, table in analysis.sobol.items():
            lines += [f"### {metric} at {at}", "", _md_table(table)]
    for found in analysis.prim:
        lines += [f"## Scenario discovery (PRIM): {found['condition']}", ""]
        lines.append(
            f"The condition holds in {found['cases']} of {found['runs']} finished runs "
            f"(base rate {found['base_rate']:.0%})."
        )
        if "note" in found:
            lines += ["", f"No box: {found['note']}.", ""]
            continue
        lines += [
            f" Chosen box (trajectory step {found['chosen']}): coverage {found['coverage']:.0%}, "
            f"density {found['density']:.0%}, mass {found['mass']:.0%}.",
            "",
        ]
        limits = found["limits"]
        lines += [_md_table(limits) if not limits.empty else "The box restricts no factor.\n"]
        if not limits.empty:
            lines += [
                "A restriction with quasi-p above 0.05 is not significant (Bryant and Lempert, "
                "2010): the condition does not depend on that factor's range.",
                "",
            ]
    if analysis.points is not None and not analysis.points.empty:
        column = metric_column(metrics[0], at)
        points = analysis.points
        lines += ["## Design points", ""]
        shown = points
        if len(points) > 20 and f"{column}_p50" in points:
            ranked = points.sort_values(f"{column}_p50", kind="stable")
            shown = pd.concat([ranked.head(5), ranked.tail(5)])
            lines += [f"The 5 lowest and 5 highest of {len(points)} points by median {column}.", ""]
        table = shown[["point", *sweep.factors, "runs_ok", "runs_failed"]].copy()
        for metric in metrics:
            table[metric] = [
                _spread(row, metric_column(metric, at), sweep.spec.replications)
                for _, row in shown.iterrows()
            ]
        if sweep.spec.replications > 1:
            lines += ["Metrics: median over seeds [10th, 90th percentile].", ""]
        lines += [_md_table(table), "All points: `points.csv`.", ""]
    if n_failed:
        failed = sweep.runs[sweep.runs["status"] != store.STATUS_OK].head(10)
        lines += ["## Failed runs", ""]
        lines += [
            f"- run {r.run_id} (point {r.point}, seed {r.seed}): `{r.error}`"
            for r in failed.itertuples()
        ]
        lines.append("")
    if analysis.figures:
        lines += ["## Figures", ""]
        for caption, figure in analysis.figures:
            lines += [f"![{caption}]({figure.name})", ""]
    return "\n".join(lines).rstrip() + "\n"
