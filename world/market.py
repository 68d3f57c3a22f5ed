"""The chip market: who produces, who may buy under the tier rules, and what hubs enforce.

This is the world component through which states set trade rules and smugglers place their
pass-through orders; the ledger records the flows it causes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chipwar.world.countries import CountryTable
from chipwar.world.ledger import ComputeLedger
from chipwar.world.parameters import Parameters

SMUGGLING_ROLES = {"transit", "billing"}
OFFSHORE_ROLES = {"datacenter", "compute_hub"}
ALLY_ISOS = ("NLD", "JPN", "KOR", "TWN")


class ChipMarket:
    """Production, licensed exports, pass-through orders and hub enforcement."""

    def __init__(self, countries: CountryTable, params: Parameters, ledger: ComputeLedger) -> None:
        self.params = params
        self.ledger = ledger
        self.us = countries.index("USA")
        self.cn = countries.index("CHN")
        self.tier = countries.tier.astype(np.int64)
        roles = [set(filter(None, c.hub_role.split("|"))) for c in countries.countries]
        importer = (self.tier == 1) | (self.tier == 2)
        gdp = countries.gdp_usd_m.astype(float)
        self.import_weight = np.where(importer, gdp, 0.0) / gdp[importer].sum()
        # Diversion happens where chips can still be bought legally and move on easily.
        self.smuggling_hubs = np.array(
            [i for i, r in enumerate(roles) if r & SMUGGLING_ROLES and importer[i]], dtype=np.int64
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
        self.premium = params.premium_min
        self.offshore_effort = 0.0
        self.offshore_block = 0.0
        self.china_sales = 0.0
        self.cn_domestic_rate = params.cn_domestic_2024
        self.us_output_rate = params.us_production_2024
        self.us_output_month = 0.0  # US-bloc output of the current month (H100e)
        self.cn_domestic_month = 0.0  # Chinese domestic output of the current month (H100e)
        self.cn_investment = 0.5
        self.tool_controls = 0.0
        # Multipliers on this month's output from shocks in force (world/shocks.py); 1 without.
        self.us_output_factor = 1.0
        self.cn_output_factor = 1.0

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
        p = self.params
        self.premium = p.premium_min + (p.premium_max - p.premium_min) * smuggling_demand
        self.offshore_effort = offshore_effort

    def set_domestic_investment(self, investment: float) -> None:
        self.cn_investment = investment

    def set_tool_controls(self, tool_controls: float) -> None:
        self.tool_controls = tool_controls

    def cn_domestic_growth(self) -> float:
        """China's yearly chip-output growth: investment speeds it, allied tool controls slow it."""
        p = self.params
        excess = (p.cn_domestic_growth - 1.0) * (
            1.0 + p.cn_investment_effect * (self.cn_investment - 0.5)
        )
        excess *= 1.0 - p.tool_control_effect * self.tool_controls
        return 1.0 + max(excess, 0.0)

    # --- prices and technology
    def us_growth(self, months: int) -> float:
        """Yearly growth of US-bloc chip output, easing linearly from its 2024 to its 2030 rate."""
        p = self.params
        blend = min(months / 84.0, 1.0)
        return p.us_production_growth + blend * (
            p.us_production_growth_2030 - p.us_production_growth
        )

    def price_per_h100e(self, months: int) -> float:
        p = self.params
        return p.price_per_h100e_2024 * (1.0 - p.price_decline) ** (months / 12.0)

    def licensed_chip_quality(self, months: int) -> float:
        """H100e per licensable chip: H20 class in 2024, H200 class from 2026, linear between."""
        p = self.params
        blend = min(max((months - 12) / 12.0, 0.0), 1.0)
        return p.licensed_chip_h100e_2024 + blend * (
            p.licensed_chip_h100e_2026 - p.licensed_chip_h100e_2024
        )

    # --- the month's trade
    def produce_and_export(self, months: int) -> None:
        """Produce this month's chips and ship them under the rules in force."""
        p, ledger = self.params, self.ledger
        output = self.us_output_rate * self.us_output_factor
        self.us_output_month = output
        self.us_output_rate *= self.us_growth(months) ** (1.0 / 12.0)
        # Capacity spent on licensable chips for China yields `quality` H100e per unit of output.
        capacity_for_china = output * p.cn_legal_demand_share * self.china_sales
        quality = self.licensed_chip_quality(months)
        ledger.produce(self.us, output - capacity_for_china * (1.0 - quality))
        ledger.export(self.us, self.cn, capacity_for_china * quality)
        # Offshore builders follow China's demand; the KYC rule acts on the rentals.
        offshore_demand = (
            output * p.offshore_demand_share * self.offshore_effort * self.offshore_weight
        )
        demand = output * p.export_share * self.import_weight + offshore_demand
        demand += self.pending_orders
        shipped_share = self.allowed_share
        # Exports come out of this month's output, not the US stockpile: with enforcement off and
        # the highest premium, pass-through orders once shipped every US chip abroad.
        wanted = float((demand * shipped_share).sum())
        free = output - capacity_for_china
        if wanted > free > 0.0:
            shipped_share = shipped_share * (free / wanted)
        for country in np.flatnonzero(demand * shipped_share > 0.0):
            ledger.export(self.us, int(country), float(demand[country] * shipped_share[country]))
        for host in np.flatnonzero(offshore_demand > 0.0):
            ledger.earmark_offshore(int(host), float(offshore_demand[host] * shipped_share[host]))
        self.passthrough = self.pending_orders * shipped_share
        self.passthrough_fill = shipped_share.copy()
        self.pending_orders = np.zeros_like(self.pending_orders)
        self.cn_domestic_month = self.cn_domestic_rate * self.cn_output_factor
        ledger.produce(self.cn, self.cn_domestic_month, "domestic")
        self.cn_domestic_rate *= self.cn_domestic_growth() ** (1.0 / 12.0)

    # --- smugglers' side
    def place_order(self, hub: int, volume: float) -> None:
        """A pass-through company orders chips through a hub for next month."""
        self.pending_orders[hub] += volume

    def take_passthrough(self, hub: int, wanted: float) -> float:
        """Claim the chips that reached a hub on a network's order: every order filled pro rata."""
        got = min(wanted * self.passthrough_fill[hub], self.passthrough[hub])
        self.passthrough[hub] -= got
        return got

    def detection_hazard(self, hub: int, volume: Any, us_enforcement: float) -> Any:
        """Monthly bust hazard of a network moving ``volume`` (scalar or array) through ``hub``."""
        p = self.params
        scale = np.power(
            np.asarray(volume, dtype=float) / p.detection_volume_ref, p.detection_volume_exponent
        )
        pressure = (
            (1.0 + p.detection_enforcement_gain * us_enforcement)
            * (1.0 + p.detection_hub_gain * self.hub_enforcement[hub])
            * (1.0 + p.detection_licence_gain * self.licensing[hub])
        )
        return p.detection_base * scale * pressure

    def bust_probability(self, hub: int, volume: Any, us_enforcement: float) -> Any:
        """Chance that a network moving ``volume`` this month is caught."""
        return -np.expm1(-self.detection_hazard(hub, volume, us_enforcement))

    # --- offshore rental
    def offshore_available(self) -> float:
        """Offshore capacity Chinese labs can rent this month, after KYC checks."""
        return float(self.ledger.offshore_for_cn.sum()) * (1.0 - self.offshore_block)
