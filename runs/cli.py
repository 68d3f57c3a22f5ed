"""The `chipwar` command line. Bad input gets one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from chipwar.world.errors import InputError

EXIT_INPUT = 2


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
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command][1]
    try:
        return handler(args)
    except InputError as err:
        print(f"chipwar {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"chipwar {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one line unless the user asks for the traceback
        if os.environ.get("CHIPWAR_DEBUG"):
            raise
        print(
            f"chipwar {args.command}: internal error: {type(err).__name__}: {err} "
            "(set CHIPWAR_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


# --- chipwar demo
def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("chipwar-demo"), help="output folder")
    parser.add_argument("--seed", type=_non_negative_int, default=0)
    parser.add_argument("--scale", type=_non_negative_int, default=None, help="micro-adopters")


def _demo(args: argparse.Namespace) -> int:
    from chipwar.runs.demo import run_demo

    run_demo(args.out, seed=args.seed, scale=args.scale)
    return 0


# --- chipwar scenarios
def _scenarios_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="also list levers")


def _scenarios(args: argparse.Namespace) -> int:
    from chipwar.world.levers import describe_levers
    from chipwar.world.scenario import list_presets

    presets = list_presets()
    width = max(len(name) for name, _ in presets)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")
    if args.verbose:
        print("\nLevers (key, default, meaning); set with --set KEY=VALUE, each in [0, 1]:")
        for key, default, meaning in describe_levers():
            print(f"  {key:<28} {default:<5g} {meaning}")
    return 0


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
        help="override a lever (us.enforcement=0.8) or parameter (params.NAME=VALUE)",
    )
    parser.add_argument("--scale", type=_non_negative_int, default=None, help="micro-adopters")
    parser.add_argument("--until", default=None, metavar="YYYY-MM", help="stop after this month")
    parser.add_argument("--out", type=Path, required=True, help="run directory to write")


def _run(args: argparse.Namespace) -> int:
    from chipwar.runs.single import prepare_out_dir, run_scenario, until_check, write_run_dir
    from chipwar.runs.tables import summary_table
    from chipwar.world.scenario import load_scenario, parse_assignment, with_overrides

    scenario = load_scenario(args.scenario)
    assignments = dict(parse_assignment(text) for text in args.assignments)
    if args.scale is not None:
        assignments["scale"] = args.scale
    if assignments:
        scenario = with_overrides(scenario, assignments)
    until_check(args.until, scenario)
    prepare_out_dir(args.out)
    started = time.perf_counter()
    result = run_scenario(scenario, args.seed, args.until, progress=sys.stderr.isatty())
    write_run_dir(result, args.out)
    print(summary_table({scenario.name: result.series}))
    print(f"\nwrote {args.out}/ in {time.perf_counter() - started:.1f} s")
    return 0


# Each command: (add its arguments, handle it, one-line summary). Handlers import lazily so that
# `chipwar --help` and quick commands start fast.
Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {
    "demo": (_demo_arguments, _demo, "run both paper scenarios; write charts and a table"),
    "scenarios": (_scenarios_arguments, _scenarios, "list the preset scenarios"),
    "run": (_run_arguments, _run, "run one scenario and write its run directory"),
}


if __name__ == "__main__":
    raise SystemExit(main())
