"""Roles: who owns which lever, which discrete actions each role may take, and how a turn's
moves become dated lever changes the model already understands.

Why in the model layer: the wargame's seats and the players of a plain run (agents/players.py)
are the same roles with the same levers and actions, and the same moves must give the same lever
changes wherever they are made. An action is nothing but a short programme of scheduled lever
(or hub enforcement) changes inside one turn; no role can reach the model any other way. Checking
a human team's move (a role may not move for another) stays with the wargame
(runs/wargame/roles.py).

Ownership (every lever belongs to exactly one role; ``hub.<ISO>`` keys belong to the bloc of the
hub's region):

- ``us`` (US government): export stringency, chip sales to China, enforcement, KYC, stack
  promotion, allied coordination.
- ``us-labs`` (US frontier labs): ``us.anti_distillation`` -- in the model it sets how much
  distillation traffic the labs detect and ban, so the labs' team decides how hard they police
  their APIs (the mandate is what the US government asks of them at the table).
- ``china`` (PRC government): domestic chip investment, smuggling demand, model export push,
  surveillance bundling.
- ``cn-labs`` (Chinese labs): distillation effort, open weights, offshore compute procurement.
- ``allies`` (NL, JP, KR, TW acting together): tool controls, enforcement at allied hubs.
- ``bloc-<region>`` (third countries of a region, the US, China and the allies excluded): the
  own enforcement regime ``hub.<ISO>`` of each diversion hub in the region that is not an allied
  hub. A region without such a hub gives its bloc no lever in this engine (it observes only).

Every role also has ``intel`` (in [0, 1]): the intelligence effort behind its view of the world
(world/intelligence.py). It is a setting of the role, not a model lever: it narrows the
uncertainty of the role's estimates of its rivals and changes nothing in the world.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from chipwar.world.alignment import BEIJING, WASHINGTON
from chipwar.world.countries import REGION_LABELS, REGIONS
from chipwar.world.levers import describe_levers, hub_key, lever_keys, parse_lever_key
from chipwar.world.market import ALLY_ISOS

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

CORE_ROLES = ("us", "china", "us-labs", "cn-labs", "allies")
BLOC_PREFIX = "bloc-"
ALL_ROLE_IDS = CORE_ROLES + tuple(BLOC_PREFIX + region for region in REGIONS)
INTEL = "intel"
DEFAULT_INTEL = 0.3
MAX_ACTIONS = 3

ROLE_TITLES = {
    "us": "US government",
    "china": "PRC government",
    "us-labs": "US frontier labs",
    "cn-labs": "Chinese labs",
    "allies": "Chip-supply allies (Netherlands, Japan, South Korea, Taiwan)",
}
ROLE_SIDES = {"us": "us", "us-labs": "us", "allies": "us", "china": "cn", "cn-labs": "cn"}
GOVERNMENT_OF_ACTOR = {"us": "us", "china": "china", "allies": "allies"}
LAB_LEVERS = {
    "us.anti_distillation": "us-labs",
    "china.distillation_effort": "cn-labs",
    "china.open_weights": "cn-labs",
    "china.offshore_procurement": "cn-labs",
}
# Announced policies everyone can read; the rest is covert and reaches rivals only as estimates.
PUBLIC_LEVERS = frozenset(
    {
        "us.export_stringency",
        "us.china_chip_sales",
        "us.kyc",
        "us.stack_promotion",
        "allies.tool_controls",
        "china.export_push",
        "china.open_weights",
    }
)


def role_index(role: str) -> int:
    """Fixed position of a role id, used to derive its random streams (briefs, bots)."""
    return ALL_ROLE_IDS.index(role)


def lever_owner(key: str) -> str:
    """The role that owns a model lever key (``hub.<ISO>`` keys are resolved per session)."""
    return LAB_LEVERS.get(key) or GOVERNMENT_OF_ACTOR[parse_lever_key(key, hubs=False).actor]


def is_public(key: str) -> bool:
    """Public levers are announced policy; hub regimes are laws and permits, also public."""
    return key in PUBLIC_LEVERS or parse_lever_key(key).is_hub


def lever_meanings() -> dict[str, str]:
    return {key: meaning for key, _default, meaning in describe_levers()}


@dataclass(frozen=True)
class ActionSpec:
    """A discrete action: a short programme of lever changes inside the turn it is taken in.

    ``mode`` says how the new value follows from the standing value (the value the lever has
    after this turn's moves): ``raise`` to at least ``level``, ``add`` ``level`` (capped at 1).
    The change applies ``start`` months into the turn and is undone ``months`` later (``turn``:
    at the end of the turn; ``permanent``: never). Both dates are kept inside the turn, so an
    action never overrides a later turn's moves.
    """

    name: str
    summary: str
    key: str  # a lever key, or "hub.{target}"
    mode: Literal["raise", "add"]
    level: float
    start: int = 0
    months: int | Literal["turn", "permanent"] = 1
    target: Literal["none", "hub", "own_hub"] = "none"
    public: bool = True

    def usage(self) -> str:
        return f"{self.name}:<HUB>" if self.target != "none" else self.name


ACTIONS: dict[str, tuple[ActionSpec, ...]] = {
    "us": (
        ActionSpec(
            "raid",
            "one-month enforcement surge with the host's customs at a diversion hub "
            "(hub.<HUB> at least 0.95 for a month)",
            "hub.{target}",
            "raise",
            0.95,
            target="hub",
        ),
        ActionSpec(
            "kyc-rule",
            "announce a remote-access (KYC) rule for offshore data centres: us.kyc at least 0.8 "
            "after a 3-month compliance period, and it stays",
            "us.kyc",
            "raise",
            0.8,
            start=3,
            months="permanent",
        ),
        ActionSpec(
            "finance-drive",
            "a financing drive for the US stack abroad: us.stack_promotion +0.3 for the turn",
            "us.stack_promotion",
            "add",
            0.3,
            months="turn",
        ),
    ),
    "china": (
        ActionSpec(
            "export-offensive",
            "price cuts and state credit for Chinese models abroad: china.export_push +0.3 for "
            "the turn",
            "china.export_push",
            "add",
            0.3,
            months="turn",
        ),
        ActionSpec(
            "buying-spree",
            "a crash order for smuggled chips: china.smuggling_demand at 1.0 for 2 months",
            "china.smuggling_demand",
            "raise",
            1.0,
            months=2,
            public=False,
        ),
    ),
    "us-labs": (
        ActionSpec(
            "ban-wave",
            "sweep and ban fraudulent API accounts: us.anti_distillation at 1.0 for 2 months",
            "us.anti_distillation",
            "raise",
            1.0,
            months=2,
            public=False,
        ),
    ),
    "cn-labs": (
        ActionSpec(
            "distill-campaign",
            "a mass distillation campaign against US model APIs: china.distillation_effort at "
            "1.0 for 3 months",
            "china.distillation_effort",
            "raise",
            1.0,
            months=3,
            public=False,
        ),
        ActionSpec(
            "open-weights",
            "release a frontier open-weight model: china.open_weights at 1.0 for the turn",
            "china.open_weights",
            "raise",
            1.0,
            months="turn",
        ),
    ),
    "allies": (
        ActionSpec(
            "joint-inspections",
            "joint end-use inspections at allied hubs: allies.hub_enforcement at least 0.9 for "
            "3 months",
            "allies.hub_enforcement",
            "raise",
            0.9,
            months=3,
        ),
    ),
    "bloc": (
        ActionSpec(
            "customs-sweep",
            "a month-long customs crackdown at one of your own hubs (hub.<HUB> at least 0.9)",
            "hub.{target}",
            "raise",
            0.9,
            target="own_hub",
        ),
    ),
}


@dataclass(frozen=True)
class Role:
    """A seat at the table: its levers, actions and, for blocs, its countries and hubs."""

    id: str
    title: str
    side: str  # "us", "cn" or "neutral"
    levers: tuple[str, ...]
    actions: tuple[ActionSpec, ...]
    countries: tuple[str, ...] = ()
    hubs: tuple[str, ...] = ()
    all_hubs: tuple[str, ...] = field(default=(), repr=False)

    @property
    def region(self) -> str | None:
        return self.id.removeprefix(BLOC_PREFIX) if self.id.startswith(BLOC_PREFIX) else None

    def action(self, name: str) -> ActionSpec | None:
        return next((a for a in self.actions if a.name == name), None)

    def action_targets(self, spec: ActionSpec) -> tuple[str, ...]:
        return {"none": (), "hub": self.all_hubs, "own_hub": self.hubs}[spec.target]


def build_roles(model: ChipWarModel) -> dict[str, Role]:
    """Every possible role, in the fixed order, from the model's country table and hubs."""
    countries = model.countries
    hubs = tuple(sorted(model.observe().hubs))
    roles: dict[str, Role] = {}
    keys = lever_keys()
    for role in CORE_ROLES:
        roles[role] = Role(
            role,
            ROLE_TITLES[role],
            ROLE_SIDES[role],
            tuple(k for k in keys if lever_owner(k) == role),
            ACTIONS.get(role, ()),
            all_hubs=hubs,
        )
    # Hong Kong and Macao follow Beijing and Puerto Rico Washington: no bloc speaks for them (their
    # hub regime, like Hong Kong's, stays where the scenario puts it).
    outsiders = {"USA", "CHN", *ALLY_ISOS, *BEIJING, *WASHINGTON}
    for r, region in enumerate(REGIONS):
        members = tuple(
            str(iso)
            for iso, ri in zip(countries.iso, countries.region_index, strict=True)
            if int(ri) == r and str(iso) not in outsiders
        )
        own_hubs = tuple(h for h in hubs if h in members)
        roles[BLOC_PREFIX + region] = Role(
            BLOC_PREFIX + region,
            f"{REGION_LABELS[region]} bloc",
            "neutral",
            tuple(hub_key(h) for h in own_hubs),
            ACTIONS["bloc"] if own_hubs else (),
            countries=members,
            hubs=own_hubs,
            all_hubs=hubs,
        )
    return roles


def role_with_levers(roles: Mapping[str, Role]) -> list[str]:
    """Blocs that have something to move (the default blocs of a session)."""
    return [r for r, role in roles.items() if r.startswith(BLOC_PREFIX) and role.levers]


def owner_of(key: str, roles: Mapping[str, Role]) -> str | None:
    """The role owning a lever or hub key among ``roles`` (None if nobody does)."""
    return next((r for r, role in roles.items() if key in role.levers), None)


def default_role_ids(roles: Mapping[str, Role], extra: Iterable[str] = ()) -> list[str]:
    """The roles at the table by default, in the fixed order: the five core roles, the blocs
    with levers, and any ``extra`` role named (a bloc without levers that should observe)."""
    wanted = set(CORE_ROLES) | set(role_with_levers(roles)) | set(extra)
    return [role for role in ALL_ROLE_IDS if role in wanted]


def parse_action(text: str) -> tuple[str, str | None]:
    """``raid:mys`` -> (``raid``, ``MYS``); an action without a target gives (name, None)."""
    name, sep, arg = text.strip().partition(":")
    return name.strip(), (arg.strip().upper() if sep else None)


@dataclass(frozen=True)
class Change:
    """One scheduled change: ``settings`` apply ``offset`` months into the turn."""

    offset: int
    settings: dict[str, float]
    label: str


def turn_changes(
    model: ChipWarModel,
    roles: Mapping[str, Role],
    moves: Sequence[tuple[str, Mapping[str, float], Sequence[str]]],
    turn: int,
    months: int,
) -> list[Change]:
    """The lever changes a turn's moves make, in the order they are applied.

    First each role's lever settings at the start of the turn, in role order; then the
    actions' programmes, in role and action order. An action ends by restoring the standing
    value: the one the role's move set this turn, or else the one in force.
    """
    changes: list[Change] = []
    standing: dict[str, float] = {}
    for role, settings, _actions in moves:
        levers = {k: v for k, v in settings.items() if k != INTEL}
        standing.update(levers)
        if levers:
            changes.append(Change(0, levers, f"Turn {turn}: {role} move"))
    for role, _settings, actions in moves:
        for text in actions:
            name, arg = parse_action(text)
            spec = roles[role].action(name)
            assert spec is not None, text  # checked when the move was submitted
            key = spec.key.format(target=arg)
            base = standing.get(key, model.lever_value(key))
            value = max(base, spec.level) if spec.mode == "raise" else min(base + spec.level, 1.0)
            start = min(spec.start, months - 1)
            label = f"Turn {turn}: {role} action {text}"
            changes.append(Change(start, {key: value}, label))
            if spec.months != "permanent":
                length = months if spec.months == "turn" else spec.months
                changes.append(Change(min(start + length, months), {key: base}, label + " ends"))
    return changes
