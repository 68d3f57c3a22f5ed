"""Each subpackage imports on its own in a fresh interpreter (no circular imports)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "chipwar.agents",
        "chipwar.agents.buyer",
        "chipwar.world",
        "chipwar.world.adoption",
        "chipwar.runs.cli",
        "chipwar.viz.plots",
    ],
)
def test_module_imports_first_in_a_fresh_process(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_package_data_is_reachable():
    from importlib.resources import files

    data = files("chipwar.world") / "data"
    for name in (
        "countries.csv",
        "alignment.csv",
        "parameters.toml",
        "timeline.toml",
        "power.toml",
        "licensing.toml",
        "SOURCES.md",
    ):
        assert (data / name).is_file(), name
