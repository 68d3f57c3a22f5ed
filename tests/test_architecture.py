"""Architecture rules, read from the source: the layers' import contracts (issue 13 §4).

Every module's imports are parsed with ``ast`` (all of them: at the top, inside functions, under
``if TYPE_CHECKING:``, and ``importlib.import_module("...")`` calls with a literal name), so a rule
cannot be dodged by importing late. Each violation is reported as ``file:line: imports X (rule)``.

The layers (see docs/ARCHITECTURE.md): ``world`` and ``agents`` are the model and know nothing of
how they are run or shown; ``viz`` draws from world-level data only; inside ``runs``, experiments
and wargame sessions share the core, not each other; argument parsing belongs to the command line.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------------
# reading the imports


def installed_folders(root: Path = ROOT) -> dict[str, Path]:
    """Import package -> source folder, from pyproject's package-dir (``chipwar.world`` ->
    ``world/``), so a newly mapped folder is checked without editing this test."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        package: root / folder
        for package, folder in config["tool"]["setuptools"]["package-dir"].items()
    }


def module_name(path: Path, package: str, folder: Path) -> str:
    """``world/model.py`` -> ``chipwar.world.model``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


@dataclass(frozen=True)
class Import:
    """One imported module name, and where."""

    importer: str  # chipwar.viz.replay
    file: str  # viz/replay.py, relative to the repository
    line: int
    target: str  # chipwar.runs.core.preflight, or argparse

    def show(self, rule: str) -> str:
        return f"{self.file}:{self.line}: imports {self.target} ({rule})"


def _absolute(base: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute module of ``from <dots><base> import ...`` written in ``importer``."""
    if level == 0:
        return base or ""
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, base] if base else parts)


def imports_in(source: str, importer: str, file: str, is_package: bool = False) -> list[Import]:
    """Every module name ``source`` imports, wherever the import statement stands."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=file)):
        if isinstance(node, ast.Import):
            found += [Import(importer, file, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, importer, is_package)
            for alias in node.names:
                # `from chipwar import runs` imports chipwar.runs; `from a.b import c`, a.b
                target = f"{base}.{alias.name}" if base in ("chipwar", "") else base
                found.append(Import(importer, file, node.lineno, target))
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(importer, file, node.lineno, node.args[0].value))
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def all_imports(root: Path = ROOT) -> list[Import]:
    """The imports of every installed module under ``root``."""
    found: list[Import] = []
    for package, folder in installed_folders(root).items():
        for path in sorted(folder.rglob("*.py")):
            importer = module_name(path, package, folder)
            found += imports_in(
                path.read_text(encoding="utf-8"),
                importer,
                str(path.relative_to(root)),
                is_package=path.name == "__init__.py",
            )
    return found


# --------------------------------------------------------------------------------------------------
# the import contracts


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


# Command-line entry points of their own outside runs/cli: scripts run by path, not library code.
# benchmarks/wholerun.py is the child process the bench times (its start-up is what it measures);
# benchmarks/soak.py is the long memory soak, run by hand with options the bench does not offer.
SCRIPTS = frozenset({"chipwar.benchmarks.wholerun", "chipwar.benchmarks.soak"})


@dataclass(frozen=True)
class Rule:
    """Modules inside ``importers`` (less ``exempt``) must not import ``forbidden``, and, when
    ``only`` is given, no chipwar module outside ``only``."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    exempt: frozenset[str] = frozenset()

    def breaks(self, i: Import) -> bool:
        if not _within(i.importer, *self.importers) or _within(i.importer, *self.exempt):
            return False
        if _within(i.target, *self.forbidden):
            return True
        return self.only is not None and (
            _within(i.target, "chipwar") and not _within(i.target, *self.only)
        )


RULES = [
    Rule("world never imports runs or viz", ("chipwar.world",), ("chipwar.runs", "chipwar.viz")),
    Rule("agents never import runs or viz", ("chipwar.agents",), ("chipwar.runs", "chipwar.viz")),
    Rule("viz imports world only", ("chipwar.viz",), only=("chipwar.world", "chipwar.viz")),
    Rule(
        "experiments never import wargame",
        ("chipwar.runs.experiments",),
        ("chipwar.runs.wargame",),
    ),
    Rule(
        "wargame never imports experiments",
        ("chipwar.runs.wargame",),
        ("chipwar.runs.experiments",),
    ),
    Rule(
        "only the command line (runs/cli) uses argparse",
        ("chipwar",),
        ("argparse",),
        exempt=frozenset({"chipwar.runs.cli", *SCRIPTS}),
    ),
]


def violations(imports: list[Import], rule: Rule) -> list[str]:
    return sorted({i.show(rule.name) for i in imports if rule.breaks(i)})


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return all_imports()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_import_contract(rule: Rule, imports: list[Import]) -> None:
    broken = violations(imports, rule)
    assert not broken, "\n" + "\n".join(broken)


def test_every_installed_folder_is_read(imports: list[Import]) -> None:
    """The contracts see every layer (an empty scan would pass every rule)."""
    importers = {i.importer.split(".")[1] for i in imports}
    assert {"agents", "world", "runs", "viz"} <= importers
    assert any(i.importer == "chipwar.runs.cli.main" and i.target == "argparse" for i in imports)


