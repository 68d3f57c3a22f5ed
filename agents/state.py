"""States: turn the levers in force into the rules the world runs on this month."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel


class State(mesa.Agent):
    """A government: the US, China, or one of the chip-supply allies."""

    model: ChipWarModel

    def __init__(self, model: ChipWarModel, actor: str, iso: str) -> None:
        super().__init__(model)
        self.actor = actor  # "us", "china" or "allies"
        self.iso = iso
        self.index = model.countries.index(iso)

    def step(self) -> None:
        {"us": self._act_as_us, "china": self._act_as_china, "allies": self._act_as_ally}[
            self.actor
        ]()

    def _act_as_us(self) -> None:
        """Export rules, the remote-access rule, and pressure on third-country hubs."""
        us, market, p = self.model.levers.us, self.model.market, self.model.params
        market.set_export_rules(us.export_stringency, us.china_chip_sales)
        market.set_offshore_rule(us.kyc)
        for hub in market.smuggling_hubs:
            if not market.allied_hub[hub]:
                base = market.hub_base_enforcement[hub]
                pull = us.allied_coordination * p.coordination_pull
                market.set_hub_enforcement(int(hub), base + (1.0 - base) * pull)
        # A transit point under Beijing (Hong Kong) polices only by its own regime.
        for hub in market.transit_hubs:
            market.set_hub_enforcement(int(hub), market.hub_base_enforcement[hub])

    def _act_as_china(self) -> None:
        """How much above list Beijing's buyers pay for grey compute, and investment at home."""
        cn, market = self.model.levers.china, self.model.market
        market.set_china_demand(cn.smuggling_demand, cn.offshore_procurement)
        market.set_domestic_investment(cn.domestic_investment)

    def _act_as_ally(self) -> None:
        """Tool controls on China's fabs, and enforcement at this ally's own hubs."""
        allies, market = self.model.levers.allies, self.model.market
        market.set_tool_controls(allies.tool_controls)
        base = market.hub_base_enforcement[self.index]
        market.set_hub_enforcement(self.index, max(base, allies.hub_enforcement))
