"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from chipwar.world.scenario import Scenario

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

ACTORS = ("us", "china", "allies")


def small_scenario(**levers: float) -> Scenario:
    """Levers in force from the first month (no history phase), smallest adopter field."""
    data: dict = {"name": "test", "history": False, "scale": 1000, "levers": {}}
    for key, value in levers.items():
        actor, name = key.split("_", 1)
        assert actor in ACTORS, key
        data["levers"].setdefault(actor, {})[name] = value
    return Scenario.model_validate(data)


def assert_healthy(model: ChipWarModel) -> None:
    """Invariants after a step: compute conserved, no negative or non-finite stock, every share
    in [0, 1], every metric finite (the ledger's own check included)."""
    from chipwar.agents.lab import Lab
    from chipwar.agents.smuggling import SmugglingNetwork

    ledger = model.ledger
    ledger.check()
    assert math.isclose(ledger.produced, ledger.total_accounted(), rel_tol=1e-9)
    assert (ledger.held >= -1e-6).all() and ledger.in_transit >= 0 and ledger.seized >= 0
    assert np.isfinite(ledger.held).all() and ledger.retired >= 0 and ledger.produced >= 0
    assert all(math.isfinite(v) and v >= -1e-6 for v in ledger.cn_by_source.values())
    assert (ledger.offshore_for_cn >= -1e-6).all()
    assert (ledger.offshore_for_cn <= ledger.held + 1e-6 * np.maximum(ledger.held, 1)).all()
    shares = model.adoption_shares
    assert np.isfinite(shares).all() and (shares >= 0).all() and (shares <= 1).all()
    assert np.allclose(shares.sum(axis=1), 1.0)
    for name, value in model.metrics.items():
        if name == "date":
            continue
        assert value is not None and np.isfinite(value), name
        if name.startswith(("cn_share_", "us_share_")):
            assert 0.0 <= value <= 1.0, name
        elif name.endswith(("_h100e", "_h100e_cum", "_usd", "_flop_us")) or name.startswith(
            ("countries_", "pop_", "networks_")
        ):
            assert value >= 0, name
    assert model.metrics["compute_us_h100e"] > 0 and model.metrics["compute_cn_h100e"] > 0
    assert 0.0 <= model.race.detection <= 1.0
    for lab in model.agents_by_type[Lab]:
        assert math.isfinite(lab.capability) and lab.compute_h100e >= 0, lab.name
    for network in model.agents_by_type.get(SmugglingNetwork, []):
        assert math.isfinite(network.capacity_usd) and network.capacity_usd >= 0
        assert network.cargo >= 0 and network.order >= 0
    assert {b.official for b in model.buyers} <= {0, 1, 2}
