"""The `chipwar` command line. Bad input gets one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.experiments.spec import Plan
    from chipwar.runs.experiments.sweep import SweepReport

EXIT_INPUT = 2
# A full disk or a read-only folder is the machine's state, not a bug: one line, exit 2.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0 or value >= 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number in [0, 2**63), got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chipwar",
        description="Agent-based game simulator of the US-China contest over AI chips and models.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (add_arguments, _handler, summary) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=summary, description=summary))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``chipwar`` command. Run as the command (``argv`` from ``sys.argv``), it first defers
    the heavy imports a run needs late or never (world/lazy_imports.py); called from Python with
    an argument list (tests, notebooks), it leaves the caller's imports alone."""
    if argv is None:
        from chipwar.world import lazy_imports

        lazy_imports.install()  # before any handler imports mesa
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command][1]
    try:
        return handler(args)
    except InputError as err:
        print(f"chipwar {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"chipwar {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one line unless the user asks for the traceback
        if os.environ.get("CHIPWAR_DEBUG"):
            raise
        if isinstance(err, OSError) and err.errno in _DISK_ERRNOS:
            where = err.filename or "output"  # a write failed outside the atomic writers
            print(
                f"chipwar {args.command}: error: {where}: write = {err.strerror!r}: "
                "a writable folder with free space",
                file=sys.stderr,
            )
            return EXIT_INPUT
        print(
            f"chipwar {args.command}: internal error: {type(err).__name__}: {_one_line(err)} "
            "(set CHIPWAR_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


def _one_line(err: BaseException) -> str:
    """The message on one line, even if a file name or a value holds a line break."""
    return " ".join(str(err).splitlines())


# --- chipwar demo
def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("chipwar-demo"), help="output folder")
    parser.add_argument("--seed", type=_non_negative_int, default=0)
    parser.add_argument("--scale", type=_non_negative_int, default=None, help="micro-adopters")
    _ensemble_arguments(parser, "members per world (default 20; 'all')", default=20)
    _pool_arguments(parser)


def _demo(args: argparse.Namespace) -> int:
    from chipwar.runs.core.executors import check_executor_options
    from chipwar.runs.demo import run_demo

    check_executor_options(args.workers, args.dask)
    run_demo(
        args.out,
        seed=args.seed,
        scale=args.scale,
        members=args.ensemble,
        ensemble_file=args.ensemble_file,
        workers=args.workers,
        dask=args.dask,
    )
    return 0


# --- chipwar scenarios
def _scenarios_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="also list levers and shocks")


def _scenarios(args: argparse.Namespace) -> int:
    from chipwar.world.levers import describe_levers
    from chipwar.world.scenario import list_presets
    from chipwar.world.shocks import shock_table

    presets = list_presets()
    width = max(len(name) for name, _ in presets)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")
    if args.verbose:
        print("\nLevers (key, default, meaning); set with --set KEY=VALUE, each in [0, 1]:")
        for key, default, meaning in describe_levers():
            print(f"  {key:<28} {default:<5g} {meaning}")
        print(players_help())
        print(
            "\nShocks (name, base rate a year, what it acts on), on by default after the branch "
            "date; scale with --set shocks.rate_scale=X or shocks.NAME=X, off with "
            "shocks.enabled=0 (docs/ODD.md §7.15):"
        )
        for spec in shock_table():
            print(f"  {spec.name:<28} {spec.rate_per_year:<5g} {spec.label} ({spec.mechanism})")
    return 0


def players_help() -> str:
    """The doctrines a scenario's [players] table (or --set doctrine.ROLE=NAME) can give."""
    from chipwar.world.doctrines import PERSONALITIES, RANGES
    from chipwar.world.roles import ALL_ROLE_IDS

    lines = [
        "\nPlayers: a scenario's [players] table gives a role a doctrine that reacts to what the",
        "role observes (its fog-of-war view), every player_turn_months months (default 6) from",
        "the branch date; other roles keep the levers above. Also --set doctrine.ROLE=NAME, and",
        "doctrine.ROLE as a sweep factor (NAME none: the role keeps its levers).",
        "  roles: " + ", ".join(ALL_ROLE_IDS),
        "  personalities (step, lead_target, intel, boldness, stance):",
    ]
    for name, p in PERSONALITIES.items():
        lines.append(
            f"    {name:<11} {p.step:<5g} {p.lead_target:<5g} {p.intel:<5g} {p.boldness:<5g} "
            f"{p.stance:+d}"
        )
    lines.append(
        "  a doctrine as data: [doctrines.NAME] (or an inline table in [players]) with like = "
        "a personality and any of:"
    )
    for key, (_low, _high, what) in RANGES.items():
        lines.append(f"    {key:<11} {what}")
    return "\n".join(lines)


# --- chipwar run
def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, help="preset name or scenario .toml file")
    parser.add_argument("--seed", type=_non_negative_int, default=0)
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a lever (us.enforcement=0.8), parameter (params.NAME=VALUE) or shock "
        "setting (shocks.rate_scale=0.5, shocks.enabled=0, shocks.<name>=SCALE)",
    )
    parser.add_argument("--scale", type=_non_negative_int, default=None, help="micro-adopters")
    parser.add_argument("--until", default=None, metavar="YYYY-MM", help="stop after this month")
    parser.add_argument("--out", type=Path, required=True, help="run directory to write")
    _ensemble_arguments(parser, "run N calibrated members ('all': every member, weighted)")
    _pool_arguments(parser)


