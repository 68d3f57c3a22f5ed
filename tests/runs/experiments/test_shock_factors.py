"""Shock settings as sweep factors and fixed settings: accepted, applied, refused when bad."""

from __future__ import annotations

import pytest

from chipwar.runs.experiments.spec import experiment_from_dict, plan_experiment, point_assignments
from chipwar.world.errors import InputError
from chipwar.world.scenario import with_overrides


def _spec(factors: dict, **extra) -> dict:
    return {
        "name": "shocks",
        "scenario": "porous",
        "scale": 1000,
        "horizon": "2027-06",
        "seed": 1,
        "factors": factors,
        "design": {"kind": "grid"},
        **extra,
    }


def test_rate_scale_and_a_shock_are_factors_applied_to_the_scenario():
    data = _spec(
        {
            "shocks.rate_scale": {"values": [0.0, 2.0]},
            "shocks.policy_reversal": {"values": [0.0, 1.0]},
        },
        set={"shocks.enabled": 1},
    )
    plan = plan_experiment(experiment_from_dict(data, "t"), "t")
    assert len(plan.design) == 4
    label, values = point_assignments(plan, 3)
    scenario = with_overrides(plan.scenarios[label], values)
    assert scenario.shocks.rate_scale == 2.0
    assert scenario.shocks.per_shock == {"policy_reversal": 1.0}


@pytest.mark.parametrize(
    ("factors", "hint"),
    [
        ({"shocks.rate_scale": {"values": [11.0]}}, "rate scales in [0, 10]"),
        ({"shocks.enabled": {"values": [0.5]}}, "0 (shocks off) or 1 (on)"),
        ({"shocks.meteor": {"values": [1.0]}}, "shocks.rate_scale or shocks.<name>"),
    ],
)
def test_bad_shock_factors_are_refused_in_one_line(factors, hint):
    with pytest.raises(InputError) as caught:
        experiment_from_dict(_spec(factors), "spec.toml")
    assert hint in str(caught.value) and "\n" not in str(caught.value)
