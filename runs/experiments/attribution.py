"""Which lever families turn the porous world into the loopholes-closed one, and by how much.

Starting from the `porous` preset, the families of `loopholes-closed` levers are switched on one
at a time, in a fixed order, and the 2028 compute gap and lead are measured after each (mean over
seeds). The increments are each family's contribution along that path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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


def _measure(scenario: Scenario, seeds: Sequence[int]) -> dict[str, float]:
    gaps, leads, cn_official = [], [], []
    for seed in seeds:
        series = run_scenario(scenario, seed, until=MEASURE_AT).series
        last = series.iloc[-1]
        gaps.append(last["compute_gap"])
        leads.append(last["lead_months"])
        cn_official.append(last["countries_official_cn"])
    return {
        "compute_gap": float(np.mean(gaps)),
        "lead_months": float(np.mean(leads)),
        "countries_official_cn": float(np.mean(cn_official)),
    }


def family_path(seeds: Sequence[int] = (0, 1, 2), scale: int | None = 1000) -> pd.DataFrame:
    """One row per step from porous to loopholes-closed, with each family's contribution."""
    porous, closed = load_scenario("porous"), load_scenario("loopholes-closed")
    settings: dict[str, float] = {} if scale is None else {"scale": scale}
    rows = [{"step": "porous", **_measure(with_overrides(porous, settings), seeds)}]
    for family, keys in LEVER_FAMILIES.items():
        settings.update({key: closed.levers.get(key) for key in keys})
        scenario = with_overrides(porous, settings, source="attribution")
        rows.append({"step": f"+ {family}", **_measure(scenario, seeds)})
    path = pd.DataFrame(rows)
    for column in ("compute_gap", "lead_months", "countries_official_cn"):
        path[f"{column}_change"] = path[column].diff().fillna(0.0)
    return path
