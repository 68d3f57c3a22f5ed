"""Briefs: what one role knows at the start of a turn (fog of war).

Why: a wargame is about deciding under uncertainty. A role sees its own levers and its own side's
stocks exactly, public facts (announced policies, busts, which stack governments chose, adoption
surveys) exactly, and everything else only as an intelligence estimate: a point value and an
80% range, with an error that shrinks as the role's intelligence effort (``intel``) rises.

The errors come from a generator seeded by (session seed, turn, role) through numpy's
SeedSequence, never from the model's generator, so briefs are reproducible, the same for a human
team and for a bot in the same seat, and reading a brief never changes the game. Estimates a turn
apart share part of their error (intelligence is biased persistently), so trends are known
better than levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwar.runs.wargame.roles import (
    INTEL,
    Role,
    is_public,
    lever_meanings,
    parse_action,
    role_index,
)
from chipwar.world.countries import REGION_LABELS, REGIONS
from chipwar.world.levers import parse_lever_key
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session
    from chipwar.world.observation import Observation

BRIEF_STREAM = 1  # SeedSequence stream id of briefs (bots use their own)
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
class Brief:
    """One role's brief. ``value``/``previous``/``lever`` are what bots read."""

    role: str
    title: str
    side: str
    session: str
    turn: int
    turns_total: int
    as_of: str  # last month simulated
    period: tuple[str, str] | None  # the turn about to be played (None once the game ended)
    intel: float
    levers: list[LeverView]
    actions: list[dict[str, Any]]
    others: list[LeverView]
    indicators: list[Indicator]
    regions: list[dict[str, Any]]
    hubs: list[dict[str, Any]]
    busts: dict[str, dict[str, float]]  # hub -> {"count", "seized_h100e"} over the last turn
    events: list[str]  # public events of the last turn
    bloc: dict[str, Any] | None = None
    last_move: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        from chipwar.runs.core.textdoc import md_table

        lines = [f"# Brief for {self.title} (`{self.role}`), turn {self.turn}"]
        if self.period:
            lines.append(
                f"\nSituation at the end of {self.as_of}. This turn runs {self.period[0]} to "
                f"{self.period[1]} (turn {self.turn} of {self.turns_total}). Your intelligence "
                f"effort is {self.intel:.2f}: ranges are 80% intervals."
            )
        else:
            lines.append(f"\nThe session has ended ({self.as_of}). Final situation.")
        lines.append("\n## Your levers\n")
        if self.levers:
            rows = [[f"`{v.key}`", f"{v.value.value:.2f}", v.meaning] for v in self.levers]
            lines.append(md_table(["lever", "now", "meaning"], rows))
        else:
            lines.append("Your role has no levers in this engine: you observe and advise.")
        lines.append(f"\nAlso `{INTEL}` = {self.intel:.2f} (your intelligence effort, 0 to 1).")
        if self.actions:
            lines.append("\n## Your actions (at most 3 per turn)\n")
            for action in self.actions:
                lines.append(f"- `{action['usage']}`: {action['summary']}")
        lines.append("\n## Indicators\n")
        rows = [
            [
                i.label,
                i.now.text(i.fmt),
                i.before.text(i.fmt) if i.before else "-",
                i.basis,
            ]
            for i in self.indicators
        ]
        lines.append(md_table(["indicator", "now", "a turn earlier", "basis"], rows))
        lines.append("\n## Other roles' levers\n")
        rows = [[f"`{v.key}`", v.owner, v.value.text("{:.2f}"), v.basis] for v in self.others]
        lines.append(md_table(["lever", "role", "value", "basis"], rows))
        if self.hubs:
            lines.append("\n## Diversion hubs (public)\n")
            rows = [
                [
                    h["hub"],
                    f"{h['regime']:.2f}",
                    f"{h['enforcement']:.2f}",
                    str(h["busts"]),
                    f"{h['seized_h100e']:,.0f}",
                ]
                for h in self.hubs
            ]
            lines.append(
                md_table(
                    ["hub", "own regime", "enforcement in force", "busts", "seized (H100e)"],
                    rows,
                )
            )
        lines.append("\n## Adoption by region (public surveys)\n")
        rows = [
            [r["label"], f"{r['cn_share']:.1%}", f"{r['us_share']:.1%}", f"{r['cn_change']:+.1%}"]
            for r in self.regions
        ]
        lines.append(md_table(["region", "Chinese stack", "US stack", "CN change"], rows))
        if self.bloc:
            b = self.bloc
            lines.append(f"\n## Your bloc: {b['label']}\n")
            lines.append(
                f"{len(b['countries'])} countries; official stacks: {b['us']} US, {b['cn']} "
                f"Chinese, {b['hedged']} hedged."
            )
            if b["cn_stack"]:
                lines.append("Official Chinese stack: " + ", ".join(b["cn_stack"]) + ".")
        lines.append("\n## Last turn (public)\n")
        lines.extend(f"- {e}" for e in self.events) if self.events else lines.append("- quiet")
        if self.last_move:
            lines.append("\n## Your last move\n")
            lines.append(_move_text(self.last_move))
        lines.extend(f"\n{n}" for n in self.notes)
        return "\n".join(lines) + "\n"


def _move_text(move: dict[str, Any]) -> str:
    parts = [f"`{k}`={v:.2f}" for k, v in move.get("set", {}).items()]
    parts += [f"action `{a}`" for a in move.get("actions", [])]
    text = ", ".join(parts) or "no change"
    by = move.get("by", "human")
    if move.get("note"):
        text += f" ({by}: {move['note']})"
    return text


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


