"""`chipwar bench`: the harness is installed with the package, so a plain wheel install runs it.

The wheel is built from a copy of the package folders (the build never writes into the checkout
that other runs use), and the slow test installs it into a fresh virtual environment whose only
view of the checkout is the dependencies of .venv: no editable finder, no source folders.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from chipwar.runs.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[3]
HARNESS = (
    "__init__.py",
    "ensemble.py",
    "harness.py",
    "reference.py",
    "soak.py",
    "tournament.py",
    "wholerun.py",
)


def test_bench_options_parse() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--json", "--no-runs"])
    assert args.quick and args.json and args.no_runs


def test_the_ensemble_bar_is_skipped_with_its_reason_without_an_ensemble(tmp_path) -> None:
    from chipwar.benchmarks.ensemble import ensemble_bench, format_ensemble

    report = ensemble_bench(tmp_path / "none.parquet")
    assert "chipwar calibrate --ensemble" in report["skipped"]
    assert format_ensemble(report).startswith("ensemble run: skipped")
    args = build_parser().parse_args(["bench", "--ensemble-only", "--ensemble-file", "x"])
    assert args.ensemble_only and args.ensemble_file == Path("x")


def test_the_harness_is_the_installed_subpackage() -> None:
    from chipwar.benchmarks import harness, reference

    assert Path(harness.__file__).parent.name == "benchmarks"
    assert harness.MesaAdoption is reference.MesaAdoption  # one package, not a path-loaded copy


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps`` of a copy of the source tree."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("agents", "benchmarks", "runs", "viz", "world"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("chipwar-*.whl")
    return built


def test_the_wheel_carries_the_harness(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"chipwar/benchmarks/{name}" for name in HARNESS} <= names
    assert not any(name.startswith("benchmarks/") for name in names)  # no stray top level


@pytest.mark.slow
def test_bench_runs_from_a_plain_wheel_install(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies from .venv, as a plain path: its .pth files (the editable finder that maps
    # chipwar to this checkout) are not run from a path added this way.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]  # installs into the new one
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    probe = (
        "import json, chipwar.benchmarks.harness as h, chipwar.world as w\n"
        "r = h.whole_run(1000, False, '--field-only')\n"
        "print(json.dumps([h.__file__, w.__file__, r['n_adopters']]))\n"
    )
    done = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    harness, world, adopters = json.loads(done.stdout.strip().splitlines()[-1])
    assert harness.startswith(site) and world.startswith(site), (harness, world)
    assert adopters > 0
    helped = subprocess.run(
        [venv / "bin" / "chipwar", "bench", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert helped.returncode == 0 and "--soak" in helped.stdout, helped.stderr


@pytest.mark.slow
def test_the_bench_times_start_up_with_and_without_deferred_imports() -> None:
    """The timed child defers imports as the chipwar command does, unless told not to."""
    from chipwar.benchmarks import harness

    deferred = harness.whole_run(1000, False, "--field-only")
    eager = harness.whole_run(1000, False, "--field-only", eager_imports=True)
    assert deferred["deferred_imports"] is True and eager["deferred_imports"] is False
    assert deferred["n_adopters"] == eager["n_adopters"] > 0


def test_tournament_bar_options(capsys: pytest.CaptureFixture[str]) -> None:
    from chipwar.runs.cli.main import main

    args = build_parser().parse_args(["bench", "--tournament-only", "--ensemble-file", "e.pq"])
    assert args.tournament_only and args.ensemble_file == Path("e.pq")
    assert main(["bench", "--tournament-only", "--no-tournament"]) == 2
    assert "not with --no-tournament" in capsys.readouterr().err


def test_tournament_bar_is_skipped_without_an_ensemble(tmp_path: Path) -> None:
    from chipwar.benchmarks import tournament

    result = tournament.tournament_run(members=1, ensemble=tmp_path / "none.parquet")
    assert "none.parquet" in result["skipped"]
    assert "skipped" in tournament.format_tournament(result)
