"""``chipwar bench``: the adoption rule as Mesa agents, numpy and numba, side by side.

Every implementation replays the same months (the utilities and official stacks of the first
months of a default run) on the same field (the model's own, built at each size). Rates are
adopter-updates per second of wall time (one adopter considered for one month is one update),
best of a few repeats because the machine is shared. Bytes per update count the minimum memory
traffic of each implementation's own data layout: sequential streams by the bytes of the cache
lines they touch, every random access as a whole 64-byte line; the bound is that traffic at the
bandwidth of a large array copy.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chipwar.world import adoption
from chipwar.world.adoption import AdoptionField
from chipwar.world.model import ChipWarModel

from .reference import MesaAdoption, RuleInputs, numpy_step, transition_probabilities

LINE = 64
PRESET = "current-policy"
SEED = 0
Month = tuple[NDArray[np.float64], NDArray[np.int8]]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# inputs


def record_months(count: int, scale: int = 5_000) -> list[Month]:
    """The adopter utilities and official stacks of a default run's first ``count`` months."""
    model = ChipWarModel(PRESET, rng=SEED, scale=scale)
    months = []
    for _ in range(count):
        model.step()
        official = np.array([b.official for b in model.buyers], dtype=np.int8)
        months.append((model.appeal.adopter_utility.copy(), official))
    return months


def model_field(scale: int) -> AdoptionField:
    """The field exactly as the default model builds it at ``scale`` adopters."""
    return ChipWarModel(PRESET, rng=SEED, scale=scale).adoption


# --------------------------------------------------------------------------------------------------
# bytes per update (minimum traffic of each layout)


def _lines(p: float, per_line: int) -> float:
    """Share of a stream's cache lines touched when each element is touched with probability p."""
    return 1.0 - (1.0 - p) ** per_line


