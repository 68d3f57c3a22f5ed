"""Experiment specs: what to run, as data (EMA Workbench style), separate from how it is run.

A spec names a base scenario, the factors to vary (levers such as ``us.enforcement``, model
parameters as ``params.NAME``, whole base scenarios as ``scenario``, or the doctrine a role is
played with as ``doctrine.ROLE``: a categorical factor whose values are personality names, or
``none`` for the scenario's exogenous levers), a design that turns the
factors into design points (``grid``, ``lhs``, ``sobol`` or an explicit ``table``), replications
(seeds per point from one master seed via ``numpy.random.SeedSequence.spawn``), the horizon and the
outputs to keep. :func:`plan_experiment` resolves a spec into the exact list of runs; the same spec
always gives the same runs, whichever executor later runs them.

With ``uncertainty = "ensemble"`` each replication also draws a calibrated member
(world/ensemble.py): its parameters apply to the run, except those the spec fixes in ``set`` or
varies as factors; with common seeds a replication meets every point with the same member.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from chipwar.runs.core.run_folder import metric_column, summary_dates
from chipwar.world.calendar import parse_month
from chipwar.world.ensemble import Ensemble, load_ensemble
from chipwar.world.errors import InputError
from chipwar.world.levers import lever_keys
from chipwar.world.parameters import parameter_table
from chipwar.world.reporters import HEADLINE_METRICS, MODEL_COLUMNS
from chipwar.world.roles import ALL_ROLE_IDS
from chipwar.world.scenario import (
    DATA_START,
    DOCTRINE_PREFIX,
    MAX_SCALE,
    MIN_SCALE,
    Scenario,
    check_doctrine_choice,
    levers_wait_warning,
    load_scenario,
    preset_names,
    with_overrides,
)
from chipwar.world.validation import input_error_from, read_toml

MAX_RUNS = 1_000_000
MAX_SEED = 2**63
SCENARIO_FACTOR = "scenario"

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Month = Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Factor(_Strict):
    """One factor: explicit ``values``, or a ``range`` [low, high] (``levels`` for grids)."""

    values: list[Number | StrictStr] | None = Field(default=None, min_length=1, max_length=10_000)
    range: tuple[Number, Number] | None = None
    levels: StrictInt | None = Field(default=None, ge=2, le=1000)


class Design(_Strict):
    """How factors become design points."""

    kind: Literal["grid", "lhs", "sobol", "table"] = "grid"
    samples: StrictInt | None = Field(default=None, ge=1, le=MAX_RUNS)
    second_order: StrictBool = False
    levels: StrictInt = Field(default=3, ge=2, le=1000)
    points: list[dict[str, Number | StrictStr]] | None = Field(default=None, min_length=1)


class Outputs(_Strict):
    """What each run keeps besides its model-level series (always kept)."""

    metrics: list[StrictStr] = Field(default_factory=lambda: list(HEADLINE_METRICS), min_length=1)
    dates: list[Month] | None = Field(default=None, min_length=1, max_length=100)
    countries: StrictBool = False


class Experiment(_Strict):
    """An experiment spec file, validated (shapes here; meanings in :func:`check_experiment`)."""

    name: str = Field(default="experiment", min_length=1, max_length=80, pattern=r"^[^/\\\x00]+$")
    description: str = ""
    scenario: StrictStr = Field(default="current-policy", min_length=1, max_length=500)
    scale: StrictInt | None = Field(default=None, ge=MIN_SCALE, le=MAX_SCALE)
    horizon: Month | None = None
    seed: StrictInt = Field(default=0, ge=0, lt=MAX_SEED)
    replications: StrictInt = Field(default=1, ge=1, le=10_000)
    seeds: Literal["common", "independent"] = "common"
    # None or "seeds": replications differ by seed only; "ensemble": each draws a member.
    uncertainty: Literal["seeds", "ensemble"] | None = None
    ensemble_file: StrictStr | None = Field(default=None, min_length=1, max_length=500)
    set: dict[str, Number | StrictStr] = Field(default_factory=dict)
    factors: dict[str, Factor] = Field(default_factory=dict, max_length=64)
    design: Design = Field(default_factory=Design)
    outputs: Outputs = Field(default_factory=Outputs)

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class Bounds:
    """What a factor key may hold."""

    low: float
    high: float
    kind: Literal["number", "integer", "scenario", "doctrine"]
    what: str


def is_categorical(key: str) -> bool:
    """Factors whose values are names (a base scenario, a doctrine), not numbers."""
    return key == SCENARIO_FACTOR or key.startswith(DOCTRINE_PREFIX)


def factor_bounds(key: str) -> Bounds | None:
    """Allowed values of a factor or ``set`` key, or None if the key is unknown."""
    if key == SCENARIO_FACTOR:
        return Bounds(0, 0, "scenario", "preset names or scenario file paths")
    if key.startswith(DOCTRINE_PREFIX) and key.removeprefix(DOCTRINE_PREFIX) in ALL_ROLE_IDS:
        return Bounds(
            0,
            0,
            "doctrine",
            "personality names (hawk, pragmatist, dove, a doctrine of the scenario) or none",
        )
    if key == "scale":
        return Bounds(
            MIN_SCALE, MAX_SCALE, "integer", f"whole numbers in [{MIN_SCALE}, {MAX_SCALE}]"
        )
    if key in lever_keys():
        return Bounds(0.0, 1.0, "number", "numbers in [0, 1] (a lever)")
    if key.startswith("params."):
        spec = parameter_table().get(key.removeprefix("params."))
        if spec is not None:
            return Bounds(spec.min, spec.max, "number", f"numbers in [{spec.min:g}, {spec.max:g}]")
    return None


def _known_keys() -> str:
    return (
        f"{SCENARIO_FACTOR}, scale, a lever ({', '.join(lever_keys())}), params.NAME or "
        f"{DOCTRINE_PREFIX}ROLE (ROLE one of {', '.join(ALL_ROLE_IDS)})"
    )


def _pydantic_error(err: ValidationError, source: str) -> InputError:
    """One-line error; drop pydantic's union-member tags from the field path."""
    error = input_error_from(err, source)
    parts = [p for p in error.field.split(".") if p not in ("float", "str", "int", "bool")]
    return InputError(source, ".".join(parts) or "(top level)", error.value, error.allowed)


