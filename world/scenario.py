"""Scenario files: the schema (pydantic), the shipped presets, and command-line overrides.

A scenario fixes a run up to its seed: dates, scale, the levers that take over at the branch date,
parameter overrides and timed events. Before the branch date the real policy timeline
(``data/timeline.toml``) drives the levers, unless ``history = false``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from chipwar.world.calendar import parse_month
from chipwar.world.doctrines import (
    DEFAULT_TURN_MONTHS,
    MAX_TURN_MONTHS,
    NO_PLAYER,
    DoctrineData,
    check_players,
)
from chipwar.world.errors import InputError
from chipwar.world.levers import Levers, lever_keys, parse_lever_key
from chipwar.world.parameters import Parameters
from chipwar.world.validation import input_error_from, read_toml

MIN_SCALE, MAX_SCALE = 1_000, 50_000_000
DOCTRINE_PREFIX = "doctrine."  # ``doctrine.china = "hawk"``: an override or sweep factor
DATA_START = "2024-01"  # initial stocks, rates and the adopters' starting shares are 2024-01 values


def _check_month(text: str) -> str:
    parse_month(text)
    return text


Month = Annotated[str, AfterValidator(_check_month)]


def check_setting_key(key: str) -> None:
    """A timed event may set a lever (``us.enforcement``) or a hub's enforcement (``hub.MYS``,
    a code of the country table: refused here, not months into a run)."""
    try:
        parse_lever_key(key)
    except InputError as err:
        raise ValueError(f"{key!r}: {err.allowed}") from None


class TimedEvent(BaseModel):
    """Levers (or hub enforcement) that change on a date."""

    model_config = ConfigDict(extra="forbid")

    date: Month
    set: dict[str, float] = Field(min_length=1)
    label: str = ""

    @field_validator("set")
    @classmethod
    def _valid_settings(cls, settings: dict[str, float]) -> dict[str, float]:
        for key, value in settings.items():
            check_setting_key(key)
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{key} must be a number in [0, 1], got {value}")
        return settings


class Scenario(BaseModel):
    """A scenario file, validated."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="custom", min_length=1, max_length=80)
    description: str = ""
    start: Month = "2024-01"
    end: Month = "2030-12"
    branch: Month = "2026-06"
    scale: int = Field(default=200_000, ge=MIN_SCALE, le=MAX_SCALE)
    history: bool = True
    levers: Levers = Field(default_factory=Levers)
    params: dict[str, float] = Field(default_factory=dict)
    events: list[TimedEvent] = Field(default_factory=list)
    # Roles played by a doctrine inside the run (world/doctrines.py, agents/players.py); the
    # others keep the exogenous levers above.
    players: dict[str, str | DoctrineData] = Field(default_factory=dict)
    doctrines: dict[str, DoctrineData] = Field(default_factory=dict)
    player_turn_months: int = Field(default=DEFAULT_TURN_MONTHS, ge=1, le=MAX_TURN_MONTHS)

    @model_serializer(mode="wrap")
    def _players_only_if_any(self, handler: Any) -> dict[str, Any]:
        """A scenario without players dumps (and so writes and fingerprints) as it always did."""
        data = handler(self)
        if not data.get("players"):
            data.pop("players", None)
        if not data.get("doctrines"):
            data.pop("doctrines", None)
        if data.get("player_turn_months") == DEFAULT_TURN_MONTHS:
            data.pop("player_turn_months")
        return data

    @field_validator("params")
    @classmethod
    def _known_params(cls, params: dict[str, float]) -> dict[str, float]:
        try:
            Parameters(params, source="scenario")
        except InputError as err:
            raise ValueError(f"{err.field} = {err.value!r}: {err.allowed}") from None
        return params

    @model_validator(mode="after")
    def _ordered_dates(self) -> Scenario:
        if self.start != DATA_START:
            raise ValueError(
                f"start must be {DATA_START}: the model's initial data describe that month "
                "(choose the period of interest with branch, events and --until)"
            )
        start, end, branch = (parse_month(d) for d in (self.start, self.end, self.branch))
        if end < start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if not start <= branch <= end + 1:
            raise ValueError(f"branch {self.branch} must lie between start and end")
        for event in self.events:
            if not start <= parse_month(event.date) <= end:
                raise ValueError(f"event date {event.date} is outside {self.start}..{self.end}")
        try:
            check_players(self.model_dump(include={"players", "doctrines"}), "scenario")
        except InputError as err:
            raise ValueError(f"{err.field} = {err.value!r}: {err.allowed}") from None
        return self

    def parameters(self) -> Parameters:
        return Parameters(self.params, source=f"scenario {self.name}")

    def changed_levers(self) -> list[str]:
        """Keys of the levers this scenario sets away from their defaults."""
        defaults = Levers().flat()
        return [key for key, value in self.levers.flat().items() if value != defaults[key]]

    def to_toml(self) -> str:
        """The fully resolved scenario as TOML (every lever and parameter written out)."""
        data: dict[str, Any] = self.model_dump(exclude={"params", "events"})
        data["params"] = dict(self.parameters())
        data["events"] = [e.model_dump() for e in self.events]
        for name in ("players", "doctrines"):  # tables last, as a reader expects them
            if name in data:
                data[name] = data.pop(name)
        return tomli_w.dumps(data)


