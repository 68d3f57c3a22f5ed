"""Frontier labs: train on their share of compute, up to the largest site they can power;
Chinese labs rent offshore and distill."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel


class Lab(mesa.Agent):
    """A frontier lab of one side ("us" or "cn") holding a fixed share of that side's compute."""

    model: ChipWarModel

    def __init__(self, model: ChipWarModel, name: str, side: str, compute_share: float) -> None:
        super().__init__(model)
        self.name = name
        self.side = side
        self.compute_share = compute_share
        self.compute_h100e = 0.0
        self.offshore_h100e = 0.0
        self.base_capability = 0.0
        self.distill_bonus = 0.0
        self.capability = 0.0
        self.detection = 0.0  # US labs: share of distillation traffic caught and banned

    def step(self) -> None:
        if self.side == "us":
            self._detect_distillation()
        else:
            self._rent_offshore()
        self._train()
        if self.side == "cn":
            self._distill()
        self.model.race.record(self.side, self.capability)

    def _detect_distillation(self) -> None:
        """Fraudulent-account detection, as strong as the anti-distillation mandate requires."""
        p, mandate = self.model.params, self.model.levers.us.anti_distillation
        self.detection = p.distillation_detect_min + mandate * (
            p.distillation_detect_max - p.distillation_detect_min
        )
        self.model.race.set_detection(self.detection)

    def _rent_offshore(self) -> None:
        """This lab's part of the offshore capacity Chinese clients can rent after KYC checks."""
        self.offshore_h100e = self.compute_share * self.model.market.offshore_available()

    def _train(self) -> None:
        model, race, months = self.model, self.model.race, self.model.months
        held = model.ledger.held[model.side_index[self.side]]
        if self.side == "cn":
            held *= model.market.usable_share(months)  # chips China cannot power sit idle
        self.compute_h100e = self.compute_share * held + self.offshore_h100e
        lag = model.params.cn_algorithmic_lag if self.side == "cn" else 0.0
        self.base_capability = race.training_capability(self.compute_h100e, months, lag, self.side)
        flop = race.training_flop(self.compute_h100e, months, self.side)
        race.record_run(self.side, flop, months)
        self.capability = max(self.capability, self.base_capability + self.distill_bonus)

    def _distill(self) -> None:
        """Copy capability from the US frontier through fraudulent API accounts."""
        effort = self.model.levers.china.distillation_effort
        self.distill_bonus = self.model.race.distill(
            self.distill_bonus, effort, self.base_capability
        )
        self.capability = max(self.capability, self.base_capability + self.distill_bonus)