def experiment_from_dict(data: Any, source: str) -> Experiment:
    """Validate a parsed spec: shapes (pydantic), then meanings; InputError on the first fault."""
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", type(data).__name__, "a TOML table")
    try:
        spec = Experiment.model_validate(data)
    except ValidationError as err:
        raise _pydantic_error(err, source) from None
    check_experiment(spec, source)
    return spec


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate a spec file (TOML only; nothing in it is ever evaluated)."""
    return experiment_from_dict(read_toml(path), str(path))


def _check_value(key: str, value: float | str, bounds: Bounds, source: str, field: str) -> None:
    if bounds.kind in ("scenario", "doctrine"):
        if not isinstance(value, str):
            raise InputError(source, field, value, bounds.what)
        return
    if isinstance(value, str):
        raise InputError(source, field, value, f"{key} takes {bounds.what}")
    if not bounds.low <= value <= bounds.high:
        raise InputError(source, field, value, f"{key} takes {bounds.what}")
    if bounds.kind == "integer" and value != int(value):
        raise InputError(source, field, value, f"{key} takes {bounds.what}")


def check_experiment(spec: Experiment, source: str) -> None:
    """Meaning checks that need the lever and parameter tables (InputError naming the field)."""
    for key, value in spec.set.items():
        bounds = factor_bounds(key)
        if bounds is None or bounds.kind == "scenario":
            raise InputError(
                source, f"set.{key}", key, "a lever, params.NAME, doctrine.ROLE (or scale)"
            )
        _check_value(key, value, bounds, source, f"set.{key}")
        if key in spec.factors:
            raise InputError(source, f"set.{key}", value, "a key that is not also a factor")
    if spec.horizon is not None:
        _check_month(spec.horizon, source, "horizon")
    for i, date in enumerate(spec.outputs.dates or ()):
        _check_month(date, source, f"outputs.dates.{i}")
    metrics = [m for m in MODEL_COLUMNS if m != "date"]
    for i, metric in enumerate(spec.outputs.metrics):
        if metric not in metrics:
            raise InputError(source, f"outputs.metrics.{i}", metric, "one of " + ", ".join(metrics))
    kind = spec.design.kind
    for key, factor in spec.factors.items():
        field = f"factors.{key}"
        bounds = factor_bounds(key)
        if bounds is None:
            raise InputError(source, field, key, "a factor key: " + _known_keys())
        if (factor.values is None) == (factor.range is None):
            raise InputError(source, field, "values and range", "exactly one of values or range")
        if factor.values is not None:
            for i, value in enumerate(factor.values):
                _check_value(key, value, bounds, source, f"{field}.values.{i}")
            if len(set(factor.values)) != len(factor.values):
                raise InputError(source, f"{field}.values", factor.values, "distinct values")
            if kind in ("lhs", "sobol"):
                raise InputError(
                    source,
                    f"{field}.values",
                    factor.values,
                    f"a range [low, high] in a {kind} design",
                )
        else:
            low, high = factor.range  # type: ignore[misc]
            if bounds.kind != "number":
                raise InputError(source, f"{field}.range", factor.range, f"values: {bounds.what}")
            for value in (low, high):
                _check_value(key, value, bounds, source, f"{field}.range")
            if not low < high:
                raise InputError(
                    source, f"{field}.range", [low, high], "[low, high] with low < high"
                )
        if factor.levels is not None and (factor.range is None or kind != "grid"):
            raise InputError(source, f"{field}.levels", factor.levels, "only with range in a grid")
    _check_design(spec, source)
    if spec.ensemble_file is not None and spec.uncertainty != "ensemble":
        raise InputError(
            source, "ensemble_file", spec.ensemble_file, 'only with uncertainty = "ensemble"'
        )
    if count_points(spec) * spec.replications > MAX_RUNS:
        raise InputError(
            source, "replications", spec.replications, f"at most {MAX_RUNS:,} runs in all"
        )


def _check_month(text: str, source: str, field: str) -> None:
    try:
        parse_month(text)
    except ValueError:
        raise InputError(source, field, text, "a month as YYYY-MM") from None


def _check_design(spec: Experiment, source: str) -> None:
    design = spec.design
    kind = design.kind
    if kind in ("lhs", "sobol"):
        if not spec.factors:
            raise InputError(source, "factors", {}, f"at least one factor with a range ({kind})")
        if design.samples is None:
            raise InputError(source, "design.samples", None, f"required for a {kind} design")
        if kind == "sobol" and (design.samples < 2 or design.samples & (design.samples - 1)):
            raise InputError(source, "design.samples", design.samples, "a power of 2, e.g. 64")
    elif design.samples is not None:
        raise InputError(source, "design.samples", design.samples, "only for lhs or sobol designs")
    if design.second_order and kind != "sobol":
        raise InputError(source, "design.second_order", True, "only for a sobol design")
    if kind == "table":
        if design.points is None:
            raise InputError(source, "design.points", None, "required for a table design")
        keys = list(design.points[0])
        for i, point in enumerate(design.points):
            if set(point) != set(keys):
                raise InputError(
                    source, f"design.points.{i}", sorted(point), f"the same keys as point 0: {keys}"
                )
            for key, value in point.items():
                bounds = factor_bounds(key)
                if bounds is None:
                    raise InputError(source, f"design.points.{i}.{key}", key, _known_keys())
                _check_value(key, value, bounds, source, f"design.points.{i}.{key}")
        if spec.factors:
            raise InputError(
                source, "factors", list(spec.factors), "none in a table design (points name them)"
            )
        overlap = set(keys) & set(spec.set)
        if overlap:
            raise InputError(source, "set", sorted(overlap), "keys that are not in design.points")
    elif design.points is not None:
        raise InputError(source, "design.points", "...", "only for a table design")


def count_points(spec: Experiment) -> int:
    """Number of design points, computed without building them."""
    design = spec.design
    d = len(spec.factors)
    if design.kind == "table":
        return len(design.points or ())
    if design.kind == "lhs":
        return int(design.samples or 0)
    if design.kind == "sobol":
        return int(design.samples or 0) * ((2 * d + 2) if design.second_order else (d + 2))
    return math.prod(len(_grid_values(f, design.levels)) for f in spec.factors.values())


def _grid_values(factor: Factor, levels: int) -> list[float | str]:
    if factor.values is not None:
        return list(factor.values)
    low, high = factor.range  # type: ignore[misc]
    return [float(v) for v in np.linspace(low, high, factor.levels or levels)]


def factor_names(spec: Experiment) -> list[str]:
    if spec.design.kind == "table":
        return list((spec.design.points or [{}])[0])
    return list(spec.factors)


def sobol_problem(spec: Experiment) -> dict[str, Any]:
    """The SALib problem of a sobol design (also needed to analyse it)."""
    names = list(spec.factors)
    bounds = [list(spec.factors[n].range) for n in names]  # type: ignore[arg-type]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _seed_int(seq: np.random.SeedSequence) -> int:
    """A seed in [0, 2**63) from a SeedSequence (the command line's seed range)."""
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def design_points(spec: Experiment) -> pd.DataFrame:
    """The design matrix: column ``point`` then one column per factor, in a fixed order."""
    names = factor_names(spec)
    design = spec.design
    design_seq = np.random.SeedSequence(spec.seed).spawn(2)[0]
    if design.kind == "grid":
        axes = [_grid_values(spec.factors[n], design.levels) for n in names]
        rows: list[tuple[Any, ...]] = list(itertools.product(*axes))
    elif design.kind == "table":
        rows = [tuple(point[n] for n in names) for point in design.points or ()]
    elif design.kind == "lhs":
        from scipy.stats import qmc

        sampler = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(design_seq))
        unit = sampler.random(n=int(design.samples or 0))
        lows = [spec.factors[n].range[0] for n in names]  # type: ignore[index]
        highs = [spec.factors[n].range[1] for n in names]  # type: ignore[index]
        rows = [tuple(map(float, r)) for r in qmc.scale(unit, lows, highs)]
    else:
        from SALib.sample import sobol

        matrix = sobol.sample(
            sobol_problem(spec),
            int(design.samples or 0),
            calc_second_order=design.second_order,
            seed=_seed_int(design_seq),
        )
        rows = [tuple(map(float, r)) for r in matrix]
    frame = pd.DataFrame(rows, columns=names)
    for name in names:
        if is_categorical(name):
            frame[name] = frame[name].astype(str)
        elif name == "scale":
            frame[name] = frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype("float64")
    frame.insert(0, "point", np.arange(len(frame), dtype="int64"))
    return frame