def bytes_incremental(rate: float, switch: float, in_degree: float, count_bytes: int) -> float:
    """Incremental kernel: the state bytes read twice (decide, then the push's scan) and the
    lines with a switcher written back; the revisers' lines of counts and tastes; per switcher a
    line of in-list pointers, a line of its in-list and a line per follower (read and written)."""
    sequential = 2.0 + _lines(switch, LINE)
    sequential += count_bytes * _lines(rate, LINE // count_bytes) + 4.0 * _lines(rate, LINE // 4)
    return sequential + switch * (2 * LINE + in_degree * 2 * LINE)


def bytes_direct(rate: float, degree: float) -> float:
    """Re-reading kernel (and the numpy version's minimum): the state copied to the second buffer
    and packed to 2 bits (read twice, written 1.25 bytes); the revisers' lines of row pointers,
    tastes and countries; per reviser a line of its out-list and a line per neighbour."""
    sequential = 1.0 + 1.0 + 1.0 + 0.25
    sequential += 4.0 * _lines(rate, LINE // 4) * 2 + 2.0 * _lines(rate, LINE // 2)
    return sequential + rate * (LINE + degree * LINE)


def bytes_mesa(rate: float, degree: float) -> float:
    """Python objects: an agent and its attribute dict (about three lines) per update, and a
    neighbour agent and its dict (two lines) per link of a reviser. A floor, not a measurement."""
    return 3 * LINE + rate * degree * 2 * LINE


# --------------------------------------------------------------------------------------------------
# measurements


@dataclass
class Row:
    """One line of the table."""

    implementation: str
    adopters: int
    size: int  # the scale asked for (the model rounds per country, so adopters differ a little)
    updates_per_s: float
    bytes_per_update: float
    repeats: int
    note: str = ""
    fraction: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ns_per_update(self) -> float:
        return 1e9 / self.updates_per_s


def copy_bandwidth(megabytes: int, repeats: int = 5) -> float:
    """Bytes per second of a large array copy (read + write), best of ``repeats``."""
    src = np.ones(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best


def _best_time(
    run: Callable[[], None], reset: Callable[[], None], budget_s: float, most: int
) -> tuple[float, int]:
    """Best wall time of ``run`` over repeats (each after ``reset``), within a time budget."""
    best, repeats, spent = math.inf, 0, 0.0
    while repeats < most and (repeats == 0 or spent < budget_s):
        reset()
        t = time.perf_counter()
        run()
        dt = time.perf_counter() - t
        best, repeats, spent = min(best, dt), repeats + 1, spent + dt
    return best, repeats


def time_incremental(
    field: AdoptionField, months: list[Month], kernel: str, budget_s: float, most: int = 5
) -> tuple[float, int, float, NDArray[np.int8]]:
    """Seconds for the months, repeats, mean switch fraction, and the final states."""
    start = field.snapshot()
    switched: list[int] = []

    def run() -> None:
        switched.clear()
        for t, (cu, off) in enumerate(months):
            switched.append(field.step(cu, off, t, kernel=kernel))  # type: ignore[arg-type]

    best, repeats = _best_time(run, lambda: field.restore(start), budget_s, most)
    final = field.state
    field.restore(start)
    return best, repeats, float(np.mean(switched)) / field.n_adopters, final


class Direct:
    """The direct (re-reading) numba kernels on an out-link CSR built from a field."""

    def __init__(self, field: AdoptionField) -> None:
        self.field = field
        self.indptr = field.indptr
        self.indices = field.indices
        self.country = field.country
        self.start = field.state
        self.a = np.empty_like(self.start)
        self.b = np.empty_like(self.start)
        self.packed = np.empty((self.start.shape[0] + 3) // 4, dtype=np.uint8)

    def reset(self) -> None:
        np.copyto(self.a, self.start)

    def run(self, months: list[Month], parallel: bool) -> NDArray[np.int8]:
        fn = adoption.step_kernel_parallel if parallel else adoption.step_kernel_serial
        cfg, f = self.field.config, self.field
        a, b = self.a, self.b
        for t, (cu, off) in enumerate(months):
            fn(
                *(a, b, self.packed, f.heterogeneity, self.indptr, self.indices, self.country),
                *(np.ascontiguousarray(cu), off, cfg.revision_rate, cfg.neighbour_weight),
                *(cfg.official_weight, cfg.switching_cost, f.seed, np.uint64(t)),
            )
            a, b = b, a
        return a


def warm_up(months: list[Month]) -> None:
    """Load every kernel from the numba cache (and start the thread pool) before timing."""
    field = model_field(5_000)
    for kernel in ("serial", "parallel"):
        time_incremental(field, months[:1], kernel, 0.0, 1)
    direct = Direct(field)
    for parallel in (False, True):
        direct.reset()
        direct.run(months[:1], parallel)


def time_mesa(inputs: RuleInputs, months: list[Month]) -> tuple[float, float, NDArray[np.int8]]:
    """Build time and step time of the Mesa reference over the months (its own random stream)."""
    t = time.perf_counter()
    model = MesaAdoption(inputs, rng=SEED)
    built = time.perf_counter() - t
    t = time.perf_counter()
    for step, (cu, off) in enumerate(months):
        model.set_month(cu, off, step)
        model.step()
    return built, time.perf_counter() - t, model.states()


# --------------------------------------------------------------------------------------------------
# agreement


def check_agreement(scale: int, months: list[Month], stat_scale: int) -> dict[str, Any]:
    """Exact: numba serial/parallel (incremental and direct), numpy and Mesa with the counter
    draws give the same states. Statistical: Mesa with its own random stream moves as the rule
    says (each month's counts per stack against their exact expectation, as z-scores)."""
    field = model_field(scale)
    inputs = RuleInputs.from_field(field)
    results: dict[str, NDArray[np.int8]] = {}
    for kernel in ("serial", "parallel"):
        results[f"numba {kernel}"] = time_incremental(field, months, kernel, 0.0, 1)[3]
    direct = Direct(field)
    for parallel in (False, True):
        direct.reset()
        results[f"numba direct {'parallel' if parallel else 'serial'}"] = direct.run(
            months, parallel
        ).copy()
    state = inputs.state
    for t, (cu, off) in enumerate(months):
        state = numpy_step(state, inputs, cu, off, t)
    results["numpy"] = state
    mesa_model = MesaAdoption(inputs, counter=True)
    for t, (cu, off) in enumerate(months):
        mesa_model.set_month(cu, off, t)
        mesa_model.step()
    results["mesa (counter draws)"] = mesa_model.states()
    reference = results["numba serial"]
    differing = {name: int((s != reference).sum()) for name, s in results.items()}

    # Statistical check of Mesa's own stream on a larger field.
    field = model_field(stat_scale)
    inputs = RuleInputs.from_field(field)
    mesa_model = MesaAdoption(inputs, rng=SEED + 1)
    z_max = 0.0
    for t, (cu, off) in enumerate(months):
        before = mesa_model.states()
        p = transition_probabilities(before, inputs, cu, off)
        mesa_model.set_month(cu, off, t)
        mesa_model.step()
        after = mesa_model.states()
        for k in range(3):
            expected = p[:, k].sum()
            sd = math.sqrt(max((p[:, k] * (1 - p[:, k])).sum(), 1e-12))
            z_max = max(z_max, abs(((after == k).sum() - expected) / sd))
    numba_shares = np.bincount(
        time_incremental(field, months, "serial", 0.0, 1)[3], minlength=3
    ) / len(after)
    mesa_shares = np.bincount(after, minlength=3) / len(after)
    return {
        "adopters_exact": int(reference.shape[0]),
        "months": len(months),
        "differing_adopters": differing,
        "identical": all(v == 0 for v in differing.values()),
        "adopters_statistical": len(after),
        "mesa_own_stream_max_abs_z": round(float(z_max), 2),
        "mesa_own_stream_ok": bool(z_max < 5.0),
        "shares_numba": [round(float(x), 4) for x in numba_shares],
        "shares_mesa_own_stream": [round(float(x), 4) for x in mesa_shares],
    }


# --------------------------------------------------------------------------------------------------
# whole runs


def whole_run(
    scale: int | None, profile: bool = False, *flags: str, eager_imports: bool = False
) -> dict[str, Any]:
    """One model run in a fresh process (wall time includes the interpreter's start-up).

    ``eager_imports`` turns off the deferred imports (world/lazy_imports.py) for comparison."""
    script = Path(__file__).with_name("wholerun.py")
    cmd = [sys.executable, str(script), "--preset", PRESET, "--seed", str(SEED)]
    if scale is not None:
        cmd += ["--scale", str(scale)]
    if profile:
        cmd.append("--profile")
    cmd += flags
    spawned = time.time()
    env = {k: v for k, v in os.environ.items() if k != "CHIPWAR_EAGER_IMPORTS"}
    if eager_imports:
        env["CHIPWAR_EAGER_IMPORTS"] = "1"
    out = subprocess.run(
        [*cmd, "--spawned-at", repr(spawned)], capture_output=True, text=True, check=False, env=env
    )
    wall = time.time() - spawned
    if out.returncode != 0:
        raise RuntimeError(f"whole run at scale {scale} failed: {out.stderr.strip()[-400:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


# --------------------------------------------------------------------------------------------------
# the bench


@dataclass
class Plan:
    """Sizes and budgets: the full bench, or ``--quick`` (under a minute)."""

    months: int
    mesa_size: int
    mesa_months: int
    numpy_sizes: tuple[int, ...]
    direct_sizes: tuple[int, ...]
    numba_sizes: tuple[int, ...]
    run_scales: tuple[int, ...]
    budget_s: float
    copy_mb: int

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(4, 10_000, 2, (100_000,), (1_000_000,), (100_000, 1_000_000), (), 0.3, 128)
        return cls(
            6,
            100_000,
            3,
            (100_000, 1_000_000),
            (1_000_000, 10_000_000),
            (100_000, 1_000_000, 10_000_000),
            (100_000, 1_000_000, 10_000_000),
            1.5,
            512,
        )


def run_bench(quick: bool = False, runs: bool = True) -> dict[str, Any]:
    """Measure everything; returns the JSON-able report (rows, runs, agreement, headline)."""
    plan = Plan.make(quick)
    started = time.perf_counter()
    log(f"bench: {'quick' if quick else 'full'}; load average {os.getloadavg()[0]:.1f}")
    months = record_months(plan.months)
    warm_up(months)
    bandwidth = copy_bandwidth(plan.copy_mb)
    log(f"copy bandwidth {bandwidth / 1e9:.1f} GB/s")
    rate = None
    rows: list[Row] = []

    # Mesa reference.
    field = model_field(plan.mesa_size)
    inputs = RuleInputs.from_field(field)
    rate = inputs.revision_rate
    degree = float(np.diff(inputs.indptr).mean())
    built, seconds, _ = time_mesa(inputs, months[: plan.mesa_months])
    n = field.n_adopters
    mesa_rate = n * plan.mesa_months / seconds
    mesa = Row("Mesa agents (AgentSet.do)", n, plan.mesa_size, mesa_rate, 0.0, 1)
    mesa.bytes_per_update = bytes_mesa(rate, degree)
    mesa.note = f"build {built:.1f} s"
    rows.append(mesa)
    log(f"mesa: {mesa.updates_per_s / 1e6:.2f} M/s at {n}")
    del inputs

    for size in sorted(set(plan.numpy_sizes + plan.direct_sizes + plan.numba_sizes)):
        t = time.perf_counter()
        field = model_field(size)
        n = field.n_adopters
        log(f"field of {n} adopters built in {time.perf_counter() - t:.1f} s")
        steps = n * len(months)
        in_degree = field.in_idx.shape[0] / n
        final = {}
        if size in plan.numba_sizes:
            for kernel in ("serial", "parallel"):
                best, reps, switch, final[kernel] = time_incremental(
                    field, months, kernel, plan.budget_s
                )
                row = Row(f"numba incremental {kernel}", n, size, steps / best, 0.0, reps)
                row.bytes_per_update = bytes_incremental(
                    rate, switch, in_degree, field.snapshot()["counts"].itemsize
                )
                row.extra = {"switch_fraction": switch}
                row.note = f"{switch:.2%} switch/month"
                rows.append(row)
            if not np.array_equal(final["serial"], final["parallel"]):
                raise AssertionError(f"serial and parallel kernels differ at {n} adopters")
        if size in plan.direct_sizes:
            direct = Direct(field)
            parallel = n > adoption.PARALLEL_THRESHOLD
            best, reps = _best_time(
                lambda d=direct, p=parallel: d.run(months, p), direct.reset, plan.budget_s, 3
            )
            row = Row("numba direct (re-reads neighbours)", n, size, steps / best, 0.0, reps)
            row.bytes_per_update = bytes_direct(rate, degree)
            row.note = "parallel" if parallel else "serial"
            rows.append(row)
            del direct
        if size in plan.numpy_sizes:
            inputs = RuleInputs.from_field(field)
            state = inputs.state

            def run(inputs: RuleInputs = inputs) -> None:
                s = inputs.state
                for t, (cu, off) in enumerate(months):
                    s = numpy_step(s, inputs, cu, off, t)

            best, reps = _best_time(run, lambda: None, plan.budget_s, 3)
            row = Row("numpy vectorised", n, size, steps / best, bytes_direct(rate, degree), reps)
            row.note = "re-reads neighbours"
            rows.append(row)
            del inputs, state
        del field

    for row in rows:
        row.fraction = row.bytes_per_update * row.updates_per_s / bandwidth
    agreement = check_agreement(5_000, months, 20_000 if quick else 50_000)
    log(f"agreement: {agreement['differing_adopters']}")

    whole: list[dict[str, Any]] = []
    log("whole runs (a fresh process each)")
    whole_run(None)  # warms the numba cache and the OS file cache
    default = whole_run(None, profile=True)
    default["label"] = "default run (warm cache)"
    whole.append(default)
    field_only = whole_run(None, False, "--field-only")
    # Start-up with and without deferred imports, alternated so that load hits both alike.
    deferred, eager = [], []
    for _ in range(3):
        deferred.append(whole_run(None))
        eager.append(whole_run(None, eager_imports=True))
    if runs:
        for scale in plan.run_scales:
            result = whole_run(scale)
            result["label"] = f"scale {scale:.0e}"
            whole.append(result)
            log(f"run at {scale}: {result['total_s']:.1f} s")
    report = summarise(rows, whole, agreement, bandwidth, quick, time.perf_counter() - started)
    report["field_first_step_s"] = round(field_only["first_step_at_s"], 2)
    # The bars use the best of the repeats, as the kernel rates do: a shared machine only adds time.
    report["full_run_s"] = round(min(r["process_wall_s"] for r in [default, *deferred]), 2)
    report["full_run_profiled_s"] = round(default["process_wall_s"], 2)
    report["first_step_s"] = round(min(r["first_step_at_s"] for r in deferred), 2)
    report["first_step_eager_imports_s"] = round(min(r["first_step_at_s"] for r in eager), 2)
    report["full_run_eager_imports_s"] = round(min(r["process_wall_s"] for r in eager), 2)
    report["field_only"] = field_only
    return report


def _best(rows: list[Row], prefix: str, size: int) -> Row | None:
    """The fastest row of an implementation at one size (serial or parallel, whichever won)."""
    pick = [r for r in rows if r.implementation.startswith(prefix) and r.size == size]
    return max(pick, key=lambda r: r.updates_per_s, default=None)


def summarise(
    rows: list[Row],
    whole: list[dict[str, Any]],
    agreement: dict[str, Any],
    bandwidth: float,
    quick: bool,
    seconds: float,
) -> dict[str, Any]:
    mesa = rows[0]
    at_1e6 = _best(rows, "numba incremental", 1_000_000)
    at_1e7 = _best(rows, "numba incremental", 10_000_000)
    by_scale = {r.get("scale"): r for r in whole}
    small, big = by_scale.get(100_000), by_scale.get(10_000_000)
    per_adopter = None
    if small and big:
        per_adopter = (big["peak_rss_bytes"] - small["peak_rss_bytes"]) / (
            big["n_adopters"] - small["n_adopters"]
        )
    return {
        "quick": quick,
        "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "copy_bandwidth_gb_s": round(bandwidth / 1e9, 2),
        "kernel_vs_mesa_speedup": at_1e6 and round(at_1e6.updates_per_s / mesa.updates_per_s, 1),
        "updates_per_s_1e7": at_1e7 and round(at_1e7.updates_per_s),
        "ns_per_update_1e7": at_1e7 and round(at_1e7.ns_per_update, 2),
        "bandwidth_fraction_1e7": at_1e7 and round(at_1e7.fraction, 3),
        "bytes_per_adopter_1e7": per_adopter and round(per_adopter, 1),
        "field_bytes_per_adopter_1e7": big and round(big["field_bytes"] / big["n_adopters"], 2),
        "agreement": agreement,
        "rows": [
            {
                "implementation": r.implementation,
                "adopters": r.adopters,
                "updates_per_s": round(r.updates_per_s),
                "ns_per_update": round(r.ns_per_update, 2),
                "bytes_per_update": round(r.bytes_per_update, 1),
                "bandwidth_fraction": round(r.fraction, 4),
                "vs_mesa": round(r.updates_per_s / mesa.updates_per_s, 1),
                "repeats": r.repeats,
                "note": r.note,
            }
            for r in rows
        ],
        "runs": whole,
        "bench_s": round(seconds, 1),
    }


def format_report(report: dict[str, Any]) -> str:
    """The tables people read."""
    out = [
        f"chipwar bench ({'quick' if report['quick'] else 'full'}): {report['cpus']} cores, "
        f"load average {report['load_average']}, copy bandwidth "
        f"{report['copy_bandwidth_gb_s']} GB/s; rates are best of the repeats, wall time",
        "",
        f"{'implementation':<36}{'adopters':>11}{'M upd/s':>9}{'ns/upd':>9}{'B/upd':>7}"
        f"{'of bound':>9}{'x Mesa':>9}  note",
    ]
    for r in report["rows"]:
        out.append(
            f"{r['implementation']:<36}{r['adopters']:>11,}{r['updates_per_s'] / 1e6:>9.2f}"
            f"{r['ns_per_update']:>9.2f}{r['bytes_per_update']:>7.1f}"
            f"{r['bandwidth_fraction']:>9.3f}{r['vs_mesa']:>9.1f}  {r['note']}"
        )
    a = report["agreement"]
    same = "identical" if a["identical"] else f"DIFFER {a['differing_adopters']}"
    out += [
        "",
        f"agreement, {a['adopters_exact']:,} adopters x {a['months']} months, same draws: {same} "
        "(numba incremental serial/parallel, numba direct serial/parallel, numpy, Mesa)",
        f"agreement, Mesa with its own random stream, {a['adopters_statistical']:,} adopters: "
        f"max |z| of monthly counts vs the rule's expectation {a['mesa_own_stream_max_abs_z']} "
        f"({'ok' if a['mesa_own_stream_ok'] else 'FAIL'}); shares none/us/cn "
        f"Mesa {a['shares_mesa_own_stream']} vs numba {a['shares_numba']}",
        "",
        f"{'whole run':<26}{'adopters':>11}{'months':>7}{'start+import':>13}{'build':>7}"
        f"{'1st step at':>12}{'steps/s':>9}{'total s':>9}{'peak MB':>9}{'field B/ad':>11}",
    ]
    for r in report["runs"]:
        start = r["python_start_s"] + r["import_s"]
        out.append(
            f"{r['label']:<26}{r['n_adopters']:>11,}{r['months']:>7}{start:>13.2f}"
            f"{r['build_s']:>7.2f}{r['first_step_at_s']:>12.2f}{r['steps_per_s']:>9.1f}"
            f"{r['process_wall_s']:>9.2f}{r['peak_rss_bytes'] / 2**20:>9.0f}"
            f"{r['field_bytes'] / r['n_adopters']:>11.2f}"
        )
    d = report["runs"][0]
    if "adoption_s" in d:
        out.append(
            f"default run, time in steps: adoption field {d['adoption_s']:.2f} s, data collection "
            f"{d['collect_s']:.2f} s, rest (agents, ledger, market) "
            f"{d['steps_s'] - d['adoption_s'] - d['collect_s']:.2f} s of {d['steps_s']:.2f} s"
        )
    keys = (
        "kernel_vs_mesa_speedup",
        "updates_per_s_1e7",
        "ns_per_update_1e7",
        "bandwidth_fraction_1e7",
        "full_run_s",
        "first_step_s",
        "first_step_eager_imports_s",
        "field_first_step_s",
        "bytes_per_adopter_1e7",
        "field_bytes_per_adopter_1e7",
    )
    f = report.get("field_only")
    if f:
        out.append(
            f"adoption field alone, fresh process, {f['n_adopters']:,} adopters: first step done "
            f"{f['first_step_at_s']:.2f} s after spawn (interpreter {f['python_start_s']:.2f}, "
            f"import numpy+numba+field {f['import_s']:.2f}, build {f['build_s']:.2f}, "
            f"step with cached kernels {f['first_step_s']:.3f})"
        )
    if "first_step_eager_imports_s" in report:
        out.append(
            "default run, warm cache, fresh processes alternated, best of 4 and 3: first step "
            f"done {report['first_step_s']:.2f} s after spawn and whole run "
            f"{report['full_run_s']:.2f} s with deferred imports; "
            f"{report['first_step_eager_imports_s']:.2f} s and "
            f"{report['full_run_eager_imports_s']:.2f} s with CHIPWAR_EAGER_IMPORTS=1"
        )
    out += ["", "  ".join(f"{k}={report.get(k)}" for k in keys)]
    return "\n".join(out)
