"""Wargame roles: checking a team's move against the roles of the model layer.

Why a separate module: the session (event log), the briefs and the browser page all need the same
answer to "may this role do this?". The roles themselves -- who owns which lever, the discrete
actions, and how a turn's moves become dated lever changes -- live in the model layer
(world/roles.py), shared with the players of plain runs; they are re-exported here so that the
wargame's code reads them from one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from chipwar.world.errors import InputError
from chipwar.world.levers import parse_lever_key
from chipwar.world.roles import (
    ACTIONS,
    ALL_ROLE_IDS,
    BLOC_PREFIX,
    CORE_ROLES,
    DEFAULT_INTEL,
    GOVERNMENT_OF_ACTOR,
    INTEL,
    LAB_LEVERS,
    MAX_ACTIONS,
    PUBLIC_LEVERS,
    ROLE_SIDES,
    ROLE_TITLES,
    ActionSpec,
    Change,
    Role,
    build_roles,
    default_role_ids,
    is_public,
    lever_meanings,
    lever_owner,
    owner_of,
    parse_action,
    role_index,
    role_with_levers,
    turn_changes,
)

__all__ = [
    "ACTIONS",
    "ALL_ROLE_IDS",
    "BLOC_PREFIX",
    "CORE_ROLES",
    "DEFAULT_INTEL",
    "GOVERNMENT_OF_ACTOR",
    "INTEL",
    "LAB_LEVERS",
    "MAX_ACTIONS",
    "PUBLIC_LEVERS",
    "ROLE_SIDES",
    "ROLE_TITLES",
    "ActionSpec",
    "Change",
    "Role",
    "build_roles",
    "check_actions",
    "check_role",
    "default_role_ids",
    "is_public",
    "lever_meanings",
    "lever_owner",
    "normalise_settings",
    "owner_of",
    "parse_action",
    "resolve_key",
    "role_index",
    "role_with_levers",
    "turn_changes",
]


def check_role(role: str, roles: Mapping[str, Role], source: str) -> Role:
    if role not in roles:
        raise InputError(source, "role", role, "a role of this session: " + ", ".join(roles))
    return roles[role]


def normalise_settings(
    role: Role, settings: Mapping[str, object], roles: Mapping[str, Role], source: str
) -> dict[str, float]:
    """Full keys and checked values: short names (``enforcement``) resolve to the role's levers.

    Refuses a lever owned by another role (naming the owner), unknown keys and values outside
    [0, 1], each with a one-line InputError.
    """
    out: dict[str, float] = {}
    for raw_key, raw_value in settings.items():
        key = resolve_key(role, str(raw_key).strip(), roles, source, raw_value)
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float):
            raise InputError(source, key, raw_value, "a number in [0, 1]")
        value = float(raw_value)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise InputError(source, key, raw_value, "a number in [0, 1]")
        out[key] = value
    return out


def resolve_key(
    role: Role, key: str, roles: Mapping[str, Role], source: str, value: object = None
) -> str:
    if key == INTEL:
        return key
    try:  # the canonical key, whichever spelling (``kyc``, ``us.kyc``, ``MYS``, ``hub.MYS``)
        parsed: str | None = parse_lever_key(key, role=role.levers, source=source).text
    except InputError:
        parsed = None
    if parsed in role.levers:
        return parsed
    owner = owner_of(parsed or key, roles)
    if owner is None and parsed is not None and not parse_lever_key(parsed).is_hub:
        owner = lever_owner(parsed)
    if owner is not None:
        raise InputError(
            source,
            key,
            value,
            f"a lever of role {role.id}; {key} belongs to role {owner} "
            "(a role cannot move for another role)",
        )
    allowed = ", ".join([*role.levers, INTEL]) if role.levers else INTEL + " only (no levers)"
    raise InputError(source, "lever", key, f"one of {role.id}'s levers: {allowed}")


def check_actions(role: Role, actions: Iterable[str], source: str) -> list[str]:
    """Normalised action strings (``raid:MYS``); refuses unknown actions and bad targets."""
    out: list[str] = []
    for text in actions:
        name, arg = parse_action(str(text))
        spec = role.action(name)
        if spec is None:
            allowed = (
                "; ".join(f"{a.usage()} ({a.summary})" for a in role.actions)
                if role.actions
                else "none (this role has no actions)"
            )
            raise InputError(source, "action", text, f"an action of role {role.id}: {allowed}")
        targets = role.action_targets(spec)
        if spec.target == "none":
            if arg is not None:
                raise InputError(source, "action", text, f"{spec.name} takes no target")
            normal = spec.name
        else:
            if arg not in targets:
                raise InputError(
                    source,
                    "action",
                    text,
                    f"{spec.name}:<HUB> with HUB one of {', '.join(targets)}",
                )
            normal = f"{spec.name}:{arg}"
        if normal in out:
            raise InputError(source, "action", text, "each action at most once per turn")
        out.append(normal)
    if len(out) > MAX_ACTIONS:
        raise InputError(source, "actions", len(out), f"at most {MAX_ACTIONS} actions per turn")
    return out