def run_seeds(spec: Experiment, n_points: int) -> np.ndarray:
    """Seeds as an array [point, replication], spawned from the master seed.

    ``common`` (default) gives every point the same seeds (common random numbers: differences
    between points are not masked by seed noise); ``independent`` gives every run its own.
    """
    run_seq = np.random.SeedSequence(spec.seed).spawn(2)[1]
    if spec.seeds == "common":
        per_rep = [_seed_int(s) for s in run_seq.spawn(spec.replications)]
        return np.tile(np.array(per_rep, dtype="int64"), (n_points, 1))
    children = run_seq.spawn(n_points * spec.replications)
    return np.array([_seed_int(s) for s in children], dtype="int64").reshape(n_points, -1)


def output_dates(spec: Experiment, horizon: str) -> list[str]:
    """Dates at which metrics go into the runs table: given, or 2028-12/2030-12 if reached."""
    if spec.outputs.dates:
        return list(spec.outputs.dates)
    return summary_dates(horizon)


@dataclass(frozen=True)
class Plan:
    """A resolved experiment: base scenarios, the design, every run, and a fingerprint."""

    spec: Experiment
    source: str
    scenarios: dict[str, Scenario]  # label -> resolved base scenario
    design: pd.DataFrame  # point + factor columns
    runs: pd.DataFrame  # run_id, point, replication, seed
    horizon: str
    dates: list[str]
    fingerprint: str
    warnings: tuple[str, ...] = ()
    ensemble: Ensemble | None = None  # uncertainty = "ensemble": runs has a member column

    @property
    def factors(self) -> list[str]:
        return [c for c in self.design.columns if c != "point"]

    def metric_columns(self) -> list[str]:
        return [metric_column(m, d) for d in self.dates for m in self.spec.outputs.metrics]