def _members(text: str) -> int | str:
    """--ensemble: a number of members to draw, or 'all'."""
    if text.strip().lower() == "all":
        return "all"
    return _positive_int(text)


def _ensemble_arguments(
    parser: argparse.ArgumentParser, what: str, default: int | str | None = None
) -> None:
    parser.add_argument(
        "--ensemble", type=_members, default=default, metavar="N", help=what + " for bands"
    )
    parser.add_argument(
        "--ensemble-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the calibrated ensemble (default world/data/ensemble.parquet)",
    )


def _pool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="local processes, or LocalCluster workers (default: all cores; 1 = serial)",
    )
    parser.add_argument("--dask", metavar="ADDRESS", help="Dask scheduler address, or 'local'")


def _run(args: argparse.Namespace) -> int:
    from chipwar.runs.core import run_folder
    from chipwar.runs.core.preflight import run_dir_bytes
    from chipwar.runs.core.single_run import prepare_out_dir, run_scenario, until_check
    from chipwar.runs.core.tables import summary_table
    from chipwar.world.calendar import months_between
    from chipwar.world.scenario import (
        levers_wait_warning,
        load_scenario,
        parse_assignment,
        player_line,
        with_overrides,
    )

    scenario = load_scenario(args.scenario)
    assignments = dict(parse_assignment(text) for text in args.assignments)
    if args.scale is not None:
        assignments["scale"] = args.scale
    if assignments:
        scenario = with_overrides(scenario, assignments)
    until_check(args.until, scenario)
    if args.until is not None:
        players = [f"doctrine.{role}" for role in scenario.players]
        levers = [*assignments, *scenario.changed_levers(), *players]
        label = f"scenario {scenario.name}"
        warning = levers_wait_warning(scenario, args.until, levers, "--until", label)
        if warning:
            print(f"chipwar run: warning: {warning}", file=sys.stderr)
    months = months_between(scenario.start, args.until or scenario.end)
    if args.ensemble is not None:
        return _run_ensemble(args, scenario, assignments, months)
    for option, value in (
        ("--ensemble-file", args.ensemble_file),
        ("--workers", args.workers),
        ("--dask", args.dask),
    ):
        if value is not None:
            raise InputError(option, option.lstrip("-"), str(value), "only with --ensemble N")
    prepare_out_dir(args.out, needed=run_dir_bytes(months))
    started = time.perf_counter()
    result = run_scenario(scenario, args.seed, args.until, progress=sys.stderr.isatty())
    run_folder.write(result, args.out)
    if scenario.players:
        print("players: " + player_line(scenario))
    print(summary_table({scenario.name: result.series}))
    print(f"\nwrote {args.out}/ in {time.perf_counter() - started:.1f} s")
    return 0


