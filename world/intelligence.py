"""What a role observes: its own side exactly, rivals through intelligence estimates (fog of war).

Why in the model layer: a wargame team's brief (runs/wargame/briefs.py renders it) and a player
of a plain run (agents/players.py) must see the same world in the same seat, so that a doctrine
plays the same move wherever it plays. A role sees its own levers and its own side's stocks
exactly, public facts (announced policies, busts, which stack governments chose, adoption
surveys) exactly, and everything else only as an intelligence estimate: a point value and an 80%
range, with an error that shrinks as the role's intelligence effort (``intel``) rises.

The errors come from a generator seeded by (run seed, turn, role) through numpy's SeedSequence,
never from the model's generator, so views are reproducible, the same for a human team, a bot
and a player in the same seat, and looking never changes the world. Estimates a turn apart share
part of their error (intelligence is biased persistently), so trends are known better than
levels. A view is built from the model's own monthly snapshots (world/observation.py), read
through the observation API only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwar.world.countries import REGION_LABELS, REGIONS
from chipwar.world.levers import parse_lever_key
from chipwar.world.roles import Role, is_public, lever_meanings, role_index

if TYPE_CHECKING:
    from chipwar.world.observation import Observation

VIEW_STREAM = 1  # SeedSequence stream id of a role's view (the wargame's briefs use the same)
Z80 = 1.2816  # half-width of an 80% normal interval, in standard deviations
PERSISTENCE = 0.7  # correlation of a role's estimation errors a turn apart
INTEL_REACH = 0.8  # at intel = 1 the error is 20% of what it is at intel = 0


@dataclass
class Estimate:
    """A value as the role knows it: exact, or a point estimate with an 80% range."""

    value: float
    low: float
    high: float
    exact: bool

    @classmethod
    def known(cls, value: float) -> Estimate:
        return cls(value, value, value, True)

    def text(self, fmt: str) -> str:
        if self.exact:
            return fmt.format(self.value)
        return f"~{fmt.format(self.value)} ({fmt.format(self.low)} to {fmt.format(self.high)})"


@dataclass
class Indicator:
    key: str
    label: str
    fmt: str
    basis: str  # "own", "partner", "public" or "intelligence"
    now: Estimate
    before: Estimate | None


@dataclass
class LeverView:
    key: str
    meaning: str
    owner: str
    basis: str  # "own", "partner", "public" or "intelligence"
    value: Estimate


@dataclass
class View:
    """One role's view of the world at the start of a turn; ``value``/``previous``/``lever``
    are what doctrines read (agents/doctrines.py)."""

    role: str
    side: str
    intel: float
    levers: list[LeverView]  # the role's own levers, exactly
    others: list[LeverView]  # the other roles' levers: exact, or estimates
    indicators: list[Indicator]
    regions: list[dict[str, Any]]  # public adoption surveys by region, with the turn's change
    busts: dict[str, dict[str, float]]  # hub -> {"count", "seized_h100e"} over the last turn

    def indicator(self, key: str) -> Indicator | None:
        return next((i for i in self.indicators if i.key == key), None)

    def value(self, key: str) -> float | None:
        item = self.indicator(key)
        return item.now.value if item else None

    def previous(self, key: str) -> float | None:
        item = self.indicator(key)
        return item.before.value if item and item.before else None

    def role_levers(self) -> list[str]:
        return [view.key for view in self.levers]

    def lever(self, key: str) -> float | None:
        """The value of any lever as this role sees it (its own exactly, others as shown)."""
        for view in (*self.levers, *self.others):
            if view.key == key:
                return view.value.value
        return None


# --- which indicators, who knows them exactly, and how wrong estimates are
@dataclass(frozen=True)
class _Spec:
    key: str
    label: str
    fmt: str
    kind: str  # "rel" (lognormal error) or "abs" (additive error)
    sigma: float  # error scale at intel = 0
    known_by: str  # side that knows it exactly: "us", "cn", "all" (public) or "" (nobody)
    read: Callable[[Sequence[Observation], int, int], float]
    bounds: tuple[float, float] | None = None  # where an estimate must stay


def _metric(name: str) -> Callable[[Sequence[Observation], int, int], float]:
    return lambda months, i, _t: float(months[i].metrics[name])


def _source(name: str) -> Callable[[Sequence[Observation], int, int], float]:
    return lambda months, i, _t: float(months[i].cn_sources[name])


def _over_turn(name: str) -> Callable[[Sequence[Observation], int, int], float]:
    def read(months: Sequence[Observation], i: int, t: int) -> float:
        return float(sum(m.metrics[name] for m in months[max(i - t + 1, 0) : i + 1]))

    return read


def _seized_over_turn(months: Sequence[Observation], i: int, t: int) -> float:
    before = months[i - t].metrics["seized_h100e_cum"] if i - t >= 0 else 0.0
    return float(months[i].metrics["seized_h100e_cum"] - before)


def _detection(months: Sequence[Observation], i: int, _t: int) -> float:
    return months[i].detection


SPECS = (
    _Spec(
        "compute_us_h100e",
        "US compute (H100e)",
        "{:,.0f}",
        "rel",
        0.35,
        "us",
        _metric("compute_us_h100e"),
    ),
    _Spec(
        "compute_cn_h100e",
        "China's compute, home and rented offshore (H100e)",
        "{:,.0f}",
        "rel",
        0.5,
        "cn",
        _metric("compute_cn_h100e"),
    ),
    _Spec(
        "cn_domestic_h100e",
        "China's stock of domestic chips (H100e)",
        "{:,.0f}",
        "rel",
        0.5,
        "cn",
        _source("domestic"),
    ),
    _Spec(
        "cn_licensed_h100e",
        "China's stock of licensed US chips (H100e)",
        "{:,.0f}",
        "rel",
        0.3,
        "cn",
        _source("licensed"),
    ),
    _Spec(
        "cn_smuggled_h100e",
        "China's stock of smuggled chips (H100e)",
        "{:,.0f}",
        "rel",
        0.6,
        "cn",
        _source("smuggled"),
    ),
    _Spec(
        "offshore_h100e",
        "offshore capacity China rents (H100e)",
        "{:,.0f}",
        "rel",
        0.5,
        "cn",
        _metric("offshore_h100e"),
    ),
    _Spec(
        "smuggled_turn_h100e",
        "smuggled into China over the last turn (H100e)",
        "{:,.0f}",
        "rel",
        0.6,
        "cn",
        _over_turn("smuggled_h100e"),
    ),
    _Spec(
        "seized_turn_h100e",
        "seized in busts over the last turn (H100e)",
        "{:,.0f}",
        "rel",
        0.0,
        "all",
        _seized_over_turn,
    ),
    _Spec(
        "networks_active",
        "smuggling networks operating",
        "{:,.0f}",
        "rel",
        0.5,
        "cn",
        _metric("networks_active"),
    ),
    _Spec(
        "capability_us",
        "US frontier capability (log10 effective FLOP)",
        "{:.2f}",
        "abs",
        0.3,
        "us",
        _metric("capability_us"),
    ),
    _Spec(
        "capability_cn",
        "Chinese frontier capability (log10 effective FLOP)",
        "{:.2f}",
        "abs",
        0.3,
        "cn",
        _metric("capability_cn"),
    ),
    _Spec("lead_months", "US lead (months)", "{:.1f}", "abs", 8.0, "", _metric("lead_months")),
    _Spec(
        "distill_gain",
        "Chinese distillation gain (log10)",
        "{:.3f}",
        "abs",
        0.06,
        "cn",
        _metric("distill_gain"),
        (0.0, math.inf),
    ),
    _Spec(
        "detection",
        "share of distillation traffic US labs catch",
        "{:.0%}",
        "abs",
        0.2,
        "us",
        _detection,
        (0.0, 1.0),
    ),
    _Spec(
        "countries_official_cn",
        "countries with the Chinese stack as official",
        "{:.0f}",
        "abs",
        0.0,
        "all",
        _metric("countries_official_cn"),
    ),
    _Spec(
        "countries_official_us",
        "countries with the US stack as official",
        "{:.0f}",
        "abs",
        0.0,
        "all",
        _metric("countries_official_us"),
    ),
    _Spec(
        "pop_cn_stack",
        "people under an official Chinese stack",
        "{:,.0f}",
        "abs",
        0.0,
        "all",
        _metric("pop_cn_stack"),
    ),
)
LEVER_SIGMA = 0.25


def _sigma(base: float, intel: float) -> float:
    return base * (1.0 - INTEL_REACH * intel)


def _basis(known_by: str, side: str) -> str:
    if known_by == "all":
        return "public"
    return "own" if known_by == side else "intelligence"


def _estimate(
    true: float, z: float, sigma: float, kind: str, bounds: tuple[float, float] | None
) -> Estimate:
    """Point estimate and 80% range: lognormal error for stocks, additive for the rest."""
    if kind == "rel":
        value = true * math.exp(sigma * z)
        low, high = value * math.exp(-Z80 * sigma), value * math.exp(Z80 * sigma)
    else:
        value = true + sigma * z
        low, high = value - Z80 * sigma, value + Z80 * sigma
    if bounds:
        value, low, high = (min(max(x, bounds[0]), bounds[1]) for x in (value, low, high))
    return Estimate(value, low, high, False)


def view_rng(seed: int, turn: int, role: str) -> np.random.Generator:
    """The generator of one role's estimation errors at one turn (never the model's)."""
    return np.random.default_rng(
        np.random.SeedSequence([seed, turn, role_index(role), VIEW_STREAM])
    )


def turn_window(now: int, turn_months: int) -> tuple[int | None, int]:
    """(index of the month a turn before ``now`` or None, first index of the last turn)."""
    before = now - turn_months if now - turn_months >= 0 else None
    return before, (before + 1) if before is not None else 0


def role_view(
    role: Role,
    roles: Mapping[str, Role],
    months: Sequence[Observation],
    now: int,
    turn_months: int,
    opening: Mapping[str, float],
    intel: float,
    seed: int,
    turn: int,
) -> View:
    """What ``role`` knows after month ``now`` of ``months`` (the model's monthly snapshots).

    ``roles``: the roles at the table, in order (their levers are the "others" the role sees);
    ``opening``: every lever and hub regime as the coming month begins; ``intel``: the role's
    intelligence effort; ``seed`` and ``turn`` seed the estimation errors. Draws, in order: two
    per indicator (now, and the persistent error a turn earlier), then one per other role's lever.
    """
    t = turn_months
    before, first = turn_window(now, t)
    rng = view_rng(seed, turn, role.id)
    side = role.side

    indicators: list[Indicator] = []
    views: dict[str, tuple[Estimate, Estimate | None]] = {}
    for spec in SPECS:
        z_now, z_innov = rng.standard_normal(2)
        z_before = PERSISTENCE * z_now + math.sqrt(1 - PERSISTENCE**2) * z_innov
        basis = _basis(spec.known_by, side)
        exact = basis in ("own", "public") or spec.sigma == 0.0
        sigma = _sigma(spec.sigma, intel)
        values: list[Estimate | None] = []
        for index, z in ((now, z_now), (before, z_before)):
            if index is None:
                values.append(None)
                continue
            true = spec.read(months, index, t)
            values.append(
                Estimate.known(true)
                if exact or not math.isfinite(true)
                else _estimate(true, z, sigma, spec.kind, spec.bounds)
            )
        assert values[0] is not None
        views[spec.key] = (values[0], values[1])
        indicators.append(Indicator(spec.key, spec.label, spec.fmt, basis, values[0], values[1]))
    indicators.insert(3, _gap_indicator(views, side, intel))

    meanings = lever_meanings()
    levers = [
        LeverView(k, _meaning(k, meanings), role.id, "own", Estimate.known(opening[k]))
        for k in role.levers
    ]
    others: list[LeverView] = []
    for other_id, other in roles.items():
        if other_id == role.id:
            continue
        for key in other.levers:
            z = rng.standard_normal()
            true = opening[key]
            partner = side != "neutral" and other.side == side
            if partner:
                basis, value = "partner", Estimate.known(true)
            elif is_public(key):
                basis, value = "public", Estimate.known(true)
            else:
                basis = "intelligence"
                value = _estimate(true, z, _sigma(LEVER_SIGMA, intel), "abs", (0.0, 1.0))
            others.append(LeverView(key, _meaning(key, meanings), other_id, basis, value))

    busts: dict[str, dict[str, float]] = {}
    for month in months[first : now + 1]:
        for event in month.events:
            if event.get("kind") == "bust":
                b = busts.setdefault(event["country"], {"count": 0, "seized_h100e": 0.0})
                b["count"] += 1
                b["seized_h100e"] += float(event.get("seized_h100e", 0.0))
    prior = months[before] if before is not None else None
    regions = []
    for region in REGIONS:
        cn = float(months[now].metrics.get(f"cn_share_{region}", 0.0))
        cn_before = float(prior.metrics.get(f"cn_share_{region}", 0.0)) if prior else cn
        regions.append(
            {
                "region": region,
                "label": REGION_LABELS[region],
                "cn_share": cn,
                "us_share": float(months[now].metrics.get(f"us_share_{region}", 0.0)),
                "cn_change": cn - cn_before,
            }
        )
    return View(
        role=role.id,
        side=side,
        intel=intel,
        levers=levers,
        others=others,
        indicators=indicators,
        regions=regions,
        busts=busts,
    )


def _gap_indicator(
    views: dict[str, tuple[Estimate, Estimate | None]], side: str, intel: float
) -> Indicator:
    """The compute gap as this role can work it out from its own two estimates."""

    def ratio(us: Estimate | None, cn: Estimate | None) -> Estimate | None:
        if us is None or cn is None or cn.value <= 0:
            return None
        value = us.value / cn.value
        if us.exact and cn.exact:
            return Estimate.known(value)
        spread = math.hypot(
            0.0 if us.exact else math.log(us.high / us.value),
            0.0 if cn.exact else math.log(cn.high / cn.value),
        )
        return Estimate(value, value * math.exp(-spread), value * math.exp(spread), False)

    us_now, us_before = views["compute_us_h100e"]
    cn_now, cn_before = views["compute_cn_h100e"]
    now = ratio(us_now, cn_now)
    assert now is not None
    basis = "own" if now.exact else "intelligence"
    return Indicator(
        "compute_gap",
        "compute gap (US / China)",
        "{:.1f}x",
        basis,
        now,
        ratio(us_before, cn_before),
    )


def _meaning(key: str, meanings: dict[str, str]) -> str:
    lever = parse_lever_key(key)
    if lever.is_hub:
        return f"own enforcement regime against diversion at the hub {lever.name}"
    return meanings.get(key, "")
