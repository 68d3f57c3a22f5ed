"""Many runs in one process free their models: memory is measured, never timed.

The soak (benchmarks/soak.py; ``python -m chipwar.benchmarks.soak --runs 1000`` for the full
measure) runs small runs one after the other and records, after garbage collection, the models still
alive, the objects the collector tracks and the resident memory. The check is shown to fail on a
real leak: the same soak with every model kept in a list.
"""

from __future__ import annotations

import json

import pytest
from reliability import run_cli

from chipwar.benchmarks import soak
from chipwar.world import model as world_model
from chipwar.world.model import ChipWarModel

RSS_KB_PER_RUN = 200  # allocator noise stays well under; a leaked model is about 500 KB
OBJECTS_PER_RUN = 5  # a leaked model keeps thousands (agents, arrays, reporters)


def leaks(report: dict) -> list[str]:
    """What in a soak report points to a leak (empty: none)."""
    first, last = report["checkpoints"][0], report["checkpoints"][-1]
    runs = last["run"] - first["run"]
    found = []
    if last["models_alive"] > 0:
        found.append(f"{last['models_alive']} models alive after {last['run']} runs")
    if last["objects"] - first["objects"] > OBJECTS_PER_RUN * runs:
        found.append(f"{last['objects'] - first['objects']:+,} objects over {runs} runs")
    if report["rss_growth_kb_per_run"] > RSS_KB_PER_RUN:
        found.append(f"resident memory {report['rss_growth_kb_per_run']:+.0f} KB per run")
    return found


@pytest.mark.slow
def test_consecutive_runs_in_one_process_do_not_grow_memory():
    report = soak.soak(runs=100, checkpoints=(20,))
    assert leaks(report) == [], soak.format_report(report)


@pytest.mark.slow
def test_the_check_catches_models_kept_alive(monkeypatch):
    kept: list[ChipWarModel] = []

    class Kept(ChipWarModel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            kept.append(self)  # the classic leak: a global list of finished models

    monkeypatch.setattr(world_model, "ChipWarModel", Kept)  # run_scenario imports it per run
    report = soak.soak(runs=40, checkpoints=(10,))
    found = leaks(report)
    assert len(kept) == 40
    # Models alive and objects are exact; resident memory may absorb 30 models in free heap.
    assert "40 models alive after 40 runs" in found, found
    assert any("objects over 30 runs" in f for f in found), found


def test_chipwar_bench_soak_reports_memory_at_checkpoints():
    code, out, err = run_cli(["bench", "--soak", "3", "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert [row["run"] for row in report["checkpoints"]] == [3]
    assert report["models_alive_at_end"] == 0 and report["checkpoints"][0]["rss_mb"] > 0
    code, _, err = run_cli(["bench", "--soak", "0"])
    assert code == 2 and "--soak" in err
