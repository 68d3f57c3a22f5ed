"""Smuggling networks: volume choice against risk, busts, entry, the two routes."""

from __future__ import annotations

import math

import numpy as np
from helpers import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwar.agents.smuggling import (
    SmugglingNetwork,
    enter_networks,
    entry_niches,
    margin_index,
)
from chipwar.agents.state import State
from chipwar.world.model import ChipWarModel


def _model(rng: int = 1, **levers: float) -> ChipWarModel:
    """A fresh model whose states have set this month's rules and whose market has cleared once."""
    model = ChipWarModel(small_scenario(**levers), rng=rng)
    model.agents_by_type[State].do("step")
    model.market.produce_and_export(0)
    return model


def _networks(model: ChipWarModel, route: str) -> list[SmugglingNetwork]:
    return [n for n in model.agents_by_type[SmugglingNetwork] if n.route == route]


def _volume(capacity_chips: float = 1e4, **levers: float) -> float:
    network = _networks(_model(**levers), "chip")[0]
    network.capacity_chips = capacity_chips  # large enough that risk, not capacity, sets the volume
    return network.best_volume()


def test_networks_choose_smaller_volumes_under_more_enforcement():
    volumes = [_volume(us_enforcement=e) for e in (0.0, 0.5, 1.0)]
    assert volumes[0] >= volumes[1] >= volumes[2]
    assert volumes[0] > volumes[2]


def test_a_higher_willingness_to_pay_makes_larger_volumes_worth_it():
    low = _volume(china_smuggling_demand=0.2, us_enforcement=0.6)
    high = _volume(china_smuggling_demand=1.0, us_enforcement=0.6)
    assert high > low


def test_no_willingness_to_pay_means_no_orders_and_no_entry():
    model = _model(china_smuggling_demand=0.0)
    assert model.market.premium == 0.0
    assert all(n.best_volume() == 0.0 for n in model.agents_by_type[SmugglingNetwork])
    hub = int(model.market.smuggling_hubs[0])
    assert margin_index(model, hub) == 0.0


def test_a_bust_seizes_the_cargo_and_removes_the_network():
    model = _model()
    network = _networks(model, "chip")[0]
    model.ledger.produce(network.hub, 500.0)
    network.cargo = model.ledger.divert(network.hub, 500.0)
    before = len(model.agents_by_type[SmugglingNetwork])
    network._busted(network.cargo)
    assert model.ledger.seized == 500.0
    assert len(model.agents_by_type[SmugglingNetwork]) == before - 1
    assert model.events[-1]["kind"] == "bust"
    model.ledger.check()


def test_entry_follows_margins_and_the_size_of_unmet_demand():
    rich = _model(rng=5, us_enforcement=0.0, china_smuggling_demand=1.0, us_china_chip_sales=0.0)
    tight = _model(rng=5, us_enforcement=1.0, china_smuggling_demand=0.1)
    hub = int(rich.market.smuggling_hubs[0])
    assert margin_index(rich, hub) > margin_index(tight, hub) >= 0.0
    assert entry_niches(rich, 800.0) > 0.0
    before = sum(rich.networks_per_hub().values())
    for _ in range(24):
        enter_networks(rich)
    assert sum(rich.networks_per_hub().values()) > before
    rich.market.unmet_h100e = 0.0  # no unmet demand, no niche: nobody enters
    before = sum(rich.networks_per_hub().values())
    for _ in range(24):
        enter_networks(rich)
    assert sum(rich.networks_per_hub().values()) == before


def test_server_networks_declare_a_tier2_hub_and_transit_hong_kong():
    model = _model()
    market = model.market
    hkg = model.countries.index("HKG")
    assert list(market.transit_hubs) == [hkg]
    assert hkg not in set(market.smuggling_hubs)  # Tier 3: it imports nothing legally
    server = _networks(model, "server")
    assert server and all(n.transit == hkg for n in server)
    assert all(market.tier[n.hub] == 2 for n in server)
    assert model.networks_per_hub().get(hkg, 0) == len(server)
    # Hong Kong's enforcement, not the declared hub's, polices the goods on their way.
    network = server[0]
    volume = 2000.0
    before = network.bust_probability(volume)
    market.set_hub_enforcement(network.hub, 1.0)
    assert network.bust_probability(volume) == before
    market.set_hub_enforcement(hkg, 1.0)
    assert network.bust_probability(volume) > before


@settings(max_examples=30, deadline=None)
@given(
    volume=st.floats(1.0, 1e6),
    chip_h100e=st.floats(1.0, 10.0),
    enforcement=st.floats(0.0, 1.0),
)
def test_hazard_follows_chips_not_value(volume, chip_h100e, enforcement):
    """The same chips carry more H100e as chips improve; the hazard depends on the chips."""
    model = _model()
    market, hub = model.market, int(model.market.smuggling_hubs[0])
    market.chip_h100e = 1.0
    base = float(market.detection_hazard(hub, volume, enforcement))
    market.chip_h100e = chip_h100e
    same_chips = float(market.detection_hazard(hub, volume * chip_h100e, enforcement))
    assert math.isclose(base, same_chips, rel_tol=1e-9)
    assert 0.0 <= float(market.bust_probability(hub, volume, enforcement)) <= 1.0


def test_network_profit_does_not_depend_on_the_price_level():
    """Gains and losses are both proportional to the value of the goods: price cancels."""
    model = _model()
    network = _networks(model, "chip")[0]
    first = network.best_volume()
    model.market.price *= 0.1
    assert network.best_volume() == first
    assert np.isfinite(network.capacity_usd) and network.capacity_usd > 0


def test_grey_imports_beyond_a_hubs_legitimate_imports_raise_the_hazard():
    model = _model()
    market, hub = model.market, int(model.market.smuggling_hubs[0])
    market.grey_month[hub] = 0.0
    quiet = float(market.detection_hazard(hub, 1000.0, 0.3))
    market.grey_month[hub] = 10.0 * (market.legit_month[hub] + 1000.0)
    assert market.grey_ratio(hub) > 5.0
    assert float(market.detection_hazard(hub, 1000.0, 0.3)) > 5.0 * quiet


@settings(max_examples=40, deadline=None)
@given(
    cargo=st.floats(0.0, 50_000.0),
    capacity=st.floats(10.0, 50_000.0),
    enforcement=st.floats(0.0, 1.0),
    willingness=st.floats(0.05, 1.0),
)
def test_the_fast_volume_choice_equals_the_full_grid(cargo, capacity, enforcement, willingness):
    """best_volume evaluates two grid points around the profit peak; the grid's argmax agrees."""
    from chipwar.agents.smuggling import VOLUME_GRID, expected_profit

    model = _model(us_enforcement=enforcement, china_smuggling_demand=willingness)
    network = _networks(model, "chip")[0]
    network.cargo, network.capacity_chips = cargo, capacity
    volumes = VOLUME_GRID * network.capacity_h100e
    profit = expected_profit(model, volumes, cargo, network.bust_probability)
    best = int(np.argmax(profit))
    expected = float(volumes[best]) if profit[best] > 0.0 else 0.0
    assert math.isclose(network.best_volume(), expected, rel_tol=1e-9, abs_tol=1e-9)
