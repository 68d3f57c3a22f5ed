"""Buyers: each country's government, which chooses its official AI stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from chipwar.world.alignment import BEIJING, WASHINGTON
from chipwar.world.observation import Decision
from chipwar.world.stacks import STACK_CN, STACK_NAMES, STACK_NONE, STACK_US

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

#: Hong Kong and Macao follow Beijing; Puerto Rico follows Washington (world/alignment.py).
FIXED_STACK = {iso: STACK_US for iso in WASHINGTON} | {iso: STACK_CN for iso in BEIJING}
#: Position of each official stack on the lean axis (US at the negative end).
_POSITION = {STACK_US: -1, STACK_NONE: 0, STACK_CN: 1}


def band_choice(lean: float, band: float) -> int:
    """The stack a lean picks with no switching cost: Chinese above the band, US below it."""
    return STACK_CN if lean > band else STACK_US if lean < -band else STACK_NONE


def choose_stack(lean: float, current: int, band: float, switch_cost: float) -> int:
    """The official stack after a review: a move must clear the band's edge by the switching cost.

    A play (Schmitt-trigger) rule on the lean axis US < hedged < Chinese: the government moves
    toward China only if ``lean - switch_cost`` picks a stack further toward China than its
    current one, and toward the US only if ``lean + switch_cost`` picks one further toward the
    US; otherwise it keeps its stack. With ``switch_cost = 0`` it is :func:`band_choice`.
    """
    toward_cn = band_choice(lean - switch_cost, band)
    if _POSITION[toward_cn] > _POSITION[current]:
        return toward_cn
    toward_us = band_choice(lean + switch_cost, band)
    if _POSITION[toward_us] < _POSITION[current]:
        return toward_us
    return current


class Buyer(mesa.Agent):
    """One country's government: it picks its official AI stack (trade flows are in the ledger).

    Every ``buyer_review_months`` (staggered across countries) the government weighs the Chinese
    stack against the US one: capability lead, price, bundled surveillance (worth something to a
    control-preferring government, a cost to one that values openness), US promotion, its
    security and diplomatic ties to the US, embargo status, Belt and Road ties, and what its own
    agencies and firms already use; plus a random part. Inside the hedge band it hedges.
    Changing stack costs something (contracts, sunk infrastructure, diplomacy), so a move needs
    the lean to clear the band by ``buyer_switch_cost`` (:func:`choose_stack`). In the first
    month every government settles on the stack its lean picks, without noise or cost: the
    2024 state is at rest under the rule rather than an arbitrary assignment. Each review is
    recorded with the terms as computed here (``ChipWarModel.record_decision``), so reports
    explain the decision the model took rather than re-deriving it.
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
        settle = model.months == 0  # the starting state, not a decision: no noise, no cost
        period = max(int(p.buyer_review_months), 1)
        if self.iso_a3 in FIXED_STACK or not (settle or (model.months + self.index) % period == 0):
            return
        appeal, shares = model.appeal, model.adoption_shares[self.index]
        own_adopters = p.buyer_adoption_weight * (shares[STACK_CN] - shares[STACK_US])
        if settle:
            self.lean_cn = float(appeal.government_lean_cn[self.index] + own_adopters)
            self.official = band_choice(self.lean_cn, p.buyer_hedge_band)
            return
        draw = p.buyer_noise_sd * model.rng.standard_normal()
        self.lean_cn = float(appeal.government_lean_cn[self.index] + own_adopters + draw)
        band, switch_cost = p.buyer_hedge_band, p.buyer_switch_cost
        choice = choose_stack(self.lean_cn, self.official, band, switch_cost)
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
                lean_cn=self.lean_cn,
                band=float(band),
                switch_cost=float(switch_cost),
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
