"""Policy levers: model state that players and scenarios may change between months.

Every lever is a number in [0, 1] with a default (the policy in force when the history phase ends,
mid-2026) and a one-line meaning. They are validated on every assignment, so a lever can never hold
an out-of-range value, whoever sets it (a scenario file, the timeline, a wargame move).
"""

from __future__ import annotations

from typing import Any

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
        """Value of a dotted lever key such as ``"us.enforcement"``."""
        actor, name = split_lever_key(key)
        return float(getattr(getattr(self, actor), name))

    def set(self, key: str, value: float, source: str = "lever") -> None:
        """Set one lever by dotted key, validating the value (raises InputError)."""
        actor, name = split_lever_key(key, source)
        try:
            setattr(getattr(self, actor), name, value)
        except ValidationError as err:
            raise InputError(source, key, value, "a number in [0, 1]") from err

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


def split_lever_key(key: str, source: str = "lever") -> tuple[str, str]:
    """Split and check a dotted key; raises InputError naming the allowed keys."""
    actor, _, name = key.partition(".")
    group = ACTORS.get(actor)
    if group is None or name not in group.model_fields:
        raise InputError(source, "lever", key, "a lever key, one of: " + ", ".join(lever_keys()))
    return actor, name


def describe_levers() -> list[tuple[str, float, str]]:
    """(key, default, meaning) for every lever, for help texts and docs."""
    rows = []
    for actor, group in ACTORS.items():
        for name, info in group.model_fields.items():
            rows.append((f"{actor}.{name}", float(info.default), info.description or ""))
    return rows
