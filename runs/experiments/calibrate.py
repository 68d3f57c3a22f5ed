"""`chipwar calibrate`: fit the free parameters to the fitting targets, and check all targets.

Fitting: a Latin-hypercube scan of the free parameters' documented ranges, then Nelder-Mead from
the best point, each candidate scored on the same seeds (common random numbers) at a small adopter
scale (compute and capability do not depend on the adoption field). Checking: the presets over many
seeds at their own scale, reporting for every target the share of seeds inside its range.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import re
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from tqdm import tqdm

from chipwar.world.parameters import parameter_table
from chipwar.world.targets import Target, load_targets, summarise_values

FIT_SCALE = 1_000
FIT_UNTIL = "2028-12"
PASS_SHARE = 0.8  # a target passes when this share of seeds lands inside its range
CENTRE_PULL = 0.05  # weight of the distance from central values inside the accepted ranges
MARGIN = 0.05  # the fit aims inside the inner 90% of each range, so that seed noise stays inside


def calibration_file() -> Path:
    return Path(str(files("chipwar.world") / "data" / "calibration.toml"))


def parameters_file() -> Path:
    return Path(str(files("chipwar.world") / "data" / "parameters.toml"))


def fit_parameter_names() -> list[str]:
    names = tomllib.loads(calibration_file().read_text())["fit_parameters"]
    table = parameter_table()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"calibration.toml names unknown parameters: {unknown}")
    return names


# --- one run, measured (runs in worker processes) ---
def measure_run(
    preset: str,
    seed: int,
    params: dict[str, float],
    scale: int | None,
    until: str | None,
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Run one preset with parameter overrides and measure the targets read from it (all of
    them, or only ``names``: a fit stops at FIT_UNTIL, before some check targets' dates)."""
    from chipwar.runs.core.single_run import run_scenario
    from chipwar.world.scenario import load_scenario, with_overrides

    overrides: dict[str, float] = {f"params.{k}": v for k, v in params.items()}
    if scale is not None:
        overrides["scale"] = scale
    scenario = with_overrides(load_scenario(preset), overrides, source="calibrate")
    result = run_scenario(scenario, seed, until)
    values = {}
    for target in load_targets():
        if target.preset == preset and (names is None or target.name in names):
            values[target.name] = target.measure_on(result.series, result.countries)
    return values


@dataclass
class Evaluation:
    """Targets measured over seeds for one parameter vector."""

    params: dict[str, float]
    values: dict[str, list[float]]  # target name -> one value per seed

    def score(self, targets: Sequence[Target]) -> float:
        terms = []
        for target in targets:
            runs = self.values[target.name]
            miss = np.mean([target.miss(v, margin=MARGIN) ** 2 for v in runs])
            centre = np.mean([target.off_centre(v) ** 2 for v in runs])
            terms.append(miss + CENTRE_PULL * centre)
        return float(np.mean(terms))


def evaluate(
    params: dict[str, float],
    seeds: Sequence[int],
    executor: Executor,
    targets: Sequence[Target],
    scale: int | None,
    until: str | None,
) -> Evaluation:
    presets = sorted({t.preset for t in targets})
    names = [t.name for t in targets]
    jobs = {
        (preset, seed): executor.submit(measure_run, preset, seed, params, scale, until, names)
        for preset in presets
        for seed in seeds
    }
    values: dict[str, list[float]] = {t.name: [] for t in targets}
    for (_preset, _seed), job in jobs.items():
        for name, value in job.result().items():
            if name in values:
                values[name].append(value)
    return Evaluation(dict(params), values)


# --- fitting ---
@dataclass
class FitResult:
    best: Evaluation
    score: float
    evaluations: int
    history: list[tuple[dict[str, float], float]]


