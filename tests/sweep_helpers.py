"""Tiny experiment specs for the sweep tests: levers act from the first month, 1,000 adopters."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from chipwar.runs.experiments.spec import Plan, load_experiment, plan_experiment

SCENARIO = """
name = "tiny-world"
history = false
branch = "2024-01"
scale = 1000
"""


def write_spec(folder: Path, **overrides) -> Path:
    """A spec file (and its scenario file) in ``folder``; overrides replace top-level keys."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny-world.toml").write_text(SCENARIO)
    data = {
        "name": "tiny",
        "scenario": "tiny-world.toml",
        "horizon": "2024-05",
        "seed": 11,
        "replications": 2,
        "design": {"kind": "grid"},
        "factors": {
            "us.enforcement": {"values": [0.1, 0.9]},
            "params.detection_base": {"values": [0.002, 0.02]},
        },
        "outputs": {
            "metrics": ["lead_months", "compute_gap", "smuggled_h100e_cum"],
            "countries": True,
        },
    }
    data.update(overrides)
    path = folder / "spec.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def tiny_plan(folder: Path, **overrides) -> Plan:
    path = write_spec(folder, **overrides)
    return plan_experiment(load_experiment(path), str(path), folder)


def store_files(out: Path) -> dict[str, bytes]:
    """Every result file of a sweep folder by relative path (logs and temporaries left out)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "sessions.jsonl" and "analysis" not in p.parts
    }
