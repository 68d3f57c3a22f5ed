"""The chip market: supply, powered demand, licensed sales to China and the grey market.

This is the world component through which states set trade rules and smugglers place their
pass-through orders; the ledger records the flows it causes. Quantities are physical: buyers outside
China order the chips their data-centre power can run (``PowerGrid``), US-bloc output is the smaller
of that demand and the supply capacity, China orders licensable chips in H100e within its budget and
the licence rules (``licensing``), and what it cannot buy legally sets the premium it offers for
smuggled chips and offshore rental.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chipwar.world.countries import CountryTable
from chipwar.world.ledger import ComputeLedger
from chipwar.world.licensing import rule_at
from chipwar.world.parameters import Parameters
from chipwar.world.power import KW_PER_GW, PowerGrid

SMUGGLING_ROLES = {"transit", "billing"}
OFFSHORE_ROLES = {"datacenter", "compute_hub"}
ALLY_ISOS = ("NLD", "JPN", "KOR", "TWN")


class ChipMarket:
    """Production, licensed exports, pass-through orders, hub enforcement and the grey premium."""

    def __init__(self, countries: CountryTable, params: Parameters, ledger: ComputeLedger) -> None:
        self.params = params
        self.ledger = ledger
        # Detection parameters read once: the hazard is evaluated for every network every month.
        self._detection = (
            params.detection_base,
            params.detection_enforcement_gain,
            params.detection_hub_gain,
            params.detection_licence_gain,
            params.detection_cover_gain,
            params.detection_ref_chips,
            params.detection_volume_exponent,
        )
        self.us = countries.index("USA")
        self.cn = countries.index("CHN")
        self.tier = countries.tier.astype(np.int64)
        self.power = PowerGrid(countries, params)
        self.bloc_of = self.power.bloc_of
        self.n_blocs = len(self.power.index)
        self.cn_bloc = self.power.index["china"]
        roles = [set(filter(None, c.hub_role.split("|"))) for c in countries.countries]
        importer = (self.tier == 1) | (self.tier == 2)
        gdp = countries.gdp_usd_m.astype(float)
        # Within its bloc, a buyer's share of the bloc's powered demand follows its GDP.
        buyer = importer.copy()
        buyer[self.us] = True
        weight = np.where(buyer & (self.bloc_of != self.cn_bloc), gdp, 0.0)
        totals = np.bincount(self.bloc_of, weights=weight, minlength=self.n_blocs)
        self.bloc_weight = np.divide(
            weight, totals[self.bloc_of], out=np.zeros_like(weight), where=totals[self.bloc_of] > 0
        )
        # Chip-level diversion happens where chips can still be bought legally and move on easily.
        self.smuggling_hubs = np.array(
            [i for i, r in enumerate(roles) if r & SMUGGLING_ROLES and importer[i]], dtype=np.int64
        )
        # Server-level pass-through companies declare end users in Tier-2 hubs and ship through a
        # transit point that is no legal importer (Hong Kong): Tier 3, so it buys nothing itself.
        self.front_hubs = np.array(
            [h for h in self.smuggling_hubs if self.tier[h] == 2], dtype=np.int64
        )
        self.transit_hubs = np.array(
            [i for i, r in enumerate(roles) if "transit" in r and self.tier[i] == 3], dtype=np.int64
        )
        offshore = np.array([bool(r & OFFSHORE_ROLES) and importer[i] for i, r in enumerate(roles)])
        self.offshore_weight = np.where(offshore, gdp, 0.0)
        if self.offshore_weight.sum() > 0:
            self.offshore_weight /= self.offshore_weight.sum()
        self.allied_hub = np.array([iso in ALLY_ISOS for iso in countries.iso])
        self.hub_base_enforcement = np.full(len(countries), params.hub_enforcement_base)
        self.hub_enforcement = self.hub_base_enforcement.copy()
        self.allowed_share = np.where(importer, 1.0, 0.0)
        self.licensing = np.zeros(len(countries))  # licence scrutiny of imports at each country
        self.pending_orders = np.zeros(len(countries))
        self.passthrough = np.zeros(len(countries))
        self.passthrough_fill = np.zeros(len(countries))
        self.china_sales = 0.0
        self.smuggling_demand = 0.0
        self.offshore_effort = 0.0
        self.offshore_block = 0.0
        self.cn_investment = 0.5
        self.tool_controls = 0.0
        self.cn_domestic_rate = params.cn_domestic_2024
        self.supply_rate = params.us_production_2024
        # The grey market: premium over list China pays, its unmet demand, grey supply last month.
        self.scarcity_premium = 0.5 * params.premium_max
        self.unmet_h100e = 0.0
        self.grey_supply = 0.0
        self.offshore_plan = 0.0  # H100e offshore hosts build for Chinese clients next month
        self.chip_h100e = 1.0  # H100e per smuggled chip this month
        self.price = params.price_per_h100e_2024
        # Observations of the current month.
        self.us_output_month = 0.0
        self.cn_domestic_month = 0.0
        self.licensed_month = 0.0
        self.offshore_built_month = 0.0
        self.legit_month = np.zeros(len(countries))  # legitimate imports (own and offshore), H100e
        self.grey_month = np.zeros(len(countries))  # pass-through imports, H100e

    # --- rules set by the states
    def set_export_rules(self, stringency: float, china_sales: float) -> None:
        """Tier 1 buys freely, Tier 2 is capped by stringency, Tier 3 is embargoed."""
        tier2_share = 1.0 - stringency * self.params.tier2_cap_cut
        self.allowed_share = np.select(
            [self.tier == 1, self.tier == 2], [1.0, tier2_share], default=0.0
        )
        self.licensing = np.where(self.tier == 2, stringency, 0.0)
        self.china_sales = china_sales

    def set_hub_enforcement(self, index: int, level: float) -> None:
        self.hub_enforcement[index] = min(max(level, 0.0), 1.0)

    def set_base_enforcement(self, index: int, level: float) -> None:
        """A hub's own enforcement regime (for example Malaysia's 2025 permits)."""
        self.hub_base_enforcement[index] = min(max(level, 0.0), 1.0)

    def set_offshore_rule(self, kyc: float) -> None:
        """The remote-access (KYC) rule blocks part of the rentals to Chinese clients."""
        self.offshore_block = kyc * self.params.kyc_block

    def set_china_demand(self, smuggling_demand: float, offshore_effort: float) -> None:
        """How far above list Beijing's buyers will pay for smuggled chips and offshore rental."""
        self.smuggling_demand = smuggling_demand
        self.offshore_effort = offshore_effort

    def set_domestic_investment(self, investment: float) -> None:
        self.cn_investment = investment

    def set_tool_controls(self, tool_controls: float) -> None:
        self.tool_controls = tool_controls

    # --- prices, premiums and technology
    @property
    def premium(self) -> float:
        """Premium over list a smuggler earns: the scarcity premium up to China's willingness."""
        return min(self.scarcity_premium, self.params.premium_max * self.smuggling_demand)

    @property
    def offshore_premium(self) -> float:
        """Premium over list offshore hosts earn from Chinese clients, up to China's effort."""
        return min(self.scarcity_premium, self.params.premium_max * self.offshore_effort)

    def cn_domestic_growth(self) -> float:
        """China's yearly chip-output growth: investment speeds it, allied tool controls slow it."""
        p = self.params
        excess = (p.cn_domestic_growth - 1.0) * (
            1.0 + p.cn_investment_effect * (self.cn_investment - 0.5)
        )
        excess *= 1.0 - p.tool_control_effect * self.tool_controls
        return 1.0 + max(excess, 0.0)

    def supply_growth(self, months: int) -> float:
        """Yearly growth of US-bloc supply capacity, easing linearly from its 2024 to 2030 rate."""
        p = self.params
        blend = min(months / 84.0, 1.0)
        return p.us_production_growth + blend * (
            p.us_production_growth_2030 - p.us_production_growth
        )

    def price_per_h100e(self, months: int) -> float:
        p = self.params
        return p.price_per_h100e_2024 * (1.0 - p.price_decline) ** (months / 12.0)

    def cn_budget(self, months: int) -> float:
        """USD per month China's AI sector spends on foreign AI chips."""
        p = self.params
        return p.cn_chip_budget_2024 * p.cn_budget_growth ** (months / 12.0)

    # --- power
    def bloc_draw_kw(self) -> np.ndarray:
        return np.bincount(self.bloc_of, weights=self.ledger.draw_kw, minlength=self.n_blocs)

    def bloc_capacity_kw(self, months: int) -> np.ndarray:
        return self.power.capacity_gw(months) * KW_PER_GW

    def usable_share(self, months: int) -> float:
        """Share of China's chips it can power (1 unless its power binds; the rest sit idle)."""
        draw = float(self.ledger.draw_kw[self.cn])
        capacity = float(self.bloc_capacity_kw(months)[self.cn_bloc])
        return 1.0 if draw <= capacity else capacity / draw

    # --- the month's trade
    def produce_and_export(self, months: int) -> None:
        """Allocate this month's output to powered demand, licensed orders and pass-through orders.

        Outside China nobody orders chips it cannot power, so output is the smaller of the supply
        capacity and what buyers can power (plus China's licensed and pass-through orders); when
        supply is short every order is filled pro rata. Refused and unpowered orders are not made.
        """
        p, ledger = self.params, self.ledger
        kw = self.power.kw_per_h100e(months)
        self.price = price = self.price_per_h100e(months)
        self.chip_h100e = p.chip_h100e_growth ** (months / 12.0)
        empty = np.maximum(self.bloc_capacity_kw(months) - self.bloc_draw_kw(), 0.0) / kw
        headroom = p.power_fill_rate * empty  # orders this month for powered, empty space
        headroom[self.cn_bloc] = 0.0  # China buys abroad only through licences and the grey market
        own = headroom[self.bloc_of] * self.bloc_weight
        offshore = self.offshore_plan * self.offshore_weight
        wanted = np.bincount(self.bloc_of, weights=own + offshore, minlength=self.n_blocs)
        squeeze = np.divide(headroom, wanted, out=np.ones_like(wanted), where=wanted > headroom)
        own *= squeeze[self.bloc_of]
        offshore *= squeeze[self.bloc_of]
        allowed = self.allowed_share.copy()
        allowed[self.us] = 1.0
        own *= allowed
        offshore *= allowed
        passthrough = self.pending_orders * allowed
        supply = self.supply_rate
        licensed = self.licensed_orders(months, price, supply, float(own[self.us]))
        total = float(own.sum() + offshore.sum() + passthrough.sum()) + licensed
        output = min(supply, total)
        fill = output / total if total > 0.0 else 0.0
        self.us_output_month = output
        ledger.produce(self.us, output)
        shipped = (own + offshore + passthrough) * fill
        shipped[self.us] = 0.0
        for country in np.flatnonzero(shipped > 0.0):
            ledger.export(self.us, int(country), float(shipped[country]))
        self.licensed_month = ledger.export(self.us, self.cn, licensed * fill)
        for host in np.flatnonzero(offshore > 0.0):
            ledger.earmark_offshore(int(host), float(offshore[host] * fill))
        self.offshore_built_month = float(offshore.sum()) * fill
        self.passthrough = passthrough * fill
        self.legit_month = (own + offshore) * fill
        self.grey_month = self.passthrough.copy()
        self.passthrough_fill = allowed * fill
        self.pending_orders = np.zeros_like(self.pending_orders)
        self._clear_grey_market(months, price)
        self.supply_rate *= self.supply_growth(months) ** (1.0 / 12.0)
        ledger.produce(self.cn, self.cn_domestic_rate, "domestic")
        self.cn_domestic_month = self.cn_domestic_rate
        self.cn_domestic_rate *= self.cn_domestic_growth() ** (1.0 / 12.0)

    def licensed_price(self, months: int, price: float) -> float:
        """China's price per H100e of the licensable product (markup and fee included)."""
        rule = rule_at(months)
        return price * rule.product.price_markup * (1.0 + rule.fee)

    def licensed_orders(self, months: int, price: float, supply: float, us_sales: float) -> float:
        """China's approved licensed orders this month (H100e), inside its budget and the caps.

        China would spend ``cn_licensed_budget_share`` of its budget on the licensable product;
        Beijing lets ``cn_uptake`` of those orders be placed; US licensing approves
        ``us.china_chip_sales`` of them; the vendors allocate at most ``licensed_vendor_share`` of
        supply; the rule in force caps China at ``volume_cap`` times US sales of the product.
        """
        p, rule = self.params, rule_at(months)
        orders = (
            p.cn_licensed_budget_share * self.cn_budget(months) / self.licensed_price(months, price)
        )
        approved = orders * rule.cn_uptake * self.china_sales
        cap = p.licensed_vendor_share * supply
        if rule.volume_cap > 0.0:
            cap = min(cap, rule.volume_cap * p.legacy_share_of_us_sales * us_sales)
        return min(approved, cap)

    def _clear_grey_market(self, months: int, price: float) -> None:
        """China's unmet demand against last month's grey supply sets the premium; hosts respond.

        The budget not spent on licensed chips would buy ``unmet`` H100e at list. Spent on grey
        supply ``S`` at premium ``q`` it clears where ``S (1 + q) = unmet``; the premium moves
        ``premium_adjust`` of the way there each month, between 0 and ``premium_max``. Offshore
        hosts plan next month's builds for Chinese clients from the unmet demand and the premium
        they can earn, less what the remote-access rule would block.
        """
        p = self.params
        spent = self.licensed_month * self.licensed_price(months, price)
        self.unmet_h100e = max(self.cn_budget(months) - spent, 0.0) / price
        if self.grey_supply > 0.0:
            clearing = min(max(self.unmet_h100e / self.grey_supply - 1.0, 0.0), p.premium_max)
        else:
            clearing = p.premium_max
        self.scarcity_premium += p.premium_adjust * (clearing - self.scarcity_premium)
        self.offshore_plan = (
            p.offshore_response
            * self.unmet_h100e
            * (self.offshore_premium / p.premium_max)
            * (1.0 - self.offshore_block)
        )

    def record_grey_supply(self, smuggled: float) -> None:
        """The month's grey supply (smuggled deliveries, offshore builds), for the next premium."""
        self.grey_supply = smuggled + self.offshore_built_month

    # --- smugglers' side
    def place_order(self, hub: int, volume: float) -> None:
        """A pass-through company orders chips through a hub for next month."""
        self.pending_orders[hub] += volume

    def take_passthrough(self, hub: int, wanted: float) -> float:
        """Claim the chips that reached a hub on a network's order: every order filled pro rata."""
        got = min(wanted * self.passthrough_fill[hub], self.passthrough[hub])
        self.passthrough[hub] -= got
        return got

    def detection_hazard(
        self, hub: int, volume: Any, us_enforcement: float, transit: int | None = None
    ) -> Any:
        """Monthly bust hazard of a network holding ``volume`` H100e (scalar or array) at ``hub``.

        The hazard grows with the chips held (physical flow, not value) and with how conspicuous
        the hub's grey imports are against its legitimate ones. Licence scrutiny and that
        conspicuousness act at the hub where the chips are declared; hub enforcement acts where
        they move on: the hub itself, or the ``transit`` point of a server-level network.
        """
        scale = self.hazard_scale(hub, us_enforcement, transit)
        exponent = self._detection[6]
        if isinstance(volume, float | int):  # one draw a network-month: skip numpy's overhead
            return scale * float(volume) ** exponent
        return scale * np.power(np.asarray(volume, dtype=float), exponent)

    def hazard_scale(self, hub: int, us_enforcement: float, transit: int | None = None) -> float:
        """``a`` in ``hazard(v) = a * v**detection_volume_exponent`` (v in H100e) this month."""
        base, enforcement_gain, hub_gain, licence_gain, cover_gain, ref, exponent = self._detection
        policed = hub if transit is None else transit
        reference = ref * self.chip_h100e
        grey = float(self.grey_month[hub]) / (float(self.legit_month[hub]) + reference)
        pressure = (
            base
            * (1.0 + enforcement_gain * us_enforcement)
            * (1.0 + hub_gain * float(self.hub_enforcement[policed]))
            * (1.0 + licence_gain * float(self.licensing[hub]))
            * (1.0 + cover_gain * grey)
        )
        return pressure / reference**exponent

    def grey_ratio(self, hub: int) -> float:
        """Pass-through imports at a hub this month over its legitimate imports (a red flag).

        Singapore billed 18% of Nvidia's revenue while under 1% physically shipped there, and
        Malaysia's GPU imports rose >3,400% before its permit regime (facts.md §3.2): imports far
        beyond what a hub's own data centres can power are what investigators look for. The
        reference flow of one network keeps the ratio finite at a hub with no legitimate imports.
        """
        reference = self.params.detection_ref_chips * self.chip_h100e
        return float(self.grey_month[hub] / (self.legit_month[hub] + reference))

    def bust_probability(
        self, hub: int, volume: Any, us_enforcement: float, transit: int | None = None
    ) -> Any:
        """Chance that a network holding ``volume`` this month is caught."""
        hazard = self.detection_hazard(hub, volume, us_enforcement, transit)
        if isinstance(hazard, float):
            return -math.expm1(-hazard)
        return -np.expm1(-hazard)

    # --- offshore rental
    def offshore_available(self) -> float:
        """Offshore capacity Chinese labs can rent this month, after KYC checks."""
        return float(self.ledger.offshore_for_cn.sum()) * (1.0 - self.offshore_block)
