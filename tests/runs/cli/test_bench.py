"""`chipwar bench`: the harness is found in the checkout, or the command says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipwar.runs.cli.bench import find_benchmarks
from chipwar.runs.cli.main import build_parser, main
from chipwar.world.errors import InputError


def test_finds_the_checkout_benchmarks_folder() -> None:
    folder = find_benchmarks()
    assert (folder / "harness.py").is_file() and (folder / "reference.py").is_file()


def test_missing_benchmarks_folder_is_one_line_and_status_2(tmp_path: Path, capsys) -> None:
    with pytest.raises(InputError, match="source checkout"):
        find_benchmarks(tmp_path)
    assert main(["bench", "--quick", "--benchmarks", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chipwar bench: error:") and "\n" not in err


def test_bench_options_parse() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--json", "--no-runs"])
    assert args.quick and args.json and args.no_runs
