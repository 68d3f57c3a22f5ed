"""How attractive each AI stack is in each country: shared by governments and micro-adopters.

Both the official stack choice (Buyer) and the adoption field read the same country-level terms,
so a lever moves governments and firms in the same direction for the same documented reasons.
"""

from __future__ import annotations

import functools
import operator

import numpy as np

from chipwar.world.alignment import Alignment, load_alignment
from chipwar.world.countries import CountryTable
from chipwar.world.levers import Levers
from chipwar.world.parameters import Parameters


class StackAppeal:
    """Country-level utility terms of the US and Chinese stacks, refreshed every month."""

    def __init__(
        self, countries: CountryTable, params: Parameters, alignment: Alignment | None = None
    ) -> None:
        p = self.params = params
        ties = alignment if alignment is not None else load_alignment(countries)
        regime_control = (3.0 - countries.regime.astype(float)) / 3.0
        self.control_preference = np.clip(
            p.control_regime_weight * regime_control
            + p.control_surveillance_weight * countries.ai_surveillance_2019.astype(float)
            + p.control_supplier_weight * countries.cn_surveillance_supplier.astype(float),
            0.0,
            1.0,
        )
        # Openness: how much a government values civil liberties (V-Dem Regimes of the World,
        # 0 closed autocracy .. 3 liberal democracy); bundled surveillance costs it this much.
        self.openness = countries.regime.astype(float) / 3.0
        tier = countries.tier.astype(np.int64)
        self.us_blocked = (tier == 3).astype(float)  # embargoed: the US stack is not for sale
        self.cn_blocked = (countries.iso == "USA").astype(float)
        self.bri = countries.bri_member.astype(float)
        # Security and diplomatic ties to the US (alignment.csv), in utility toward the US stack.
        self.alignment_terms = {
            "US treaty ally": p.buyer_treaty_weight * ties.us_treaty.astype(float),
            "major non-NATO ally": p.buyer_mnna_weight * ties.mnna.astype(float),
            "US bases": p.buyer_bases_weight * ties.us_bases.astype(float),
            "recognises Taiwan": p.buyer_taiwan_weight * ties.recognises_taiwan.astype(float),
            "UN votes with the US": p.buyer_un_weight
            * (ties.un_filled(p.alignment_un_default) - p.alignment_un_default),
        }
        self.alignment_pull = sum(self.alignment_terms.values())
        n = len(countries)
        self.government_terms: dict[str, np.ndarray] = {}
        self.government_lean_cn = np.zeros(n)
        self.adopter_utility = np.zeros((n, 3))
        self.price_advantage_cn = 0.0

    def update(self, lead_log10: float, levers: Levers, months: int) -> None:
        """Recompute the month's terms from the capability lead (US minus China) and the levers."""
        p, us, cn = self.params, levers.us, levers.china
        self.price_advantage_cn = p.cn_base_discount + p.export_push_discount * cn.export_push
        surveillance = self.control_preference * cn.surveillance_bundle
        ones = np.ones_like(self.control_preference)
        # Each term of a government's lean to China (positive leans to China); the lean is their
        # sum, in this order, and a buyer records them with its decision (agents/buyer.py).
        self.government_terms = {
            "capability lead": -p.buyer_capability_weight * lead_log10 * ones,
            "price": p.buyer_price_weight * self.price_advantage_cn * ones,
            "surveillance bundle": self._surveillance_net(cn.surveillance_bundle),
            "US promotion": -p.buyer_promotion_weight * us.stack_promotion * ones,
            **{name: -values for name, values in self.alignment_terms.items()},
            "US embargo (Tier 3)": p.buyer_tier3_weight * self.us_blocked,
            "Belt and Road": p.buyer_bri_weight * self.bri,
        }
        self.government_lean_cn = functools.reduce(operator.add, self.government_terms.values())
        u = self.adopter_utility
        u[:, 0] = p.none_utility_2024 - p.none_utility_drift * months / 12.0
        u[:, 1] = (
            0.5 * p.adopter_capability_weight * lead_log10
            + p.adopter_us_ecosystem
            + p.adopter_price_weight * p.us_promotion_discount * us.stack_promotion
            - p.adopter_access_weight * self.us_blocked
        )
        u[:, 2] = (
            -0.5 * p.adopter_capability_weight * lead_log10
            + p.adopter_price_weight * self.price_advantage_cn
            + p.adopter_surveillance_weight * surveillance
            + p.adopter_open_weights_weight * cn.open_weights
            - p.adopter_access_weight * self.cn_blocked
        )

    def _surveillance_net(self, bundle: float) -> np.ndarray:
        """Bundled surveillance: worth something to control, a cost to openness (utility)."""
        p = self.params
        return bundle * (
            p.buyer_surveillance_weight * self.control_preference
            - p.buyer_openness_cost * self.openness
        )