def _resolve_scenario(text: str, base_dir: Path, source: str, field: str) -> Scenario:
    """A preset name, or a scenario file path (relative paths from the spec's folder)."""
    if text in preset_names():
        return load_scenario(text)
    path = Path(text)
    if not path.is_absolute():
        path = base_dir / path
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte
        found = False
    if not found:
        raise InputError(
            source,
            field,
            text,
            "a preset (" + ", ".join(preset_names()) + ") or a scenario .toml file",
        )
    return load_scenario(path)


def plan_experiment(spec: Experiment, source: str, base_dir: Path | None = None) -> Plan:
    """Resolve scenarios, check the horizon, build the design and the run list."""
    base_dir = base_dir or Path.cwd()
    labels: list[str]
    if SCENARIO_FACTOR in factor_names(spec):
        if spec.design.kind == "table":
            labels = list(dict.fromkeys(str(p[SCENARIO_FACTOR]) for p in spec.design.points or ()))
        else:
            labels = [str(v) for v in spec.factors[SCENARIO_FACTOR].values or ()]
        field = f"factors.{SCENARIO_FACTOR}"
    else:
        labels, field = [spec.scenario], "scenario"
    scenarios = {
        label: _resolve_scenario(label, base_dir, source, field) for label in dict.fromkeys(labels)
    }
    _check_doctrines(spec, scenarios, source)
    fixed: dict[str, float | str] = dict(spec.set)
    if spec.scale is not None:
        fixed.setdefault("scale", spec.scale)
    if fixed:
        scenarios = {
            k: with_overrides(s, fixed, source=f"{source} set") for k, s in scenarios.items()
        }
    end = min(s.end for s in scenarios.values())
    horizon = spec.horizon or end
    for label, scenario in scenarios.items():
        if not scenario.start <= horizon <= scenario.end:
            raise InputError(
                source, "horizon", horizon, f"a month in {scenario.start}..{scenario.end} ({label})"
            )
    dates = output_dates(spec, horizon)
    for i, date in enumerate(dates):
        if not DATA_START <= date <= horizon:
            raise InputError(
                source, f"outputs.dates.{i}", date, f"a month in {DATA_START}..{horizon}"
            )
    design = design_points(spec)
    seeds = run_seeds(spec, len(design))
    reps = spec.replications
    runs = pd.DataFrame(
        {
            "run_id": np.arange(len(design) * reps, dtype="int64"),
            "point": np.repeat(design["point"].to_numpy(), reps),
            "replication": np.tile(np.arange(reps, dtype="int64"), len(design)),
            "seed": seeds.reshape(-1),
        }
    )
    dumped = spec.model_dump(mode="json", exclude={"description"})
    for name in ("uncertainty", "ensemble_file"):  # absent: the identity of older sweeps
        if dumped[name] is None:
            del dumped[name]
    identity: dict[str, Any] = {
        "spec": dumped,
        "scenarios": {k: s.to_toml() for k, s in scenarios.items()},
        "horizon": horizon,
    }
    ensemble = None
    if spec.uncertainty == "ensemble":
        ensemble = _load_ensemble(spec, base_dir)
        runs["member"] = run_members(spec, ensemble, len(design))
        identity["ensemble"] = ensemble.sha256
    fingerprint = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return Plan(
        spec,
        source,
        scenarios,
        design,
        runs,
        horizon,
        dates,
        fingerprint,
        _warnings(spec, scenarios, horizon),
        ensemble,
    )