def _planted(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A small tree that breaks every rule once, in each way an import can hide."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools.package-dir]\n"chipwar.world" = "world"\n"chipwar.viz" = "viz"\n'
        '"chipwar.runs" = "runs"\n"chipwar.agents" = "agents"\n'
    )
    files = {
        "world/__init__.py": "",
        "world/model.py": "def f():\n    from chipwar.runs.core import preflight\n",
        "agents/buyer.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from chipwar.viz import plots\n"
        ),
        "viz/replay.py": "from ..agents import buyer\n",
        "runs/experiments/outlook.py": (
            "import importlib\nimportlib.import_module('chipwar.runs.wargame.session')\n"
        ),
        "runs/wargame/__init__.py": "from chipwar import runs\nimport chipwar.runs.experiments\n",
        "runs/core/single_run.py": "def main():\n    import argparse\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    yield from [
        ("world never imports runs or viz", "world/model.py:2: imports chipwar.runs.core"),
        ("agents never import runs or viz", "agents/buyer.py:3: imports chipwar.viz"),
        ("viz imports world only", "viz/replay.py:1: imports chipwar.agents"),
        (
            "experiments never import wargame",
            "runs/experiments/outlook.py:2: imports chipwar.runs.wargame.session",
        ),
        ("wargame never imports experiments", "runs/wargame/__init__.py:2: imports"),
        ("only the command line (runs/cli) uses argparse", "runs/core/single_run.py:2: imports"),
    ]


def test_the_contracts_catch_imports_hidden_in_functions_type_checking_and_import_module(
    tmp_path: Path,
) -> None:
    expected = list(_planted(tmp_path))
    planted = all_imports(tmp_path)
    for rule in RULES:
        found = violations(planted, rule)
        wanted = [where for name, where in expected if name == rule.name]
        assert len(found) == len(wanted), (rule.name, found)
        for where in wanted:
            assert any(line.startswith(where) for line in found), (where, found)


# --------------------------------------------------------------------------------------------------
# one way to observe the model (issue 13 §2)

# Names of the model's components and of agents' state. Outside world/ and agents/ the model is
# read through ChipWarModel.OUTSIDE_API only (observe(), the run tables, lever_value); these names
# must not appear at all, whatever object they are read from (an alias of the model included).
INTERNALS = frozenset(
    {
        "ledger",
        "market",
        "race",
        "appeal",
        "adoption",
        "adoption_shares",
        "agents_by_type",
        "buyers",
        "datacollector",
        "schedule",
        "networks_per_hub",
        "leading_labs",
        "month_decisions",
        "month_events_start",
        "record_decision",
        "side_index",
        "government_lean_cn",
        "government_terms",
        "cn_by_source",
        "hub_base_enforcement",
        "smuggling_hubs",
        "capacity_usd",
        "compute_share",
    }
)
OBSERVERS = ("chipwar.runs", "chipwar.viz")  # code that drives or shows the model


def _names_the_model(node: ast.expr) -> bool:
    """``model``, ``self.model``, ``session.model``: an expression that is the model."""
    return (isinstance(node, ast.Name) and node.id == "model") or (
        isinstance(node, ast.Attribute) and node.attr == "model"
    )


def model_reads(source: str, file: str, api: frozenset[str]) -> list[str]:
    """Where ``source`` reads the model's internals or a model attribute outside ``api``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=file)):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in INTERNALS:
            found.append(f"{file}:{node.lineno}: reads .{node.attr} (a model internal)")
        elif _names_the_model(node.value) and node.attr not in api:
            found.append(f"{file}:{node.lineno}: model.{node.attr} is not in OUTSIDE_API")
    return found


def observer_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """Source files of the packages that observe the model, with their module names."""
    out = []
    for package, folder in installed_folders(root).items():
        if _within(package, *OBSERVERS):
            out += [(p, module_name(p, package, folder)) for p in sorted(folder.rglob("*.py"))]
    return out


def test_runs_and_viz_observe_the_model_only_through_its_api(imports: list[Import]) -> None:
    from chipwar.world.model import ChipWarModel

    files = observer_files()
    assert {name.split(".")[1] for _path, name in files} == {"runs", "viz"}
    broken = [
        line
        for path, _name in files
        for line in model_reads(
            path.read_text(encoding="utf-8"),
            str(path.relative_to(ROOT)),
            ChipWarModel.OUTSIDE_API,
        )
    ]
    broken += [
        i.show("runs and viz never import agents: they observe the model")
        for i in imports
        if _within(i.importer, *OBSERVERS) and _within(i.target, "chipwar.agents")
    ]
    assert not broken, "\n" + "\n".join(sorted(broken))


def test_the_api_exists_and_the_reading_check_catches_internals_and_aliases() -> None:
    from chipwar.world.model import ChipWarModel

    api = ChipWarModel.OUTSIDE_API
    model = ChipWarModel(rng=0, scale=1000, until="2024-02")
    assert [n for n in sorted(api) if not hasattr(model, n)] == []
    assert INTERNALS.isdisjoint(api)
    source = (
        "def f(session, run):\n"
        "    obs = session.model.observe()\n"  # fine
        "    run.model.step()\n"  # fine
        "    m = session.model\n"
        "    held = m.ledger.held\n"  # an alias: caught by name
        "    lean = model.buyers[0].lean_cn\n"  # caught by name
        "    return session.model.metrics, run.model.levers.get('us.kyc')\n"  # outside the API
    )
    found = model_reads(source, "planted.py", api)
    assert sorted(line.split(": ", 1)[0] for line in found) == [
        "planted.py:5",
        "planted.py:6",
        "planted.py:7",
        "planted.py:7",
    ], found
    assert any("reads .ledger" in line for line in found)
    assert any("model.levers is not in OUTSIDE_API" in line for line in found)
