"""`chipwar calibrate`: fit the free parameters to the fitting targets, and check all targets.

Fitting: a Latin-hypercube scan of the free parameters' documented ranges, then Nelder-Mead from
the best point, each candidate scored on the same seeds (common random numbers) at a small adopter
scale (compute and capability do not depend on the adoption field). Checking: the presets over many
seeds at their own scale, reporting for every target the share of seeds inside its range.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import tomli_w
from tqdm import tqdm

from chipwar.runs.core.atomic import write_bytes_atomic, write_text_atomic
from chipwar.runs.core.executors import ExecutorInfo, Progress, open_executor, run_all
from chipwar.runs.experiments import abc
from chipwar.world.ensemble import FIT_KEY, default_path, weighted_quantiles
from chipwar.world.parameters import parameter_table
from chipwar.world.targets import Target, load_targets, summarise_values

FIT_SCALE = 1_000
FIT_UNTIL = "2028-12"
PASS_SHARE = 0.8  # a target passes when this share of seeds lands inside its range
CENTRE_PULL = 0.05  # weight of the distance from central values inside the accepted ranges
MARGIN = 0.05  # the fit aims inside the inner 90% of each range, so that seed noise stays inside


FITTED_HEADER = """\
# The fitted parameter values and the record of the fit that found them, written whole by
# `chipwar calibrate` (runs/experiments/calibrate.py): refit rather than edit. world/parameters.py
# reads [values] over parameters.toml, which keeps each parameter's range, unit and source.
# Which parameters are fitted, and to what, is in calibration.toml and targets.toml.

"""


def calibration_file() -> Path:
    return Path(str(files("chipwar.world") / "data" / "calibration.toml"))


def fitted_file() -> Path:
    return Path(str(files("chipwar.world") / "data" / "fitted.toml"))


def fit_parameter_names() -> list[str]:
    names = tomllib.loads(calibration_file().read_text())["fit_parameters"]
    table = parameter_table()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"calibration.toml names unknown parameters: {unknown}")
    return names


# --- one run, measured (runs in worker processes) ---
class Measurement(NamedTuple):
    """One run to measure: a preset with parameter overrides (a task for the runner).

    ``names``: the targets to measure (all of the preset's when None); a fit stops at
    FIT_UNTIL, before some check targets' dates.
    """

    preset: str
    seed: int
    params: dict[str, float]
    scale: int | None
    until: str | None
    names: tuple[str, ...] | None = None


def measure_run(task: Measurement) -> dict[str, float]:
    """Run one preset with parameter overrides and measure the targets read from it."""
    from chipwar.runs.core.single_run import run_scenario
    from chipwar.world.scenario import load_scenario, with_overrides

    preset, seed, params, scale, until, names = task

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
    info: ExecutorInfo,
    targets: Sequence[Target],
    scale: int | None,
    until: str | None,
) -> Evaluation:
    """``targets`` measured on every seed's run of their presets, with ``params`` set."""
    presets = sorted({t.preset for t in targets})
    names = tuple(t.name for t in targets)
    tasks = [
        Measurement(preset, seed, params, scale, until, names)
        for preset in presets
        for seed in seeds
    ]
    values: dict[str, list[float]] = {t.name: [] for t in targets}
    for measured in run_all(measure_run, tasks, info):
        for name, value in measured.items():
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
    info: ExecutorInfo,
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
            cache[key] = evaluate(params, seeds, info, targets, FIT_SCALE, FIT_UNTIL)
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
    """Write the fitted values and the record of the fit to fitted.toml, atomically: a run that
    starts meanwhile reads the old values or the new ones, never half of each."""
    record = {
        "fit": {
            "date": dt.date.today().isoformat(),
            "score": round(result.score, 6),
            "evaluations": result.evaluations,
            "seeds": list(seeds),
            "scale": FIT_SCALE,
        },
        "values": dict(result.best.params),
    }
    write_text_atomic(fitted_file(), FITTED_HEADER + tomli_w.dumps(record))
    parameter_table.cache_clear()


# --- checking ---
def check(
    seeds: Sequence[int], info: ExecutorInfo, scale: int | None = None, progress: bool = True
) -> pd.DataFrame:
    """Every target over the given seeds at the presets' own scale: share inside, median, band."""
    targets = load_targets()
    presets = sorted({t.preset for t in targets})
    tasks = [Measurement(preset, seed, {}, scale, None) for preset in presets for seed in seeds]
    values: dict[str, list[float]] = {t.name: [] for t in targets}
    for measured in run_all(measure_run, tasks, info, Progress("check", show=progress)):
        for name, value in measured.items():
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
    from chipwar.runs.core.textdoc import md_table
    from chipwar.viz.calibration_plots import plot_target

    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# {title}",
        "",
        f"Written {dt.datetime.now():%Y-%m-%d %H:%M}.",
        "",
    ]
    rows = [
        [
            row.target,
            row.use,
            row.preset,
            f"{_fmt(row.lower)}–{_fmt(row.upper)} (~{_fmt(row.central)})",
            f"{_fmt(row.median)} ({_fmt(row.p10)}–{_fmt(row.p90)})",
            f"{row.inside_share:.0%}",
            "pass" if row.inside_share >= PASS_SHARE else "FAIL",
        ]
        for row in table.itertuples()
    ]
    headers = ["target", "use", "preset", "wanted", "median (10-90%)", "inside", "pass"]
    lines.append(md_table(headers, rows, [False] * 5 + [True, False]).rstrip("\n"))
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
    write_text_atomic(out / "targets.csv", table.drop(columns=["values"]).to_csv(index=False))
    write_text_atomic(out / "report.md", "\n".join(lines) + "\n")
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
    write_text_atomic(
        report_path,
        report_path.read_text(encoding="utf-8")
        + "\n## From porous to loopholes-closed, one lever family at a time\n\n"
        + "Mean of 3 seeds at 2028-12 (scale 1,000).\n\n```\n"
        + text
        + "\n```\n",
    )
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


