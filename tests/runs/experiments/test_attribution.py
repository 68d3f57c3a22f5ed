"""Moving from porous to loopholes-closed one lever family at a time moves gap and lead one way."""

from __future__ import annotations

import pytest

from chipwar.runs.experiments.attribution import LEVER_FAMILIES, family_path
from chipwar.world.scenario import load_scenario


def test_families_cover_every_lever_the_two_worlds_set_differently():
    porous, closed = load_scenario("porous").levers.flat(), load_scenario("loopholes-closed").levers
    differing = {key for key, value in porous.items() if value != closed.get(key)}
    covered = {key for keys in LEVER_FAMILIES.values() for key in keys}
    assert differing == covered


@pytest.mark.slow
def test_each_family_widens_gap_and_lead_monotonically():
    path = family_path(seeds=(0, 1), scale=1000)
    assert len(path) == len(LEVER_FAMILIES) + 1
    assert (path["compute_gap_change"] >= -1e-9).all(), path
    assert (path["lead_months_change"] >= -0.05).all(), path
    assert path["compute_gap"].iloc[-1] > 2 * path["compute_gap"].iloc[0]