def fit(
    seeds: Sequence[int],
    evaluations: int,
    executor: Executor,
    progress: bool = True,
    rng_seed: int = 0,
) -> FitResult:
    """Latin hypercube over the free parameters' ranges, then Nelder-Mead from the best point."""
    from scipy.optimize import minimize
    from scipy.stats import qmc

    table = parameter_table()
    names = fit_parameter_names()
    low = np.array([table[n].min for n in names])
    high = np.array([table[n].max for n in names])
    targets = [t for t in load_targets() if t.use == "fit"]
    history: list[tuple[dict[str, float], float]] = []
    cache: dict[tuple[float, ...], Evaluation] = {}
    bar = tqdm(total=evaluations, desc="calibrate", unit="eval", disable=not progress)

    def to_params(unit: np.ndarray) -> dict[str, float]:
        point = low + np.clip(unit, 0.0, 1.0) * (high - low)
        return {n: float(f"{v:.4g}") for n, v in zip(names, point, strict=True)}

    def objective(unit: np.ndarray) -> float:
        params = to_params(unit)
        key = tuple(params.values())
        if key not in cache:
            cache[key] = evaluate(params, seeds, executor, targets, FIT_SCALE, FIT_UNTIL)
            score = cache[key].score(targets)
            history.append((params, score))
            bar.update()
            bar.set_postfix(best=f"{min(s for _, s in history):.4f}")
        return cache[key].score(targets)

    start = np.array(
        [(table[n].value - table[n].min) / (table[n].max - table[n].min) for n in names]
    )
    scan = max(evaluations // 3, 1)
    sampler = qmc.LatinHypercube(d=len(names), seed=rng_seed)
    candidates = [start, *sampler.random(scan - 1)]
    for unit in candidates:
        objective(unit)
    best_unit = min(candidates, key=objective)
    remaining = evaluations - len(history)
    if remaining > 0:
        minimize(
            objective,
            best_unit,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * len(names),
            options={
                "maxfev": remaining,
                "xatol": 1e-3,
                "fatol": 1e-5,
                "initial_simplex": _simplex(best_unit, 0.15),
            },
        )
    bar.close()
    best_params, best_score = min(history, key=lambda item: item[1])
    return FitResult(cache[tuple(best_params.values())], best_score, len(history), history)


def _simplex(centre: np.ndarray, step: float) -> np.ndarray:
    points = [centre]
    for k in range(len(centre)):
        point = centre.copy()
        point[k] = point[k] + step if point[k] + step <= 1.0 else point[k] - step
        points.append(point)
    return np.array(points)


def write_fitted_values(result: FitResult, seeds: Sequence[int]) -> None:
    """Put the fitted values into parameters.toml and record the fit in calibration.toml."""
    path = parameters_file()
    text = path.read_text()
    for name, value in result.best.params.items():
        pattern = re.compile(rf"(\[{re.escape(name)}\]\nvalue = )[^\n]+")
        text, count = pattern.subn(rf"\g<1>{value!r}", text)
        if count != 1:
            raise RuntimeError(f"could not find parameter {name} in {path}")
    path.write_text(text)
    parameter_table.cache_clear()
    record = tomllib.loads(calibration_file().read_text())
    record["last_fit"] = {
        "date": dt.date.today().isoformat(),
        "score": round(result.score, 6),
        "evaluations": result.evaluations,
        "seeds": list(seeds),
        "scale": FIT_SCALE,
        "values": result.best.params,
    }
    header = "".join(
        line + "\n" for line in calibration_file().read_text().splitlines() if line.startswith("#")
    )
    calibration_file().write_text(header + tomli_w.dumps(record))


# --- checking ---
def check(
    seeds: Sequence[int], executor: Executor, scale: int | None = None, progress: bool = True
) -> pd.DataFrame:
    """Every target over the given seeds at the presets' own scale: share inside, median, band."""
    targets = load_targets()
    presets = sorted({t.preset for t in targets})
    jobs = [
        executor.submit(measure_run, preset, seed, {}, scale, None)
        for preset in presets
        for seed in seeds
    ]
    values: dict[str, list[float]] = {t.name: [] for t in targets}
    for job in tqdm(jobs, desc="check", unit="run", disable=not progress):
        for name, value in job.result().items():
            values[name].append(value)
    rows = []
    for target in targets:
        stats = summarise_values(target, values[target.name])
        rows.append(
            {
                "target": target.name,
                "use": target.use,
                "preset": target.preset,
                "lower": target.lower,
                "upper": target.upper,
                "central": target.central,
                **stats,
                "values": values[target.name],
                "description": target.description,
                "source": target.source,
            }
        )
    return pd.DataFrame(rows)


def report(table: pd.DataFrame, out: Path, title: str) -> Path:
    """Markdown report with one chart per target (values over seeds against the range)."""
    from chipwar.viz.calibration_plots import plot_target

    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# {title}",
        "",
        f"Written {dt.datetime.now():%Y-%m-%d %H:%M}.",
        "",
        "| target | use | preset | wanted | median (10-90%) | inside | pass |",
        "|---|---|---|---|---|---:|---|",
    ]
    for row in table.itertuples():
        passed = row.inside_share >= PASS_SHARE
        lines.append(
            f"| {row.target} | {row.use} | {row.preset} | {_fmt(row.lower)}–{_fmt(row.upper)} "
            f"(~{_fmt(row.central)}) | {_fmt(row.median)} ({_fmt(row.p10)}–{_fmt(row.p90)}) "
            f"| {row.inside_share:.0%} | {'pass' if passed else 'FAIL'} |"
        )
    lines += ["", "A target passes when at least 80% of seeds fall inside its range.", ""]
    for row in table.itertuples():
        chart = plot_target(row._asdict(), out / f"{row.target}.png")
        lines += [
            f"## {row.target}",
            "",
            f"{row.description}. Source: {row.source}.",
            "",
            f"![{row.target}]({chart.name})",
            "",
        ]
    table.drop(columns=["values"]).to_csv(out / "targets.csv", index=False)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out / "report.md"


