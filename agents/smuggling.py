"""Smuggling networks: divert chips from a hub's legal imports, trading premium against risk.

Two kinds. Chip-level networks buy chips that a hub (Singapore, Malaysia, Thailand, Taiwan,
Japan) imports legally and move them on. Server-level networks are pass-through companies that
order whole servers with false end-user papers naming a Tier-2 hub and ship them through a transit
point that is no legal importer (Hong Kong), the pattern of the $2.5B Super Micro case.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

VOLUME_GRID = np.linspace(0.0, 1.0, 41)[1:]
ROUTES = ("chip", "server")


class SmugglingNetwork(mesa.Agent):
    """Pass-through companies and brokers moving chips from one hub to China.

    Each month a network takes the chips its pass-through orders brought into the hub, risks a
    bust on everything it holds, delivers last month's cargo if it survives, and orders again at
    the volume that maximises expected profit: the premium earned minus the chance of a bust
    (rising with the chips held and with enforcement) times the goods lost and the penalty, which
    is a multiple of their value.
    """

    model: ChipWarModel

    def __init__(
        self,
        model: ChipWarModel,
        hub: int,
        capacity_chips: float,
        route: str = "chip",
        transit: int | None = None,
    ) -> None:
        super().__init__(model)
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
        self.hub = hub  # where its orders are delivered (the declared destination)
        self.hub_iso = str(model.countries.iso[hub])
        self.route = route
        self.transit = transit  # where a server-level network moves the goods on (None: the hub)
        self.capacity_chips = capacity_chips  # chips a month it can move
        self.order = 0.0
        self.cargo = 0.0
        self.delivered = 0.0

    @property
    def capacity_h100e(self) -> float:
        return self.capacity_chips * self.model.market.chip_h100e

    @property
    def capacity_usd(self) -> float:
        """What it can move in a month at list price (for comparison with court cases)."""
        return self.capacity_h100e * self.model.market.price

    def bust_probability(self, volume: float | np.ndarray) -> float | np.ndarray:
        market, enforcement = self.model.market, self.model.levers.us.enforcement
        return market.bust_probability(self.hub, volume, enforcement, self.transit)

    def step(self) -> None:
        model = self.model
        new = model.ledger.divert(self.hub, model.market.take_passthrough(self.hub, self.order))
        at_risk = self.cargo + new
        if model.rng.random() < self.bust_probability(at_risk):
            self._busted(at_risk)
            return
        model.ledger.deliver_smuggled(self.cargo)
        self.delivered += self.cargo
        self.cargo = new
        self.order = self.best_volume()
        if self.order <= 0.0 and self.cargo <= 0.0:
            self.remove()  # nothing pays any more: the network dissolves
            return
        self.capacity_chips *= 1.0 + model.params.network_growth
        model.market.place_order(self.hub, self.order)

    def best_volume(self) -> float:
        """The next order (H100e) with the highest expected profit; 0 if none pays.

        Next month the network holds this month's cargo plus the new order: a bust takes both
        and the penalty; otherwise both earn their premium. A bigger order raises the risk to
        the cargo too. Profit is proportional to the price, so only the premium, the penalty
        multiple and the hazard decide.

        The grid is ``VOLUME_GRID`` times capacity. Profit depends on the holding ``x = cargo + v``
        only and rises to one peak, where the hazard equals ``optimal_hazard`` whatever the
        enforcement; so the best grid point is one of the two around that peak, and only those
        two are evaluated (the same choice as evaluating the whole grid, at a fraction of the
        cost: this runs for every network every month).
        """
        model = self.model
        market, p = model.market, model.params
        premium = market.premium
        if premium <= 0.0:
            return 0.0
        top = len(VOLUME_GRID)
        step = self.capacity_h100e / top
        scale = market.hazard_scale(self.hub, model.levers.us.enforcement, self.transit)
        exponent, penalty = p.detection_volume_exponent, p.bust_penalty_multiple
        if scale <= 0.0:
            candidates = [top]
        else:
            peak = (optimal_hazard(premium, penalty, exponent) / scale) ** (1.0 / exponent)
            k = (peak - self.cargo) / step
            candidates = sorted({min(max(math.floor(k), 1), top), min(max(math.ceil(k), 1), top)})
        best_k, best_profit = 0, 0.0
        for k in candidates:
            held = self.cargo + k * step
            risk = -math.expm1(-scale * held**exponent)
            profit = held * ((1.0 - risk) * premium - risk * (1.0 + penalty))
            if profit > best_profit:
                best_k, best_profit = k, profit
        return best_k * step if best_profit > 0.0 else 0.0

    def _busted(self, seized: float) -> None:
        model = self.model
        model.ledger.seize(seized, self.hub)
        model.record_event(
            "bust",
            f"Smuggling network broken up in {model.countries.name_of(self.hub)}",
            country=self.hub_iso,
            route=self.route,
            seized_h100e=round(seized, 1),
        )
        self.remove()


@cache
def optimal_hazard(premium: float, penalty_multiple: float, exponent: float) -> float:
    """The monthly hazard at which a network's expected profit peaks.

    Profit ``x·[(1−P)·q − P·(1+k)]`` with ``P = 1 − exp(−h)`` and ``h = a·x^β`` is highest where
    ``1 − exp(−h)·(1 − β·h) = q / (1 + q + k)``: a root in ``h`` that does not depend on ``a``,
    so enforcement changes the volume at the peak, not the hazard there.
    """
    target = premium / (1.0 + premium + penalty_multiple)
    low, high = 0.0, (1.0 + exponent) / exponent  # the left side rises on this interval
    for _ in range(60):
        mid = 0.5 * (low + high)
        if 1.0 - math.exp(-mid) * (1.0 - exponent * mid) < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def expected_profit(model: ChipWarModel, volumes: np.ndarray, cargo: float, risk_of) -> np.ndarray:
    """Expected profit per unit of list price of ordering ``volumes`` while holding ``cargo``."""
    market, p = model.market, model.params
    at_risk = cargo + volumes
    risk = risk_of(at_risk)
    return at_risk * ((1.0 - risk) * market.premium - risk * (1.0 + p.bust_penalty_multiple))


def margin_index(
    model: ChipWarModel, hub: int, capacity_chips: float | None = None, transit: int | None = None
) -> float:
    """Expected profit per dollar of capacity of a new network at a hub, at today's premium,
    price and enforcement and its best volume: what draws entrants."""
    p, market = model.params, model.market
    chips = p.network_capacity_chips if capacity_chips is None else capacity_chips
    capacity = chips * market.chip_h100e
    enforcement = model.levers.us.enforcement
    volumes = VOLUME_GRID * capacity
    profit = expected_profit(
        model, volumes, 0.0, lambda v: market.bust_probability(hub, v, enforcement, transit)
    )
    return max(float(profit.max()) / capacity, 0.0)


def entry_niches(model: ChipWarModel, median_chips: float) -> float:
    """How many networks of median size China's unmet demand could keep busy, per entry point."""
    market = model.market
    points = len(market.smuggling_hubs) + len(market.transit_hubs)
    return market.unmet_h100e / (median_chips * market.chip_h100e * max(points, 1))