def _run_ensemble(
    args: argparse.Namespace, scenario: Any, assignments: dict[str, float], months: int
) -> int:
    """``chipwar run --ensemble N``: the members through the runner, then one run folder with
    the representative member's files, the members table and the bands."""
    from chipwar.runs.core import run_folder
    from chipwar.runs.core.ensemble_run import run_ensemble, warm_worker
    from chipwar.runs.core.executors import check_executor_options, open_executor
    from chipwar.runs.core.preflight import run_dir_bytes
    from chipwar.runs.core.single_run import prepare_out_dir
    from chipwar.runs.core.tables import bands_table
    from chipwar.world.ensemble import ensemble_path, load_ensemble

    check_executor_options(args.workers, args.dask)
    path = ensemble_path(args.ensemble_file)
    prepare_out_dir(args.out, needed=run_dir_bytes(months))
    keep = [key.removeprefix("params.") for key in assignments if key.startswith("params.")]
    # The pool's workers start (and load the model) while the ensemble file is read and checked.
    with open_executor(args.workers, args.dask, warm=warm_worker) as info:
        ensemble = load_ensemble(path)
        result = run_ensemble(
            scenario,
            ensemble,
            args.ensemble,
            args.seed,
            info,
            until=args.until,
            keep=keep,
            progress=None,
        )
    run_folder.write(result.representative, args.out, members=result.members, bands=result.bands)
    print(bands_table({scenario.name: result.summary_bands}))
    chosen = result.representative.meta["ensemble"]["representative"]
    print(
        f"\n{len(result.members)} members of {ensemble.path} on {info.label}; the run folder's "
        f"series are member {chosen['member']} (the run nearest the medians); "
        f"wrote {args.out}/ in {result.seconds:.1f} s"
    )
    return 0


# --- chipwar calibrate
def _calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="only check the targets over seeds")
    parser.add_argument("--report", type=Path, default=Path("calibration-report"))
    parser.add_argument("--seeds", type=_positive_int, default=None, help="3 to fit, 20 to check")
    parser.add_argument("--evaluations", type=_positive_int, default=150, help="fit budget")
    parser.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1)
    parser.add_argument("--scale", type=_positive_int, default=None, help="adopters for --check")
    parser.add_argument(
        "--ensemble", action="store_true", help="ABC-SMC ensemble of parameter sets (ODD §8)"
    )
    parser.add_argument("--members", type=_positive_int, default=100, help="ensemble size")
    parser.add_argument(
        "--draws",
        type=_positive_int,
        default=None,
        help="ensemble run budget (default 40 x members)",
    )
    parser.add_argument("--out", type=Path, default=None, help="ensemble file")


def _calibrate(args: argparse.Namespace) -> int:
    from chipwar.runs.core.single_run import prepare_out_dir
    from chipwar.runs.experiments.calibrate import run_calibrate

    if args.ensemble:
        from chipwar.runs.experiments.calibrate import FIT_SCALE, ensemble_file, run_ensemble

        if args.members < 2:
            raise InputError(
                "command line", "--members", args.members, "at least 2 for an ensemble"
            )
        draws = args.draws or 40 * args.members
        if draws < 2 * args.members:
            raise InputError(
                "command line",
                "--draws",
                draws,
                f"at least twice --members ({2 * args.members}): generation 0 takes --members",
            )
        return run_ensemble(
            members=args.members,
            draws=draws,
            seeds=args.seeds or 1,
            scale=args.scale or FIT_SCALE,
            workers=args.workers,
            out=args.out or ensemble_file(),
        )
    if args.check and (args.draws is not None or args.out is not None):
        raise InputError("command line", "--draws/--out", "given", "only with --ensemble")
    prepare_out_dir(args.report)
    return run_calibrate(
        check_only=args.check,
        seeds=args.seeds or (20 if args.check else 3),
        evaluations=args.evaluations,
        workers=args.workers,
        scale=args.scale,
        report_dir=args.report,
    )