def echo_family_path(report_path: Path, echo: Callable[[str], None]) -> None:
    """Append the porous-to-closed lever-family path to the report and print it."""
    from chipwar.runs.experiments.attribution import family_path

    path = family_path()
    columns = [
        "step",
        "compute_gap",
        "compute_gap_change",
        "lead_months",
        "lead_months_change",
        "countries_official_cn",
    ]
    text = path[columns].to_string(index=False, float_format=lambda v: f"{v:.2f}")
    with report_path.open("a") as handle:
        handle.write("\n## From porous to loopholes-closed, one lever family at a time\n\n")
        handle.write("Mean of 3 seeds at 2028-12 (scale 1,000).\n\n```\n" + text + "\n```\n")
    echo(
        "\nfrom porous to loopholes-closed, one lever family at a time (2028-12, mean of 3 seeds):"
    )
    echo(text)


def _fmt(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = abs(value)
    if magnitude >= 1e5:
        return f"{value:,.0f}" if magnitude < 1e9 else f"{value:.2e}"
    return f"{value:.3g}"


def make_executor(workers: int) -> Executor:
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def run_calibrate(args: Any, echo: Callable[[str], None] = print) -> int:
    """The command: fit (default) or --check, then write the report."""
    seeds = list(range(args.seeds))
    if not args.check:
        with make_executor(args.workers) as executor:
            result = fit(seeds, args.evaluations, executor)
        write_fitted_values(result, seeds)
        echo(f"best score {result.score:.5f} after {result.evaluations} evaluations:")
        for name, value in result.best.params.items():
            echo(f"  {name} = {value:g}")
    # Fresh worker processes, so that every run reads the parameter file as it is now.
    with make_executor(args.workers) as executor:
        scale = args.scale if args.check else FIT_SCALE
        table = check(seeds, executor, scale=scale)
    title = "chipwar calibration check" if args.check else "chipwar calibration fit"
    path = report(table, args.report, f"{title} ({len(seeds)} seeds)")
    if args.check:
        echo_family_path(path, echo)
    shown = table[["target", "use", "lower", "upper", "median", "p10", "p90", "inside_share"]]
    echo(shown.to_string(index=False, float_format=lambda v: _fmt(v)))
    echo(f"\nwrote {path}")
    return 0