def enter_networks(model: ChipWarModel) -> None:
    """New networks set up where margins are high: Poisson entry, with only a safety cap.

    The expected number of entrants at an entry point is ``network_entry_rate`` times the margin
    a median entrant would earn there now (premium, price, enforcement, its best volume) times
    the niches the unmet demand offers: a bigger grey market draws more brokers, and a falling
    premium or rising enforcement draws fewer. Chip-level networks enter each hub that can import
    legally; server-level networks enter the transit point, declaring the Tier-2 hub with the best
    margin as destination.
    """
    p, market = model.params, model.market
    counts = model.networks_per_hub()
    niches = entry_niches(model, p.network_capacity_chips)
    for hub in market.smuggling_hubs:
        hub = int(hub)
        if market.allowed_share[hub] <= 0.0:
            continue
        margin = margin_index(model, hub) * market.allowed_share[hub]
        rate = p.network_entry_rate * margin * niches
        _enter(model, hub, rate, counts.get(hub, 0), p.network_capacity_chips, "chip", None)
    server_niches = entry_niches(model, p.server_network_capacity_chips)
    for transit in market.transit_hubs:
        transit = int(transit)
        fronts = [int(h) for h in market.front_hubs if market.allowed_share[h] > 0.0]
        if not fronts:
            continue
        margins = [
            margin_index(model, h, p.server_network_capacity_chips, transit)
            * market.allowed_share[h]
            for h in fronts
        ]
        best = int(np.argmax(margins))
        rate = p.network_entry_rate * margins[best] * server_niches
        size = p.server_network_capacity_chips
        _enter(model, fronts[best], rate, counts.get(transit, 0), size, "server", transit)


def _enter(
    model: ChipWarModel,
    hub: int,
    rate: float,
    present: int,
    median_chips: float,
    route: str,
    transit: int | None,
) -> None:
    p = model.params
    room = int(p.network_max_per_hub) - present
    entrants = min(int(model.rng.poisson(rate)), max(room, 0))
    for _ in range(entrants):
        capacity = median_chips * math.exp(p.network_capacity_sigma * model.rng.standard_normal())
        SmugglingNetwork(model, hub, capacity, route, transit)