# --- chipwar sweep / analyze / compare (experiment grids: runs/experiment.py, sweep.py, ...)
def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _executor_arguments(parser: argparse.ArgumentParser) -> None:
    _pool_arguments(parser)
    parser.add_argument("--resume", action="store_true", help="run only what DIR is missing")


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="experiment spec (.toml)")
    parser.add_argument("--out", type=Path, required=True, help="sweep folder to write")
    _executor_arguments(parser)


def _sweep(args: argparse.Namespace) -> int:
    from chipwar.runs.core.executors import check_executor_options, open_executor
    from chipwar.runs.experiments.spec import load_experiment, plan_experiment
    from chipwar.runs.experiments.sweep import run_sweep

    check_executor_options(args.workers, args.dask)
    spec = load_experiment(args.spec)
    plan = plan_experiment(spec, str(args.spec), args.spec.parent)
    for warning in plan.warnings:
        print(f"chipwar sweep: warning: {warning}", file=sys.stderr)
    _prepare_sweep_dir(plan, args.out, args.resume)
    with open_executor(args.workers, args.dask) as info:
        print(
            f"{spec.name}: {len(plan.runs)} runs ({len(plan.design)} points x "
            f"{spec.replications}) on {info.label}",
            file=sys.stderr,
        )
        try:
            report = run_sweep(plan, args.out, info, resume=args.resume)
        except KeyboardInterrupt:
            print(f"finished runs are kept; add --resume to continue {args.out}", file=sys.stderr)
            raise
    return _sweep_summary(report, args.out)


def _prepare_sweep_dir(plan: Plan, out: Path, resume: bool) -> None:
    """Before executors start: the folder can take this sweep (or resume it) and has room."""
    from chipwar.runs.core.preflight import sweep_bytes
    from chipwar.runs.core.single_run import prepare_out_dir
    from chipwar.runs.experiments import store
    from chipwar.world.calendar import months_between
    from chipwar.world.scenario import DATA_START

    store.check_store(out, plan, resume)
    todo = len(plan.runs) - (len(store.done_run_ids(out)) if resume else 0)
    months = months_between(DATA_START, plan.horizon)
    prepare_out_dir(out, needed=sweep_bytes(todo, months, plan.spec.outputs.countries))


def _sweep_summary(report: SweepReport, out: Path) -> int:
    print(
        f"{report.done_before + report.ran - report.unfinished} of {report.total} runs done "
        f"({report.ran} now, {report.failed} failed) in {report.seconds:.1f} s "
        f"({report.runs_per_minute:.1f} runs/min, {report.executor}); wrote {out}/runs.parquet"
    )
    if report.unfinished:
        print(
            f"{report.unfinished} runs unfinished ({report.errors[0]}); "
            f"run again with --resume --out {out}",
            file=sys.stderr,
        )
        return 1
    return 0


def _analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="sweep folder")
    parser.add_argument("--out", type=Path, default=None, help="report folder (DIR/analysis)")
    parser.add_argument("--sobol", action="store_true", help="Sobol indices (sobol designs)")
    parser.add_argument(
        "--prim",
        action="append",
        default=[],
        metavar="METRIC<THRESHOLD",
        help="scenario discovery for a condition: 'lead_months>=12', 'lead_months@2030-12>=12'",
    )
    parser.add_argument(
        "--metric", action="append", default=None, help="metric to chart (repeatable)"
    )
    parser.add_argument("--at", default=None, metavar="YYYY-MM", help="date of the metrics")
    parser.add_argument("--heatmap", nargs=2, metavar=("X", "Y"), help="two factors for heatmaps")
    parser.add_argument(
        "--points", type=_positive_int, default=6, help="design points drawn in fan charts"
    )


