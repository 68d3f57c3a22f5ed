"""Smuggling networks: divert chips from a hub's legal imports, trading premium against risk."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

VOLUME_GRID = np.linspace(0.0, 1.0, 41)[1:]


class SmugglingNetwork(mesa.Agent):
    """Pass-through companies and brokers moving chips from one hub to China.

    Each month a network takes the chips its pass-through orders brought into the hub, risks a
    bust on everything it holds, delivers last month's cargo if it survives, and orders again at
    the volume that maximises expected profit: the premium earned minus the chance of a bust
    (rising with volume and enforcement) times the goods and penalties lost.
    """

    model: ChipWarModel

    def __init__(self, model: ChipWarModel, hub: int, capacity_usd: float) -> None:
        super().__init__(model)
        self.hub = hub
        self.hub_iso = str(model.countries.iso[hub])
        self.capacity_usd = capacity_usd
        self.order = 0.0
        self.cargo = 0.0
        self.delivered = 0.0

    def step(self) -> None:
        model = self.model
        new = model.ledger.divert(self.hub, model.market.take_passthrough(self.hub, self.order))
        at_risk = self.cargo + new
        enforcement = model.levers.us.enforcement
        if model.rng.random() < model.market.bust_probability(self.hub, at_risk, enforcement):
            self._busted(at_risk)
            return
        model.ledger.deliver_smuggled(self.cargo)
        self.delivered += self.cargo
        self.cargo = new
        self.order = self.best_volume()
        if self.order <= 0.0 and self.cargo <= 0.0:
            self.remove()  # nothing pays any more: the network dissolves
            return
        self.capacity_usd *= 1.0 + model.params.network_growth
        model.market.place_order(self.hub, self.order)

    def best_volume(self) -> float:
        """The next order (H100e) with the highest expected profit; 0 if none pays.

        Next month the network holds this month's cargo plus the new order: a bust takes both
        and the penalty; otherwise both earn their premium. A bigger order raises the risk to
        the cargo too.
        """
        model, p = self.model, self.model.params
        price = model.market.price_per_h100e(model.months)
        volumes = VOLUME_GRID * self.capacity_usd / price
        at_risk = self.cargo + volumes
        risk = model.market.bust_probability(self.hub, at_risk, model.levers.us.enforcement)
        profit = (1.0 - risk) * model.market.premium * price * at_risk - risk * (
            price * at_risk + p.bust_penalty_usd
        )
        best = int(np.argmax(profit))
        return float(volumes[best]) if profit[best] > 0.0 else 0.0

    def expose(self) -> float:
        """A major case breaks the network up (a shock, world/shocks.py): the cargo it holds is
        seized and it dissolves; returns the H100e seized."""
        seized = self.cargo
        self.model.ledger.seize(seized, self.hub)
        self.cargo = 0.0
        self.remove()
        return seized

    def _busted(self, seized: float) -> None:
        model = self.model
        model.ledger.seize(seized, self.hub)
        model.record_event(
            "bust",
            f"Smuggling network broken up in {model.countries.name_of(self.hub)}",
            country=self.hub_iso,
            seized_h100e=round(seized, 1),
        )
        self.remove()


def margin_index(model: ChipWarModel, hub: int) -> float:
    """Expected profit per dollar of a reference-size network at a hub: what draws entrants."""
    p, market = model.params, model.market
    price = market.price_per_h100e(model.months)
    volume = p.detection_volume_ref
    risk = market.bust_probability(hub, volume, model.levers.us.enforcement)
    loss = risk * (1.0 + p.bust_penalty_usd / (price * volume))
    return max((1.0 - risk) * market.premium - loss, 0.0) / p.premium_max


def enter_networks(model: ChipWarModel) -> None:
    """New networks set up at hubs where margins are high (Poisson entry, capped per hub)."""
    p = model.params
    counts = model.networks_per_hub()
    for hub in model.market.smuggling_hubs:
        room = int(p.network_max_per_hub) - counts.get(int(hub), 0)
        if room <= 0 or model.market.allowed_share[hub] <= 0.0:
            continue
        rate = p.network_entry_rate * margin_index(model, hub) * model.market.allowed_share[hub]
        entrants = min(int(model.rng.poisson(rate)), room)
        for _ in range(entrants):
            capacity = p.network_capacity_usd * math.exp(
                p.network_capacity_sigma * model.rng.standard_normal()
            )
            SmugglingNetwork(model, int(hub), capacity)