def run_calibrate(
    *,
    check_only: bool,
    seeds: int,
    evaluations: int,
    workers: int,
    scale: int | None,
    report_dir: Path,
    echo: Callable[[str], None] = print,
) -> int:
    """The command: fit (unless ``check_only``) on ``seeds`` seeds within ``evaluations`` runs
    of the objective, then check every target (at ``scale`` adopters when only checking) and
    write the report to ``report_dir``."""
    seed_list = list(range(seeds))
    if not check_only:
        with open_executor(workers) as info:
            result = fit(seed_list, evaluations, info)
        write_fitted_values(result, seed_list)
        echo(f"best score {result.score:.5f} after {result.evaluations} evaluations:")
        for name, value in result.best.params.items():
            echo(f"  {name} = {value:g}")
    # Fresh worker processes (or this one, its parameter table re-read after the fit), so that
    # every run reads the parameter files as they are now.
    with open_executor(workers) as info:
        table = check(seed_list, info, scale=scale if check_only else FIT_SCALE)
    title = "chipwar calibration check" if check_only else "chipwar calibration fit"
    path = report(table, report_dir, f"{title} ({len(seed_list)} seeds)")
    if check_only:
        echo_family_path(path, echo)
    shown = table[["target", "use", "lower", "upper", "median", "p10", "p90", "inside_share"]]
    echo(shown.to_string(index=False, float_format=lambda v: _fmt(v)))
    echo(f"\nwrote {path}")
    return 0


# --- the ensemble (ABC-SMC over the fit parameters' ranges) ---
LOG_PRIOR_SPAN = 100.0  # a range whose max/min is at least this gets a log-uniform prior
ENSEMBLE_KEY = FIT_KEY  # the file's reader (world/ensemble.py) owns its format
ensemble_file = default_path


@dataclass(frozen=True)
class Prior:
    """Uniform (or log-uniform, ``log``) over a fit parameter's [min, max] in parameters.toml."""

    name: str
    low: float
    high: float
    log: bool

    def from_unit(self, u: float) -> float:
        if self.log:
            return float(
                math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
            )
        return float(self.low + u * (self.high - self.low))


def priors() -> list[Prior]:
    table = parameter_table()
    out = []
    for name in fit_parameter_names():
        low, high = float(table[name].min), float(table[name].max)
        out.append(Prior(name, low, high, low > 0 and high / low >= LOG_PRIOR_SPAN))
    return out


def target_misses(
    draws: Sequence[dict[str, float]],
    seeds: Sequence[int],
    info: ExecutorInfo,
    targets: Sequence[Target],
    scale: int,
    progress: Progress | None = None,
) -> np.ndarray:
    """(draws, targets): each target's miss (Target.miss, range widths; 0 inside), the mean over
    seeds, every draw's runs handed to the one runner together."""
    presets = sorted({t.preset for t in targets})
    names = tuple(t.name for t in targets)
    tasks = [
        Measurement(preset, seed, params, scale, FIT_UNTIL, names)
        for params in draws
        for preset in presets
        for seed in seeds
    ]
    measured = run_all(measure_run, tasks, info, progress)
    per_draw = len(presets) * len(seeds)
    out = np.zeros((len(draws), len(targets)))
    for i in range(len(draws)):
        values: dict[str, list[float]] = {t.name: [] for t in targets}
        for m in measured[i * per_draw : (i + 1) * per_draw]:
            for name, value in m.items():
                values[name].append(value)
        for j, target in enumerate(targets):
            out[i, j] = float(np.mean([target.miss(v) for v in values[target.name]]))
    return out


def distance(misses: np.ndarray) -> np.ndarray:
    """Root mean square of the targets' misses: 0 exactly when every target is inside its range."""
    return np.sqrt(np.mean(misses**2, axis=1))


