"""Buyers: fixed stacks for the two principals, flips recorded with their reasons."""

from __future__ import annotations

from helpers import small_scenario

from chipwar.agents.buyer import Buyer
from chipwar.world.model import ChipWarModel
from chipwar.world.stacks import STACK_CN, STACK_US


def _buyer(model: ChipWarModel, iso: str) -> Buyer:
    return model.buyers[model.countries.index(iso)]


def test_us_and_china_keep_their_own_stacks():
    model = ChipWarModel(small_scenario(china_export_push=1.0), rng=2, until="2027-12")
    model.run_model()
    assert _buyer(model, "USA").official == STACK_US
    assert _buyer(model, "CHN").official == STACK_CN


def test_flips_are_recorded_as_events_with_the_decision_value():
    model = ChipWarModel(
        small_scenario(
            china_export_push=1.0, china_surveillance_bundle=1.0, us_stack_promotion=0.0
        ),
        rng=2,
        until="2027-12",
    )
    model.run_model()
    flips = [e for e in model.events if e["kind"] == "stack_flip"]
    assert flips
    for flip in flips:
        assert flip["before"] != flip["after"] and "lean_cn" in flip
        buyer = _buyer(model, flip["country"])
        assert buyer.iso_a3 == flip["country"]


def test_control_preferring_governments_lean_more_to_the_bundled_stack():
    model = ChipWarModel(small_scenario(china_surveillance_bundle=1.0), rng=2)
    model.step()
    lean = model.appeal.government_lean_cn
    closed = model.countries.regime == 0
    liberal = model.countries.regime == 3
    assert lean[closed].mean() > lean[liberal].mean()
