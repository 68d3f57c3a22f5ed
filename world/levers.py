"""Policy levers: model state that players and scenarios may change between months.

Every lever is a number in [0, 1] with a default (the policy in force when the history phase ends,
mid-2026) and a one-line meaning. They are validated on every assignment, so a lever can never hold
an out-of-range value, whoever sets it (a scenario file, the timeline, a wargame move).

Lever keys, and the one parser of them (:func:`parse_lever_key`, giving a :class:`LeverKey`):

- ``us.kyc``: the canonical spelling, ``ACTOR.NAME`` (scenario files, ``--set``, sweep factors,
  timed events, wargame moves, what every parsed key is written back as);
- ``us_kyc``: the keyword spelling of :class:`~chipwar.world.model.ChipWarModel` (and so of
  ``mesa.batch_run``), ``ACTOR_NAME``;
- ``kyc``: a role-local short name in a wargame move, for a role owning exactly one lever so named;
- ``hub.MYS``: not a lever of :class:`Levers` but a hub's own enforcement regime (its country's
  ISO3 code), set by timed events and wargame moves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chipwar.world.errors import InputError


def lever(default: float, meaning: str) -> Any:
    """A lever field: a share or intensity in [0, 1]."""
    return Field(default, ge=0.0, le=1.0, allow_inf_nan=False, description=meaning)


class _LeverGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class USLevers(_LeverGroup):
    """Washington's levers."""

    export_stringency: float = lever(
        0.35, "how tightly Tier-2 countries' legal chip imports are capped (0 none, 1 tightest cap)"
    )
    china_chip_sales: float = lever(
        0.5, "share of China's orders for licensable chips (H20/H200 class) that licensing approves"
    )
    enforcement: float = lever(
        0.35,
        "export-enforcement capacity: agents, end-use checks, prosecutions (0.25 ~ FY2024 BIS)",
    )
    kyc: float = lever(
        0.0, "know-your-customer / remote-access rule for offshore data centres serving China"
    )
    anti_distillation: float = lever(
        0.3, "mandate on US labs to detect and ban fraudulent distillation accounts"
    )
    stack_promotion: float = lever(
        0.4, "promotion of the US AI stack abroad: financing and full-stack export packages"
    )
    allied_coordination: float = lever(
        0.35, "diplomatic pressure on third-country hubs to police diversion, aligned with allies"
    )


class ChinaLevers(_LeverGroup):
    """Beijing's levers (for its labs and champions)."""

    domestic_investment: float = lever(
        0.6, "investment in domestic AI chips (Huawei Ascend on SMIC capacity)"
    )
    smuggling_demand: float = lever(
        0.6, "willingness to pay above list for smuggled chips (0 none, 1 the highest premium)"
    )
    offshore_procurement: float = lever(
        0.4, "willingness to rent compute in offshore data centres (Southeast Asia, Gulf)"
    )
    distillation_effort: float = lever(
        0.7, "scale of distillation campaigns against US model APIs via fraudulent accounts"
    )
    export_push: float = lever(
        0.4, "push to export Chinese models: price cuts and state financing for buyers"
    )
    surveillance_bundle: float = lever(
        0.5, "how strongly AI-enabled surveillance is bundled with exported models"
    )
    open_weights: float = lever(0.8, "openness of Chinese open-weight model releases")


class AlliesLevers(_LeverGroup):
    """The chip-supply allies (Netherlands, Japan, South Korea, Taiwan), acting together."""

    tool_controls: float = lever(
        0.55, "alignment of allied chip-making tool (SME) controls with the US, slowing SMIC"
    )
    hub_enforcement: float = lever(
        0.3, "enforcement against diversion at allied hubs (Taiwan, Japan, Korea, Netherlands)"
    )


ACTORS: dict[str, type[_LeverGroup]] = {
    "us": USLevers,
    "china": ChinaLevers,
    "allies": AlliesLevers,
}