def _load_ensemble(spec: Experiment, base_dir: Path) -> Ensemble:
    """The spec's ensemble file (relative to the spec's folder) or the shipped one."""
    if spec.ensemble_file is None:
        return load_ensemble()
    path = Path(spec.ensemble_file)
    return load_ensemble(path if path.is_absolute() else base_dir / path)


def run_members(spec: Experiment, ensemble: Ensemble, n_points: int) -> np.ndarray:
    """The member of every run, in run order: drawn by weight (``Ensemble.draw``) from the
    master seed. Common seeds: replication r uses draw r at every point (differences between
    points are not masked by parameter noise); independent: every run its own draw."""
    reps = spec.replications
    if spec.seeds == "common":
        drawn = [m.index for m in ensemble.draw(reps, spec.seed)]
        return np.tile(np.array(drawn, dtype="int64"), n_points)
    drawn = [m.index for m in ensemble.draw(n_points * reps, spec.seed)]
    return np.array(drawn, dtype="int64")


def member_assignments(plan: Plan, member: int) -> dict[str, float]:
    """A member's parameters as ``params.NAME`` overrides, except those the spec fixes in
    ``set`` or varies as factors (the spec's choice wins over the member's)."""
    assert plan.ensemble is not None
    fixed = {*plan.spec.set, *plan.factors}
    values = plan.ensemble.member(member).params
    return {f"params.{k}": v for k, v in values.items() if f"params.{k}" not in fixed}