def fit_ensemble(
    settings: abc.AbcSettings,
    seeds: Sequence[int],
    info: ExecutorInfo,
    scale: int = FIT_SCALE,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """The ensemble table (member, weight, one column per fit parameter, distance) and its fit
    record, by ABC-SMC against the fit targets."""
    from scipy import __version__ as scipy_version

    prior = priors()
    targets = [t for t in load_targets() if t.use == "fit"]
    bar = tqdm(total=settings.draws, desc="ensemble", unit="draw", disable=not progress)

    def simulate(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        draws = [
            {p.name: p.from_unit(float(u)) for p, u in zip(prior, row, strict=True)} for row in unit
        ]
        misses = target_misses(draws, seeds, info, targets, scale)
        bar.update(len(draws))
        return distance(misses), misses

    result = abc.abc_smc(simulate, len(prior), settings)
    bar.close()
    table = pd.DataFrame({"member": np.arange(settings.members, dtype=np.int64)})
    table["weight"] = result.weights.astype(np.float64)
    for k, p in enumerate(prior):
        table[p.name] = [p.from_unit(float(u)) for u in result.points[:, k]]
    table["distance"] = result.distances.astype(np.float64)
    inside = result.misses <= settings.final_tolerance
    shares = {t.name: round(float(inside[:, j].mean()), 4) for j, t in enumerate(targets)}
    binding = sorted(shares, key=lambda name: shares[name])[:3]
    record = {
        "method": "ABC-SMC (Beaumont et al. 2009; Toni et al. 2009), adaptive tolerances",
        "library": f"own implementation (numpy {np.__version__}, scipy {scipy_version})",
        "settings": {
            "members": settings.members,
            "draw_budget": settings.draws,
            "quantile": settings.quantile,
            "final_tolerance": settings.final_tolerance,
            "max_generations": settings.max_generations,
            "rng_seed": settings.seed,
            "kernel": "Gaussian, 2x weighted population covariance, in the unit cube",
            "distance": "rms over fit targets of Target.miss (range widths, log if the target is)",
            "priors": {
                p.name: ("log-uniform" if p.log else "uniform", p.low, p.high) for p in prior
            },
            "until": FIT_UNTIL,
        },
        "tolerances": result.tolerances,
        "complete": result.complete,
        "draws": result.draws,
        "generations": len(result.tolerances),
        "accepted": result.accepted_final,
        "draws_final_generation": result.draws_final,
        "acceptance_rate_final_generation": round(result.accepted_final / result.draws_final, 4),
        "target_inside_share": shares,
        "binding_targets": binding,
        "date": dt.date.today().isoformat(),
        "seeds": list(seeds),
        "scale": scale,
    }
    return table, record


def write_ensemble(table: pd.DataFrame, record: dict, path: Path) -> None:
    """Parquet with the fit record as JSON under ``chipwar.fit``, through the one atomic writer."""
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[ENSEMBLE_KEY] = json.dumps(record, sort_keys=True).encode()
    buffer = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(meta), buffer)
    write_bytes_atomic(path, buffer.getvalue())


def run_ensemble(
    *,
    members: int,
    draws: int,
    seeds: int,
    scale: int,
    workers: int,
    out: Path,
    rng_seed: int = 0,
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> int:
    """The command `calibrate --ensemble`: fit, write ``out``, print the figures."""
    settings = abc.AbcSettings(members=members, draws=draws, seed=rng_seed)
    seed_list = list(range(seeds))
    with open_executor(workers) as info:
        table, record = fit_ensemble(settings, seed_list, info, scale, progress)
    write_ensemble(table, record, out)
    echo(
        f"{members} members from {record['draws']} draws in {record['generations']} generations "
        f"(tolerances {record['tolerances']}); last generation accepted "
        f"{record['accepted']} of {record['draws_final_generation']} "
        f"({record['acceptance_rate_final_generation']:.0%})"
        + ("" if record["complete"] else "; BUDGET SPENT before the final tolerance")
    )
    echo(f"binding targets (fewest draws inside): {', '.join(record['binding_targets'])}")
    for name, share in sorted(record["target_inside_share"].items(), key=lambda kv: kv[1]):
        echo(f"  {name}: {share:.0%} of draws inside")
    params = [c for c in table.columns if c not in ("member", "weight", "distance")]
    # the members' spread as the ensemble is drawn: each member counts by its weight
    quantiles = pd.DataFrame(
        [weighted_quantiles(table[p], table["weight"], (0.1, 0.5, 0.9)) for p in params],
        index=params,
        columns=["p10", "p50", "p90"],
    )
    echo("member parameters, weighted:")
    echo(quantiles.to_string(float_format=lambda v: _fmt(v)))
    echo(f"wrote {out}")
    return 0
