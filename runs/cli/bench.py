"""``chipwar bench``: the benchmark harness (``chipwar.benchmarks``, the benchmarks/ folder).

The harness and its reference implementations are installed with the package, so the command
works from a plain wheel install as well as from a source checkout.
"""

from __future__ import annotations

import argparse
import json
import sys

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
        "--no-tournament",
        action="store_true",
        help="skip the 3x3 doctrine tournament over 20 members (up to two minutes)",
    )
    parser.add_argument(
        "--soak", type=int, default=None, metavar="N", help="memory soak instead: N small runs"
    )


def run(args: argparse.Namespace) -> int:
    if args.soak is not None:  # benchmarks/soak.py: memory after many runs
        if args.soak < 1:
            raise InputError("--soak", "soak", args.soak, "a whole number of runs >= 1")
        from chipwar.benchmarks import soak

        result = soak.soak(args.soak, checkpoints=(10, 100), progress=not args.json)
        print(json.dumps(result) if args.json else soak.format_report(result))
        return 0
    from chipwar.benchmarks import harness

    report = harness.run_bench(
        quick=args.quick, runs=not args.no_runs, tournament=not args.no_tournament
    )
    if args.json:  # the table still goes to stderr, so one run gives both
        print(harness.format_report(report), file=sys.stderr)
        print(json.dumps(report))
    else:
        print(harness.format_report(report))
    return 0