def _analyze(args: argparse.Namespace) -> int:
    from chipwar.runs.experiments.analyze import analyze_sweep

    path = analyze_sweep(
        args.dir,
        report_dir=args.out,
        metrics=args.metric,
        at=args.at,
        sobol=args.sobol,
        prim=args.prim,
        heatmap=tuple(args.heatmap) if args.heatmap else None,
        most=args.points,
    )
    print(f"wrote {path}")
    return 0


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", help="two or more presets or scenario .toml files")
    parser.add_argument(
        "--seeds", type=_positive_int, default=None, help="seeds per scenario (default 5)"
    )
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="master seed")
    parser.add_argument("--scale", type=_non_negative_int, default=None, help="micro-adopters")
    parser.add_argument("--until", default=None, metavar="YYYY-MM", help="stop after this month")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument(
        "--ensemble",
        type=_positive_int,
        default=None,
        metavar="N",
        help="draw N calibrated members per scenario (instead of --seeds) for bands",
    )
    parser.add_argument(
        "--ensemble-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the calibrated ensemble (default world/data/ensemble.parquet)",
    )
    _executor_arguments(parser)


def _compare(args: argparse.Namespace) -> int:
    from chipwar.runs.core.executors import check_executor_options, open_executor
    from chipwar.runs.experiments.compare import compare_plan, run_compare

    check_executor_options(args.workers, args.dask)
    if args.ensemble is not None and args.seeds is not None:
        raise InputError("--seeds", "seeds", args.seeds, "only without --ensemble N")
    if args.ensemble_file is not None and args.ensemble is None:
        raise InputError("--ensemble-file", "ensemble-file", "given", "only with --ensemble N")
    plan = compare_plan(
        args.scenarios,
        args.ensemble or args.seeds or 5,
        args.seed,
        args.scale,
        args.until,
        ensemble=args.ensemble is not None,
        ensemble_file=args.ensemble_file,
    )
    _prepare_sweep_dir(plan, args.out, args.resume)
    with open_executor(args.workers, args.dask) as info:
        report = run_compare(plan, args.out, info, resume=args.resume)
    status = _sweep_summary(report, args.out)
    print(f"wrote {args.out}/report.md")
    return status


# --- chipwar tournament (runs/experiments/tournament.py)
def _tournament_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, help="preset name or scenario .toml file")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument(
        "--members", type=_positive_int, default=20, help="ensemble members to draw (20)"
    )
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="master seed")
    parser.add_argument(
        "--until", default="2028-12", metavar="YYYY-MM", help="horizon of the payoffs (2028-12)"
    )
    parser.add_argument("--scale", type=_positive_int, default=None, help="micro-adopters")
    parser.add_argument(
        "--ensemble-file",
        "--ensemble",
        type=Path,
        default=None,
        metavar="PATH",
        help="the calibrated ensemble (default world/data/ensemble.parquet)",
    )
    parser.add_argument(
        "--weights", type=Path, default=None, metavar="FILE", help="payoff weights (.toml)"
    )
    _pool_arguments(parser)


def _tournament(args: argparse.Namespace) -> int:
    from chipwar.runs.core.executors import check_executor_options, open_executor
    from chipwar.runs.core.single_run import prepare_out_dir
    from chipwar.runs.experiments.payoffs import load_weights
    from chipwar.runs.experiments.tournament import check_horizon, doctrines_of, run_tournament
    from chipwar.world.ensemble import load_ensemble
    from chipwar.world.scenario import load_scenario, with_overrides

    check_executor_options(args.workers, args.dask)
    scenario = load_scenario(args.scenario)
    if args.scale is not None:
        scenario = with_overrides(scenario, {"scale": args.scale}, source="--scale")
    check_horizon(scenario, args.until)
    weights = load_weights(str(args.weights)) if args.weights is not None else None
    ensemble = load_ensemble(args.ensemble_file)
    prepare_out_dir(args.out)
    doctrines = doctrines_of(scenario)
    started = time.perf_counter()
    with open_executor(args.workers, args.dask) as info:
        print(
            f"tournament: {len(doctrines)}x{len(doctrines)} doctrines x {args.members} members "
            f"= {len(doctrines) ** 2 * args.members} runs on {info.label}",
            file=sys.stderr,
        )
        game = run_tournament(
            scenario,
            ensemble,
            args.out,
            info,
            members=args.members,
            seed=args.seed,
            until=args.until,
            weights=weights,
            progress=sys.stderr.isatty(),
        )
    if game.equilibria:
        found = "; ".join(
            f"US {game.us_strategies[i]} / China {game.china_strategies[j]}"
            for i, j in game.equilibria
        )
        print(f"pure-strategy equilibria of the mean game: {found}")
    else:
        print("the mean game has no pure-strategy equilibrium")
    print(f"wrote {args.out}/report.md in {time.perf_counter() - started:.1f} s")
    return 0