def _check_doctrines(spec: Experiment, scenarios: dict[str, Scenario], source: str) -> None:
    """Doctrine factors and settings name personalities every base scenario knows."""
    named: list[tuple[str, str, object]] = [(f"set.{k}", k, v) for k, v in spec.set.items()]
    if spec.design.kind == "table":
        for i, point in enumerate(spec.design.points or ()):
            named += [(f"design.points.{i}.{k}", k, v) for k, v in point.items()]
    else:
        for key, factor in spec.factors.items():
            named += [
                (f"factors.{key}.values.{i}", key, v) for i, v in enumerate(factor.values or ())
            ]
    for field, key, value in named:
        if key.startswith(DOCTRINE_PREFIX):
            for scenario in scenarios.values():
                try:
                    check_doctrine_choice(scenario, key, value, source)
                except InputError as err:
                    raise InputError(source, field, value, err.allowed) from None


def _warnings(spec: Experiment, scenarios: dict[str, Scenario], horizon: str) -> tuple[str, ...]:
    """Mistakes that are legal but probably not meant: levers varied where they cannot act."""
    keys = [*factor_names(spec), *spec.set]
    found = (
        levers_wait_warning(scenario, horizon, keys, "horizon", label)
        for label, scenario in scenarios.items()
    )
    return tuple(warning for warning in found if warning)


def point_assignments(plan: Plan, point: int) -> tuple[str, dict[str, float | str]]:
    """The base scenario label and the overrides of one design point."""
    row = plan.design.iloc[point]
    label = (
        str(row[SCENARIO_FACTOR]) if SCENARIO_FACTOR in row.index else next(iter(plan.scenarios))
    )
    values: dict[str, float | str] = {  # levers, params.NAME, scale and doctrine.ROLE
        name: str(row[name]) if is_categorical(name) else float(row[name])
        for name in plan.factors
        if name != SCENARIO_FACTOR
    }
    return label, values
