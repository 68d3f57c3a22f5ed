"""What code outside the model may know of it: one read-only snapshot per month.

``ChipWarModel.observe()`` returns an :class:`Observation`: the month's metrics and levers, the
compute ledger's books (who holds compute, China's holdings by source, the month's gross inflow
to China and what aged out), each smuggling hub's enforcement, diversion and seizures, the leading
lab of each side, every government's official stack and adopter shares, the decisions governments
took this month with the terms they weighed, and the month's events.

Why one snapshot: briefs, turn reports, the dashboard and run tables used to read the ledger, the
market and agents directly, and to re-derive what the model had computed (a government's decision
terms, China's monthly inflows). A model change then made their explanations silently wrong. Here
every number is read from where the model computed it, once, and nothing outside ``world/`` and
``agents/`` touches the model's components (``tests/test_architecture.py`` checks that).

A snapshot is a copy: arrays are read-only copies, mappings are read-only views of fresh dicts,
and the dataclasses are frozen, so a reader can neither change the model nor be changed by it as
the model steps on.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwar.world.calendar import format_month
from chipwar.world.stacks import STACK_NAMES

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel


def frozen_mapping(items: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a fresh copy of ``items``."""
    return MappingProxyType(dict(items))


def frozen_array(values: Any, dtype: Any = None) -> np.ndarray:
    """A read-only copy of ``values``."""
    out = np.array(values, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class Decision:
    """A government's review of its official stack, as the buyer computed it when it decided.

    ``term_items`` are the parts of ``lean_cn`` in the order the buyer added them (positive
    leans to China): the country-level terms of world/appeal.py, the pull of the country's own
    adopters, and the random draw; they sum to ``lean_cn`` exactly. Above ``band`` the government
    goes Chinese, below ``-band`` American, in between it hedges; but a move away from its current
    stack must clear that edge by ``switch_cost`` (agents/buyer.py ``choose_stack``), so a lean a
    little past the edge keeps the old stack. Stacks are world/stacks.py codes.
    """

    date: str
    iso: str
    country: str  # the country's name
    before: int
    after: int
    lean_cn: float
    band: float
    term_items: tuple[tuple[str, float], ...]
    switch_cost: float = 0.0

    @property
    def changed(self) -> bool:
        return self.after != self.before

    @property
    def before_stack(self) -> str:
        return STACK_NAMES[self.before]

    @property
    def after_stack(self) -> str:
        return STACK_NAMES[self.after]

    @property
    def terms(self) -> dict[str, float]:
        """The terms by name (a fresh dict)."""
        return dict(self.term_items)

    def largest(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` terms of largest size, largest first."""
        return sorted(self.term_items, key=lambda kv: -abs(kv[1]))[:n]


@dataclass(frozen=True)
class HubView:
    """A smuggling hub this month (H100e)."""

    iso: str
    regime: float  # the hub's own enforcement regime (the ``hub.<ISO>`` lever)
    enforcement: float  # enforcement in force: the regime, pulled up by US and allied pressure
    diverted_h100e: float  # taken from the hub's holdings by smugglers
    seized_h100e: float  # seized in busts of networks working through the hub
    networks: int  # networks operating at the hub after the month


@dataclass(frozen=True)
class LabView:
    """A frontier lab after the month (capabilities in log10 effective training FLOP)."""

    name: str
    side: str  # "us" or "cn"
    compute_h100e: float  # compute it trained on, offshore rental included
    offshore_h100e: float
    base_capability: float  # from its own compute and algorithms
    distill_bonus: float  # copied from US models
    capability: float


@dataclass(frozen=True)
class ComputeBooks:
    """The ledger's totals since the start (H100e): produced = held + in transit + seized +
    retired."""

    produced: float
    held: float
    in_transit: float
    seized: float
    retired: float


@dataclass(frozen=True)
class Observation:
    """The model after a month (before the first step: as built, with ``months == 0``)."""

    date: str  # the month last simulated (before the first step, the month before the start)
    months: int  # months simulated
    metrics: Mapping[str, Any]  # this month's row of the series (world/reporters.py)
    levers: Mapping[str, float]  # every lever in force, by full key (``us.kyc``)
    books: ComputeBooks
    held: np.ndarray  # compute held by each country (country-table order)
    cn_sources: Mapping[str, float]  # China's holdings by source, after ageing
    cn_inflow: Mapping[str, float]  # gross inflow to China this month, by source
    cn_retired: float  # China's holdings aged out this month
    cn_offshore: float  # offshore capacity China's labs could rent (after KYC)
    hubs: Mapping[str, HubView]  # by ISO code: the market's smuggling hubs, then transit hubs
    detection: float  # share of distillation traffic US labs catch
    leaders: Mapping[str, LabView]  # the most capable lab of each side
    official: np.ndarray  # each government's official stack (world/stacks.py codes)
    shares: np.ndarray  # adopters' shares per country: columns STACK_NONE, STACK_US, STACK_CN
    decisions: tuple[Decision, ...]  # governments that reviewed their stack this month
    events: tuple[Mapping[str, Any], ...]  # this month's events
    adopters: int  # micro-adopters in the adoption field
    adopter_bytes: int  # memory the adoption field holds

    def __deepcopy__(self, memo: dict[int, Any]) -> Observation:
        """A snapshot cannot change, so a copy of a model (``clone``) shares it: the players'
        memory of past months (agents/players.py) holds snapshots, whose read-only mappings
        cannot be deep-copied."""
        return self

    @property
    def flips(self) -> tuple[Decision, ...]:
        """This month's decisions that changed a government's official stack."""
        return tuple(d for d in self.decisions if d.changed)

    def settings(self) -> dict[str, float]:
        """Every lever and every hub regime (``hub.<ISO>``) in force, by key (a fresh dict)."""
        return {**self.levers, **{f"hub.{iso}": hub.regime for iso, hub in self.hubs.items()}}


def observe(model: ChipWarModel) -> Observation:
    """The snapshot of ``model`` as it stands (see :meth:`ChipWarModel.observe`)."""
    ledger, market = model.ledger, model.market
    per_hub = model.networks_per_hub()
    hubs = {}
    # Tier-2 hubs where chips are bought, then transit points (Hong Kong) where servers move on.
    for index in (int(h) for h in (*market.smuggling_hubs, *market.transit_hubs)):
        iso = str(model.countries.iso[index])
        hubs[iso] = HubView(
            iso=iso,
            regime=float(market.hub_base_enforcement[index]),
            enforcement=float(market.hub_enforcement[index]),
            diverted_h100e=float(ledger.diverted[index]),
            seized_h100e=float(ledger.seized_at[index]),
            networks=int(per_hub.get(index, 0)),
        )
    leaders = {
        side: LabView(
            name=lab.name,
            side=lab.side,
            compute_h100e=float(lab.compute_h100e),
            offshore_h100e=float(lab.offshore_h100e),
            base_capability=float(lab.base_capability),
            distill_bonus=float(lab.distill_bonus),
            capability=float(lab.capability),
        )
        for side, lab in model.leading_labs().items()
    }
    return Observation(
        date=format_month(model.start_month + model.months - 1),
        months=model.months,
        metrics=frozen_mapping(model.metrics),
        levers=frozen_mapping(model.levers.flat()),
        books=ComputeBooks(
            produced=float(ledger.produced),
            held=float(ledger.held.sum()),
            in_transit=float(ledger.in_transit),
            seized=float(ledger.seized),
            retired=float(ledger.retired),
        ),
        held=frozen_array(ledger.held, float),
        cn_sources=frozen_mapping({k: float(v) for k, v in ledger.cn_by_source.items()}),
        cn_inflow=frozen_mapping({k: float(v) for k, v in ledger.cn_inflow.items()}),
        cn_retired=float(ledger.cn_retired_month),
        cn_offshore=float(market.offshore_available()),
        hubs=MappingProxyType(hubs),
        detection=float(model.race.detection),
        leaders=MappingProxyType(leaders),
        official=frozen_array([b.official for b in model.buyers], np.int8),
        shares=frozen_array(model.adoption_shares, float),
        decisions=tuple(model.month_decisions),
        events=tuple(
            frozen_mapping(copy.deepcopy(e)) for e in model.events[model.month_events_start :]
        ),
        adopters=int(model.adoption.n_adopters),
        adopter_bytes=int(model.adoption.nbytes()),
    )
