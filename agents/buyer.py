"""Buyers: each country's government, which chooses its official AI stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from chipwar.world.observation import Decision
from chipwar.world.stacks import STACK_CN, STACK_NAMES, STACK_NONE, STACK_US

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

FIXED_STACK = {"USA": STACK_US, "CHN": STACK_CN}


class Buyer(mesa.Agent):
    """One country's government: it picks its official AI stack (trade flows are in the ledger).

    Every ``buyer_review_months`` (staggered across countries) the government weighs the Chinese
    stack against the US one: capability lead, price, surveillance appeal for a control-preferring
    government, US promotion, alliance or embargo status, Belt and Road ties, and what its own
    agencies and firms already use; plus a random part. Inside the hedge band it hedges.
    Each review is recorded with the terms as computed here (``ChipWarModel.record_decision``),
    so reports explain the decision the model took rather than re-deriving it.
    """

    model: ChipWarModel

    def __init__(self, model: ChipWarModel, index: int, official: int) -> None:
        super().__init__(model)
        self.index = index
        self.iso_a3 = str(model.countries.iso[index])
        self.official = official
        self.lean_cn = 0.0

    @property
    def official_stack(self) -> str:
        return STACK_NAMES[self.official]

    def step(self) -> None:
        model, p = self.model, self.model.params
        period = max(int(p.buyer_review_months), 1)
        if self.iso_a3 in FIXED_STACK or (model.months + self.index) % period:
            return
        appeal, shares = model.appeal, model.adoption_shares[self.index]
        own_adopters = p.buyer_adoption_weight * (shares[STACK_CN] - shares[STACK_US])
        draw = p.buyer_noise_sd * model.rng.standard_normal()
        self.lean_cn = appeal.government_lean_cn[self.index] + own_adopters + draw
        band = p.buyer_hedge_band
        choice = (
            STACK_CN if self.lean_cn > band else STACK_US if self.lean_cn < -band else STACK_NONE
        )
        terms = [
            (name, float(values[self.index])) for name, values in appeal.government_terms.items()
        ]
        terms += [("own adopters", float(own_adopters)), ("random draw", float(draw))]
        before = self.official
        self.official = choice
        model.record_decision(
            Decision(
                date=model.date,
                iso=self.iso_a3,
                country=model.countries.name_of(self.index),
                before=before,
                after=choice,
                lean_cn=float(self.lean_cn),
                band=float(band),
                term_items=tuple(terms),
            )
        )
        if choice != before:
            model.record_event(
                "stack_flip",
                f"{model.countries.name_of(self.index)} moves its official stack "
                f"from {STACK_NAMES[before]} to {self.official_stack}",
                country=self.iso_a3,
                before=STACK_NAMES[before],
                after=self.official_stack,
                lean_cn=round(float(self.lean_cn), 3),
            )

    # Reporters for the per-country table.
    @property
    def us_share(self) -> float:
        return float(self.model.adoption_shares[self.index, STACK_US])

    @property
    def cn_share(self) -> float:
        return float(self.model.adoption_shares[self.index, STACK_CN])

    @property
    def none_share(self) -> float:
        return float(self.model.adoption_shares[self.index, STACK_NONE])

    @property
    def legal_imports_h100e(self) -> float:
        return float(self.model.ledger.legal_imports[self.index])

    @property
    def diverted_h100e(self) -> float:
        return float(self.model.ledger.diverted[self.index])
