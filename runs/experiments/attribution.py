"""Which lever families turn the porous world into the loopholes-closed one, and by how much.

Starting from the `porous` preset, the families of `loopholes-closed` levers are switched on one
at a time, in a fixed order, and the 2028 compute gap and lead are measured after each (mean over
seeds). The increments are each family's contribution along that path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipwar.runs.core.executors import ExecutorInfo, run_all, serial
from chipwar.runs.core.single_run import run_scenario
from chipwar.world.scenario import Scenario, load_scenario, with_overrides

LEVER_FAMILIES: dict[str, tuple[str, ...]] = {
    "export controls and chip sales": ("us.export_stringency", "us.china_chip_sales"),
    "enforcement": ("us.enforcement", "us.allied_coordination", "allies.hub_enforcement"),
    "KYC / offshore": ("us.kyc",),
    "anti-distillation": ("us.anti_distillation",),
    "allied tool controls": ("allies.tool_controls",),
    "US stack promotion": ("us.stack_promotion",),
}
MEASURE_AT = "2028-12"
MEASURED = ("compute_gap", "lead_months", "countries_official_cn")


@dataclass(frozen=True)
class StepRun:
    """One seed of one step along the path."""

    scenario: Scenario
    seed: int


def measure(task: StepRun) -> dict[str, float]:
    """The measured metrics at MEASURE_AT of one run (runs in the runner's workers)."""
    last = run_scenario(task.scenario, task.seed, until=MEASURE_AT).series.iloc[-1]
    return {name: float(last[name]) for name in MEASURED}


def family_path(
    seeds: Sequence[int] = (0, 1, 2),
    scale: int | None = 1000,
    info: ExecutorInfo | None = None,
) -> pd.DataFrame:
    """One row per step from porous to loopholes-closed, with each family's contribution.

    ``info``: where the runs execute (runs/core/executors.py); this process if None.
    """
    porous, closed = load_scenario("porous"), load_scenario("loopholes-closed")
    settings: dict[str, float] = {} if scale is None else {"scale": scale}
    steps = [("porous", with_overrides(porous, settings))]
    for family, keys in LEVER_FAMILIES.items():
        settings.update({key: closed.levers.get(key) for key in keys})
        steps.append((f"+ {family}", with_overrides(porous, settings, source="attribution")))
    tasks = [StepRun(scenario, seed) for _step, scenario in steps for seed in seeds]
    measured = run_all(measure, tasks, info or serial())
    rows = []
    for i, (step, _scenario) in enumerate(steps):
        runs = measured[i * len(seeds) : (i + 1) * len(seeds)]
        rows.append({"step": step, **{m: float(np.mean([r[m] for r in runs])) for m in MEASURED}})
    path = pd.DataFrame(rows)
    for column in MEASURED:
        path[f"{column}_change"] = path[column].diff().fillna(0.0)
    return path