def make_brief(session: Session, role: Role, turn: int) -> Brief:
    """The brief of ``role`` at the start of ``turn`` (after turn - 1 was played)."""
    r = session.record
    months = session.month_records
    t = r.turn_months
    first_of_turn = session.first_month + (turn - 1) * t
    now = min(session.record_index(first_of_turn), len(months)) - 1  # the final brief: the end
    before = now - t if now - t >= 0 else None
    intel = session.intel(role.id, before_turn=turn)
    rng = np.random.default_rng(
        np.random.SeedSequence([r.seed, turn, role_index(role.id), BRIEF_STREAM])
    )
    side = role.side

    indicators: list[Indicator] = []
    views: dict[str, tuple[Estimate, Estimate | None]] = {}
    for spec in SPECS:
        z_now, z_innov = rng.standard_normal(2)
        z_before = PERSISTENCE * z_now + math.sqrt(1 - PERSISTENCE**2) * z_innov
        basis = _basis(spec.known_by, side)
        exact = basis in ("own", "public") or spec.sigma == 0.0
        sigma = _sigma(spec.sigma, intel)
        values = []
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
        views[spec.key] = (values[0], values[1])
        indicators.append(Indicator(spec.key, spec.label, spec.fmt, basis, values[0], values[1]))
    indicators.insert(3, _gap_indicator(views, side, intel))

    meanings = lever_meanings()
    opening = session.opening_levers(turn)
    levers = [
        LeverView(k, _meaning(k, meanings), role.id, "own", Estimate.known(opening[k]))
        for k in role.levers
    ]
    others: list[LeverView] = []
    for other_id, other in session.roles.items():
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

    first = (before + 1) if before is not None else 0
    last_turn = months[first : now + 1]
    busts: dict[str, dict[str, float]] = {}
    events: list[str] = []
    for month in last_turn:
        for event in month.events:
            if event.get("kind") == "bust":
                b = busts.setdefault(event["country"], {"count": 0, "seized_h100e": 0.0})
                b["count"] += 1
                b["seized_h100e"] += float(event.get("seized_h100e", 0.0))
            elif event.get("kind") == "shock" and event.get("phase") != "end":
                events.append(f"{month.date}: {event['text']}")  # shocks are public news
        for flip in month.flips:
            events.append(
                f"{month.date}: {flip.country} moves its official stack from "
                f"{flip.before_stack} to {flip.after_stack}"
            )
    for hub, b in sorted(busts.items()):
        events.insert(
            0,
            f"{b['count']} smuggling network(s) broken up in {hub}, "
            f"{b['seized_h100e']:,.0f} H100e seized",
        )
    prior = months[before] if before is not None else None
    if turn >= 2:
        prior_levers = session.opening_levers(turn - 1)
    elif prior is not None:
        prior_levers = prior.settings()
    else:
        prior_levers = {}
    for key, value in opening.items():
        if key in prior_levers and is_public(key) and value != prior_levers[key]:
            events.append(f"announced: `{key}` {prior_levers[key]:.2f} -> {value:.2f}")
    if turn >= 2:
        for move in session.record.turns[turn - 2].moves:
            mover = session.roles.get(move.role)
            for text in move.actions:
                spec = mover.action(parse_action(text)[0]) if mover else None
                if spec is not None and (spec.public or move.role == role.id):
                    events.append(f"{move.role} took action `{text}`")

    hubs = [
        {
            "hub": hub,
            "regime": months[now].hubs[hub].regime,
            "enforcement": months[now].hubs[hub].enforcement,
            "busts": int(busts.get(hub, {}).get("count", 0)),
            "seized_h100e": float(busts.get(hub, {}).get("seized_h100e", 0.0)),
        }
        for hub in sorted(months[now].hubs)
    ]
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

    bloc = None
    if role.region is not None:
        countries = session.model.countries
        idx = [countries.index(iso) for iso in role.countries]
        official = months[now].official
        bloc = {
            "label": REGION_LABELS[role.region],
            "countries": list(role.countries),
            "us": int(sum(official[i] == STACK_US for i in idx)),
            "cn": int(sum(official[i] == STACK_CN for i in idx)),
            "hedged": int(sum(official[i] == STACK_NONE for i in idx)),
            "cn_stack": [countries.name_of(i) for i in idx if official[i] == STACK_CN],
            "hubs": list(role.hubs),
        }

    last_move = None
    if turn >= 2:
        own = [m for m in session.record.turns[turn - 2].moves if m.role == role.id]
        last_move = own[0].model_dump() if own else None
    notes = []
    if not role.levers:
        notes.append(
            "Your region has no diversion hub outside the allies, so this engine gives your bloc "
            "no lever: your governments choose their stacks inside the model. Use your brief to "
            "advise the other teams."
        )
    finished = turn > session.total_turns
    period = None if finished else session.period(turn)[:2]
    return Brief(
        role=role.id,
        title=role.title,
        side=side,
        session=r.name,
        turn=turn,
        turns_total=session.total_turns,
        as_of=months[now].date,
        period=period,
        intel=intel,
        levers=levers,
        actions=[
            {
                "name": a.name,
                "usage": a.usage(),
                "summary": a.summary,
                "targets": list(role.action_targets(a)),
                "public": a.public,
            }
            for a in role.actions
        ],
        others=others,
        indicators=indicators,
        regions=regions,
        hubs=hubs,
        busts=busts,
        events=events,
        bloc=bloc,
        last_move=last_move,
        notes=notes,
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
