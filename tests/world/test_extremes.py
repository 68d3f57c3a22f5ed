"""Numerical health at the edges: every lever and parameter at the ends of its documented range.

Whatever a user sets inside the ranges, a run must never produce NaN or infinity, a negative
stock, a share outside [0, 1], or lose compute. The invariants (``helpers.assert_healthy``, which
includes the ledger's own conservation check) are checked after every step of whole runs,
2024-01 to 2030-12.
"""

from __future__ import annotations

import pytest
from helpers import assert_healthy
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from reliability import tally

from chipwar.world.levers import lever_keys
from chipwar.world.model import ChipWarModel
from chipwar.world.parameters import parameter_table
from chipwar.world.scenario import Scenario

PARAMS = parameter_table()


def _scenario(
    levers: dict[str, float], params: dict[str, float], history: bool = False
) -> Scenario:
    nested: dict[str, dict[str, float]] = {}
    for key, value in levers.items():
        actor, name = key.split(".")
        nested.setdefault(actor, {})[name] = value
    return Scenario.model_validate(
        {
            "name": "extreme",
            "history": history,
            "scale": 1000,
            "levers": nested,
            "params": params,
        }
    )


def _run_checked(scenario: Scenario, seed: int) -> ChipWarModel:
    model = ChipWarModel(scenario, rng=seed)
    while model.running:
        model.step()
        assert_healthy(model)
    assert model.date == "2031-01" and model.months == 84  # reached the end, 2030-12
    tally("numerical health: extreme runs, invariants after each of 84 steps", "passed")
    return model


def _end(which: str, name: str) -> float:
    spec = PARAMS[name]
    return spec.min if which == "min" else spec.max


@pytest.mark.parametrize(
    "levers, params",
    [("min", "min"), ("max", "max"), ("min", "max"), ("max", "min")],
)
def test_all_levers_and_parameters_at_the_ends_of_their_ranges(levers, params):
    lever_value = 0.0 if levers == "min" else 1.0
    scenario = _scenario(
        dict.fromkeys(lever_keys(), lever_value), {n: _end(params, n) for n in PARAMS}
    )
    _run_checked(scenario, seed=1)


def test_unchecked_smuggling_never_ships_the_whole_us_stockpile_abroad():
    """Found by the random mixes below: enforcement off, the highest premium and networks growing
    as fast as allowed once made pass-through orders larger than US output, and the US shipped
    every chip it held (US compute 0 from 2026-04). Exports now come out of the month's output."""
    levers = dict.fromkeys(lever_keys(), 0.0) | {"china.smuggling_demand": 1.0}
    params = {
        "us_production_2024": 120000.0,
        "network_entry_rate": 0.3,
        "detection_base": 0.0005,
        "detection_volume_exponent": 1.1,
        "network_growth": 0.1,
        "buyer_review_months": 1.0,
        "adopters_min_per_country": 1.0,
        "link_same_region_boost": 1.0,
    }
    model = _run_checked(_scenario(levers, params), seed=0)
    assert model.metrics["smuggled_h100e_cum"] > 1e7  # smuggling did run unchecked


@pytest.mark.slow
@settings(max_examples=8, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking:
# an example is a whole run (shrinking one took five minutes); it is shown as generated.
@given(
    levers=st.fixed_dictionaries({key: st.sampled_from([0.0, 1.0]) for key in lever_keys()}),
    params=st.fixed_dictionaries(
        {
            name: st.sampled_from(sorted({spec.min, spec.value, spec.max}))
            for name, spec in PARAMS.items()
        }
    ),
    history=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_mixes_of_extreme_levers_and_parameters(levers, params, history, seed):
    _run_checked(_scenario(levers, params, history), seed)