def _preset_dir() -> Path:
    return Path(str(files("chipwar.world") / "presets"))


def preset_names() -> list[str]:
    return sorted(p.stem for p in _preset_dir().glob("*.toml"))


def list_presets() -> list[tuple[str, str]]:
    """(name, one-line description) of every shipped preset."""
    return [(name, load_scenario(name).description) for name in preset_names()]


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    """Validate a parsed scenario; InputError naming the source and the first bad field."""
    if isinstance(data.get("params"), dict):
        Parameters(data["params"], source=source)  # names the bad parameter precisely
    check_players(data, source)  # names the bad role, personality or doctrine value precisely
    try:  # strict: a lever written as true or "0.5" is a mistake in the file, not a number
        return Scenario.model_validate(data, strict=True)
    except ValidationError as err:
        raise input_error_from(err, source) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A preset by name, or a scenario TOML file by path; InputError if neither."""
    text = str(name_or_path)
    if text in preset_names():
        path = _preset_dir() / f"{text}.toml"
        return scenario_from_dict(read_toml(path, f"preset {text}"), f"preset {text}")
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return scenario_from_dict(read_toml(path), str(path))
    raise InputError(
        "--scenario",
        "scenario",
        text,
        "a preset (" + ", ".join(preset_names()) + ") or a path to a scenario .toml file",
    )


def levers_wait_warning(
    scenario: Scenario, until: str, keys: Iterable[str], until_name: str, label: str
) -> str | None:
    """One line if levers among ``keys`` cannot act by ``until``, else None.

    With ``history`` on, the real policy timeline drives every lever until the branch date, and a
    lever set in the scenario, on the command line or in a sweep's design takes over only then: a
    run that stops before it is the same run whatever such a lever says. So do the players
    (``doctrine.ROLE`` keys): their first turn is at the branch date.
    """
    known = set(lever_keys())
    waiting = [
        key for key in dict.fromkeys(keys) if key in known or key.startswith(DOCTRINE_PREFIX)
    ]
    if not waiting or not scenario.history or parse_month(until) >= parse_month(scenario.branch):
        return None
    return (
        f"{until_name} {until} is before the branch date {scenario.branch} of {label}: the real "
        f"policy timeline drives the levers until then, so {', '.join(waiting)} "
        f"{'has' if len(waiting) == 1 else 'have'} no effect"
    )


def parse_assignment(text: str, source: str = "--set") -> tuple[str, float | str]:
    """Parse ``key=value`` from the command line into a key and a finite float (a name for
    ``doctrine.ROLE=hawk``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(source, "assignment", text, "key=value, e.g. us.enforcement=0.8")
    if key.startswith(DOCTRINE_PREFIX):
        return key, raw.strip()
    try:
        value = float(raw)
    except ValueError:
        raise InputError(source, key, raw, "a number") from None
    if not math.isfinite(value):
        raise InputError(source, key, raw, "a finite number")
    return key, value


def with_overrides(
    scenario: Scenario, assignments: Mapping[str, float | str], source: str = "--set"
) -> Scenario:
    """A copy of the scenario with lever (``us.enforcement``), ``params.NAME`` and
    ``doctrine.ROLE`` (a personality, or ``none`` for exogenous levers) overrides."""
    data = scenario.model_dump()
    for key, value in assignments.items():
        if key.startswith(DOCTRINE_PREFIX):
            role = key.removeprefix(DOCTRINE_PREFIX)
            players = data.setdefault("players", {})
            check_doctrine_choice(scenario, key, value, source)
            if value == NO_PLAYER:
                players.pop(role, None)
            else:
                players[role] = value
        elif isinstance(value, str):
            raise InputError(source, key, value, "a number")
        elif key.startswith("params."):
            data["params"][key.removeprefix("params.")] = value
        elif key in ("scale",):
            if value != int(value):
                raise InputError(source, key, value, "a whole number")
            data["scale"] = int(value)
        else:
            lever = parse_lever_key(key, source=source, hubs=False)
            data["levers"][lever.actor][lever.name] = value
    return scenario_from_dict(data, source)


def doctrine_choices(scenario: Scenario) -> list[str]:
    """What ``doctrine.ROLE`` may be set to in ``scenario``: the built-in personalities, the
    scenario's named doctrines, and ``none`` (the role keeps its exogenous levers)."""
    from chipwar.world.doctrines import PERSONALITIES

    return [*PERSONALITIES, *scenario.doctrines, NO_PLAYER]


def check_doctrine_choice(scenario: Scenario, key: str, value: object, source: str) -> None:
    """Refuse a ``doctrine.ROLE`` override naming an unknown role or personality (one line)."""
    from chipwar.world.roles import ALL_ROLE_IDS

    role = key.removeprefix(DOCTRINE_PREFIX)
    if role not in ALL_ROLE_IDS:
        allowed = "doctrine.ROLE with ROLE one of " + ", ".join(ALL_ROLE_IDS)
        raise InputError(source, "doctrine", key, allowed)
    choices = doctrine_choices(scenario)
    if value not in choices:
        allowed = f"one of {', '.join(choices)} ({NO_PLAYER}: the role keeps its levers)"
        raise InputError(source, key, value, allowed)


def with_players(
    scenario: Scenario,
    players: Mapping[str, str | Mapping[str, Any] | DoctrineData],
    doctrines: Mapping[str, Mapping[str, Any] | DoctrineData] | None = None,
    turn_months: int | None = None,
    source: str = "with_players",
) -> Scenario:
    """A copy of ``scenario`` whose ``players`` (role -> personality name, or a doctrine as data)
    replace or join its own; ``doctrines`` adds named doctrines; ``turn_months`` sets the
    players' cadence. A personality ``none`` removes the role's player. Validated like a file.

    ``with_players(load_scenario("porous"), {"us": "hawk", "china": {"like": "dove",
    "boldness": 1.0}})``.
    """
    data = scenario.model_dump()
    table = dict(data.get("players", {}))
    for role, value in players.items():
        if value == NO_PLAYER:
            table.pop(role, None)
        else:
            table[role] = value.model_dump() if isinstance(value, DoctrineData) else value
    data["players"] = table
    named = dict(data.get("doctrines", {}))
    for name, value in (doctrines or {}).items():
        named[name] = value.model_dump() if isinstance(value, DoctrineData) else dict(value)
    data["doctrines"] = named
    if turn_months is not None:
        data["player_turn_months"] = turn_months
    return scenario_from_dict(data, source)


def player_line(scenario: Scenario) -> str:
    """``china=hawk, us=tough`` for the roles the scenario's players take (for messages)."""
    from chipwar.world.doctrines import resolve_player

    return ", ".join(
        f"{role}={resolve_player(value, scenario.doctrines).name}"
        for role, value in scenario.players.items()
    )