class Levers(BaseModel):
    """All levers of all actors; ``levers.us.enforcement`` and so on."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    us: USLevers = Field(default_factory=USLevers)
    china: ChinaLevers = Field(default_factory=ChinaLevers)
    allies: AlliesLevers = Field(default_factory=AlliesLevers)

    def get(self, key: str) -> float:
        """Value of a lever key such as ``"us.enforcement"``."""
        lever = parse_lever_key(key, hubs=False)
        return float(getattr(getattr(self, lever.actor), lever.name))

    def set(self, key: str, value: float, source: str = "lever") -> None:
        """Set one lever by key, validating the value (raises InputError)."""
        lever = parse_lever_key(key, source=source, hubs=False)
        try:
            setattr(getattr(self, lever.actor), lever.name, value)
        except ValidationError as err:
            raise InputError(source, lever.text, value, "a number in [0, 1]") from err

    def flat(self) -> dict[str, float]:
        """Every lever as ``{"us.enforcement": 0.3, ...}``, in a fixed order."""
        return {
            f"{actor}.{name}": float(getattr(getattr(self, actor), name))
            for actor, group in ACTORS.items()
            for name in group.model_fields
        }


def lever_keys() -> list[str]:
    """All dotted lever keys in a fixed order."""
    return [f"{actor}.{name}" for actor, group in ACTORS.items() for name in group.model_fields]


HUB = "hub"
Spelling = Literal["dotted", "kwarg"]


@dataclass(frozen=True, order=True)
class LeverKey:
    """A parsed lever key: ``actor`` is us, china, allies (a lever) or hub (a hub's regime);
    ``name`` the lever's name, or the hub's ISO3 code."""

    actor: str
    name: str

    @property
    def text(self) -> str:
        """The canonical spelling, ``us.kyc`` or ``hub.MYS``."""
        return f"{self.actor}.{self.name}"

    @property
    def kwarg(self) -> str:
        """The keyword spelling of ChipWarModel and mesa.batch_run, ``us_kyc``."""
        return f"{self.actor}_{self.name}"

    @property
    def is_hub(self) -> bool:
        return self.actor == HUB

    def __str__(self) -> str:
        return self.text


def hub_key(iso: str) -> str:
    """The canonical key of a hub's own enforcement regime: ``hub_key("MYS") == "hub.MYS"``."""
    return LeverKey(HUB, iso).text


def parse_lever_key(
    text: str,
    *,
    role: Collection[str] | None = None,
    source: str = "lever",
    hubs: bool = True,
    spelling: Spelling = "dotted",
) -> LeverKey:
    """Parse a lever key in any of its spellings; InputError (one line) for anything else.

    ``role``: the canonical keys a wargame role owns; a short name (``kyc``, ``MYS``) then means
    the one key among them with that name. ``hubs``: whether ``hub.<ISO3>`` keys are allowed (the
    ISO3 code must be in the country table). ``spelling``: ``dotted`` (``us.kyc``) or ``kwarg``
    (``us_kyc``, the keyword spelling of :class:`~chipwar.world.model.ChipWarModel`).
    """
    if role is not None and "." not in text:
        matches = [key for key in role if key.rpartition(".")[2] == text]
        if len(matches) == 1:
            return parse_lever_key(matches[0], source=source, hubs=hubs)
    separator = "." if spelling == "dotted" else "_"
    actor, found, name = text.partition(separator)
    group = ACTORS.get(actor)
    if found and group is not None and name in group.model_fields:
        return LeverKey(actor, name)
    if found and hubs and actor == HUB:
        from chipwar.world.countries import load_countries  # lazily: a cached table

        if len(name) == 3 and name.isalpha() and name.isupper() and name in load_countries():
            return LeverKey(HUB, name)
        allowed = f"{HUB}{separator}<ISO3> with a country code of the country table"
        raise InputError(source, "lever", text, allowed)
    keys = [f"{a}{separator}{n}" for a, group in ACTORS.items() for n in group.model_fields]
    allowed = "a lever key, one of: " + ", ".join(keys)
    if hubs:
        allowed += f", or {HUB}{separator}<ISO3> (a hub's own enforcement regime)"
    if role is not None:
        allowed += "; or the short name of one of the role's levers"
    raise InputError(source, "lever", text, allowed)


def describe_levers() -> list[tuple[str, float, str]]:
    """(key, default, meaning) for every lever, for help texts and docs."""
    rows = []
    for actor, group in ACTORS.items():
        for name, info in group.model_fields.items():
            rows.append((f"{actor}.{name}", float(info.default), info.description or ""))
    return rows