Handler = Callable[[argparse.Namespace], int]


# --- chipwar wargame, dashboard and bench: each has its own module in runs/cli, imported only
# when the command is parsed or run (wargame.py, dashboard.py, bench.py)
def _own_module(name: str) -> tuple[Callable[[argparse.ArgumentParser], None], Handler]:
    """The (add arguments, handle) pair of the command module ``chipwar.runs.cli.<name>``."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(f"chipwar.runs.cli.{name}").add_arguments(parser)

    def handle(args: argparse.Namespace) -> int:
        return importlib.import_module(f"chipwar.runs.cli.{name}").run(args)

    return add_arguments, handle


# --- chipwar replay
def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="DIR", help="a run directory, or two side by side"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="FILE.mp4 or FILE.gif (FILE.png with --frame)"
    )
    parser.add_argument("--fps", type=_non_negative_int, default=3, help="months per second (3)")
    parser.add_argument("--size", default="1280x720", help="1920x1080, 1280x720 (default) or WxH")
    parser.add_argument("--theme", default="light", help="light (default) or dark")
    parser.add_argument(
        "--hold-last", type=float, default=3.0, metavar="SECONDS", help="hold the last frame (3)"
    )
    parser.add_argument(
        "--every", type=_non_negative_int, default=1, metavar="N", help="one frame per N months"
    )
    parser.add_argument("--color", default="share", help="share (of adopters, default) or official")
    parser.add_argument("--frame", metavar="YYYY-MM", help="write one still of this month (PNG)")


def _replay(args: argparse.Namespace) -> int:
    from chipwar.runs.core.replays import write_replay
    from chipwar.viz.replay import ReplayOptions

    options = ReplayOptions.make(
        args.fps, args.size, args.theme, args.hold_last, args.every, args.color
    )
    result = write_replay(
        args.runs, args.out, options, frame=args.frame, progress=sys.stderr.isatty()
    )
    what = "one still" if args.frame else f"{result.frames} frames"
    print(f"wrote {result.path} ({what}, {result.bytes / 1e6:.1f} MB) in {result.seconds:.1f} s")
    return 0


# Each command: (add its arguments, handle it, one-line summary). Handlers import lazily so that
# `chipwar --help` and quick commands start fast.
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {
    "demo": (_demo_arguments, _demo, "run both paper scenarios; write charts and a table"),
    "scenarios": (_scenarios_arguments, _scenarios, "list the preset scenarios"),
    "run": (_run_arguments, _run, "run one scenario and write its run directory"),
    "replay": (_replay_arguments, _replay, "animate a run (or two side by side): MP4, GIF or PNG"),
    "sweep": (_sweep_arguments, _sweep, "run an experiment spec into a resumable Parquet store"),
    "analyze": (_analyze_arguments, _analyze, "fan charts, heatmaps, Sobol, PRIM and a report"),
    "compare": (_compare_arguments, _compare, "two or more scenarios side by side over seeds"),
    "calibrate": (_calibrate_arguments, _calibrate, "fit parameters to targets, or --check them"),
    "tournament": (
        _tournament_arguments,
        _tournament,
        "every US doctrine against every China doctrine over ensemble members (EGTA)",
    ),
    "wargame": (*_own_module("wargame"), "wargame sessions: new, move, advance, brief, ..."),
    "dashboard": (*_own_module("dashboard"), "the browser page: explore, wargame rooms"),
    "bench": (*_own_module("bench"), "adoption kernels vs Mesa and numpy; whole-run timings"),
}


if __name__ == "__main__":
    raise SystemExit(main())
