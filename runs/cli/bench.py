"""``chipwar bench``: the benchmark harness (``chipwar.benchmarks``, the benchmarks/ folder).

The harness and its reference implementations are installed with the package, so the command
works from a plain wheel install as well as from a source checkout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chipwar.world.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a reduced bench, under a minute")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the table goes to stderr)"
    )
    parser.add_argument(
        "--no-runs", action="store_true", help="skip the whole runs at 10^5..10^7 adopters"
    )
    parser.add_argument(
        "--soak", type=int, default=None, metavar="N", help="memory soak instead: N small runs"
    )
    parser.add_argument(
        "--ensemble-only",
        action="store_true",
        help="only the ensemble-run bar (20 members, 2 workers, at most 10 s)",
    )
    parser.add_argument("--no-ensemble", action="store_true", help="skip the ensemble-run bar")
    parser.add_argument(
        "--tournament-only",
        action="store_true",
        help="only the tournament bar (3x3 doctrines x 20 members, 2 workers, at most 120 s)",
    )
    parser.add_argument(
        "--no-tournament", action="store_true", help="skip the tournament bar (the full bench)"
    )
    parser.add_argument(
        "--ensemble-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the ensemble the bars draw from (default world/data/ensemble.parquet)",
    )


def run(args: argparse.Namespace) -> int:
    if args.soak is not None:  # benchmarks/soak.py: memory after many runs
        if args.soak < 1:
            raise InputError("--soak", "soak", args.soak, "a whole number of runs >= 1")
        from chipwar.benchmarks import soak

        result = soak.soak(args.soak, checkpoints=(10, 100), progress=not args.json)
        print(json.dumps(result) if args.json else soak.format_report(result))
        return 0
    from chipwar.benchmarks import ensemble, tournament

    if args.ensemble_only and args.no_ensemble:
        raise InputError("--ensemble-only", "ensemble-only", True, "not with --no-ensemble")
    if args.tournament_only and (args.no_tournament or args.ensemble_only):
        raise InputError(
            "--tournament-only",
            "tournament-only",
            True,
            "not with --no-tournament or --ensemble-only",
        )
    if args.tournament_only:
        result = tournament.tournament_bench(args.ensemble_file)
        text = tournament.format_tournament(result)
        print(json.dumps({"tournament": result}) if args.json else text)
        if args.json:
            print(text, file=sys.stderr)
        return 0
    if args.ensemble_only:
        result = ensemble.ensemble_bench(args.ensemble_file, repeats=1 if args.quick else 3)
        text = ensemble.format_ensemble(result)
        print(json.dumps({"ensemble_run": result}) if args.json else text)
        if args.json:
            print(text, file=sys.stderr)
        return 0
    from chipwar.benchmarks import harness

    report = harness.run_bench(quick=args.quick, runs=not args.no_runs)
    if not args.no_ensemble:
        report["ensemble_run"] = ensemble.ensemble_bench(
            args.ensemble_file, repeats=1 if args.quick else 3
        )
    if not (args.no_tournament or args.quick):  # up to two minutes: not in the quick bench
        report["tournament"] = tournament.tournament_bench(args.ensemble_file)
    text = harness.format_report(report)
    if "ensemble_run" in report:
        text += "\n\n" + ensemble.format_ensemble(report["ensemble_run"])
    if "tournament" in report:
        text += "\n\n" + tournament.format_tournament(report["tournament"])
    if args.json:  # the table still goes to stderr, so one run gives both
        print(text, file=sys.stderr)
        print(json.dumps(report))
    else:
        print(text)
    return 0
