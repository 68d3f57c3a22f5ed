"""``chipwar bench``: find the repository's benchmarks/ folder and run its harness.

benchmarks/ is not part of the installed package (it holds reference implementations that only
exist to be measured against), so it is loaded by path from the source checkout: the folder
beside this package's source (an editable install), or one named by ``--benchmarks`` or the
CHIPWAR_BENCHMARKS environment variable.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

from chipwar.world.errors import InputError

PACKAGE = "chipwar_benchmarks"


def find_benchmarks(explicit: Path | None = None) -> Path:
    """The benchmarks folder, or an InputError saying where it was looked for."""
    candidates = []
    if explicit is not None:
        candidates.append(explicit)
    elif os.environ.get("CHIPWAR_BENCHMARKS"):
        candidates.append(Path(os.environ["CHIPWAR_BENCHMARKS"]))
    else:
        candidates.append(Path(__file__).resolve().parents[2] / "benchmarks")
    for folder in candidates:
        if (folder / "harness.py").is_file():
            return folder
    raise InputError(
        "chipwar bench",
        "--benchmarks",
        str(candidates[0]),
        "needs the benchmarks/ folder of a source checkout (install with `pip install -e .` "
        "from a clone, or pass --benchmarks PATH)",
    )


def load_harness(folder: Path) -> ModuleType:
    """Import ``folder`` as the package ``chipwar_benchmarks`` and return its harness module."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:  # pragma: no cover - a folder with __init__.py
            raise InputError("chipwar bench", "--benchmarks", str(folder), "a Python package")
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{PACKAGE}.harness")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a reduced bench, under a minute")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the table goes to stderr)"
    )
    parser.add_argument(
        "--no-runs", action="store_true", help="skip the whole runs at 10^5..10^7 adopters"
    )
    parser.add_argument("--benchmarks", type=Path, default=None, help="benchmarks/ folder")
    parser.add_argument(
        "--soak", type=int, default=None, metavar="N", help="memory soak instead: N small runs"
    )


def run(args: argparse.Namespace) -> int:
    harness = load_harness(find_benchmarks(args.benchmarks))
    if getattr(args, "soak", None) is not None:  # benchmarks/soak.py: memory after many runs
        if args.soak < 1:
            raise InputError("--soak", "soak", args.soak, "a whole number of runs >= 1")
        soak = importlib.import_module(f"{PACKAGE}.soak")
        result = soak.soak(args.soak, checkpoints=(10, 100), progress=not args.json)
        print(json.dumps(result) if args.json else soak.format_report(result))
        return 0
    report = harness.run_bench(quick=args.quick, runs=not args.no_runs)
    if args.json:  # the table still goes to stderr, so one run gives both
        print(harness.format_report(report), file=sys.stderr)
        print(json.dumps(report))
    else:
        print(harness.format_report(report))
    return 0
