"""Smuggling networks: volume choice against risk, busts, entry."""

from __future__ import annotations

from helpers import small_scenario

from chipwar.agents.smuggling import SmugglingNetwork, enter_networks, margin_index
from chipwar.agents.state import State
from chipwar.world.model import ChipWarModel


def _model(rng: int = 1, **levers: float) -> ChipWarModel:
    """A fresh model whose states have turned their levers into this month's rules."""
    model = ChipWarModel(small_scenario(**levers), rng=rng)
    model.agents_by_type[State].do("step")
    return model


def _network(model: ChipWarModel) -> SmugglingNetwork:
    return next(iter(model.agents_by_type[SmugglingNetwork]))


def _volume(capacity_usd: float = 1e9, **levers: float) -> float:
    network = _network(_model(**levers))
    network.capacity_usd = capacity_usd  # large enough that risk, not capacity, sets the volume
    return network.best_volume()


def test_networks_choose_smaller_volumes_under_more_enforcement():
    volumes = [_volume(us_enforcement=e) for e in (0.0, 0.5, 1.0)]
    assert volumes[0] >= volumes[1] >= volumes[2]
    assert volumes[0] > volumes[2]


def test_a_higher_premium_makes_larger_volumes_worth_it():
    low = _volume(china_smuggling_demand=0.0, us_enforcement=0.6)
    high = _volume(china_smuggling_demand=1.0, us_enforcement=0.6)
    assert high > low


def test_a_bust_seizes_the_cargo_and_removes_the_network():
    model = _model()
    network = _network(model)
    model.ledger.produce(network.hub, 500.0)
    network.cargo = model.ledger.divert(network.hub, 500.0)
    before = len(model.agents_by_type[SmugglingNetwork])
    network._busted(network.cargo)
    assert model.ledger.seized == 500.0
    assert len(model.agents_by_type[SmugglingNetwork]) == before - 1
    assert model.events[-1]["kind"] == "bust"
    model.ledger.check()


def test_entry_follows_margins():
    rich = _model(rng=5, us_enforcement=0.0, china_smuggling_demand=1.0)
    tight = _model(rng=5, us_enforcement=1.0, china_smuggling_demand=0.0)
    hub = int(rich.market.smuggling_hubs[0])
    assert margin_index(rich, hub) > margin_index(tight, hub) >= 0.0
    before = sum(rich.networks_per_hub().values())
    for _ in range(24):
        enter_networks(rich)
    assert sum(rich.networks_per_hub().values()) > before
