"""Players: roles played by a doctrine inside a run, so that plain runs have actors who react.

Why: levers are exogenous in a run without players -- cutting chip sales leaves China's smuggling
demand where the scenario put it. A scenario's ``[players]`` table (world/scenario.py) gives a
role a doctrine (world/doctrines.py); that role then plays like a wargame bot in every run,
comparison and sweep of the scenario, while the roles without a player keep the scenario's
levers exactly as before.

One implementation with the wargame: a player sees what a bot in its seat would see -- its
view of the world with the fog of war (world/intelligence.py), built from the model's own
monthly snapshots (``model.observe()``) with the same seeded estimation errors -- decides with
the same doctrine, and its move becomes the same dated lever changes (world/roles.py
``turn_changes``), scheduled through ``model.schedule_change``. The players' turns follow the
wargame's calendar: the first at the scenario's branch date (with the history phase, else the
second month), then every ``player_turn_months`` months (6 by default); the roles at the table
are the session's default seats (the five core roles and the blocs with levers), so a plain run
whose every seat has a player makes the lever moves of a bots-only session with the same seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import mesa

from chipwar.world.calendar import parse_month
from chipwar.world.doctrines import Personality, Proposal, decide, resolve_player
from chipwar.world.intelligence import role_view
from chipwar.world.levers import lever_keys
from chipwar.world.roles import (
    ALL_ROLE_IDS,
    DEFAULT_INTEL,
    INTEL,
    Role,
    build_roles,
    default_role_ids,
    turn_changes,
)

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel
    from chipwar.world.observation import Observation
    from chipwar.world.scenario import Scenario


class Player(mesa.Agent):
    """A role played by a doctrine: it keeps its intelligence effort between turns."""

    model: ChipWarModel

    def __init__(self, model: ChipWarModel, role: str, doctrine: Personality) -> None:
        super().__init__(model)
        self.role = role
        self.doctrine = doctrine
        self.intel = DEFAULT_INTEL  # as a wargame seat starts; the doctrine sets its own

    def decide(self, table: PlayerTable, turn: int) -> Proposal:
        """Look at the world through this role's view, and choose a move."""
        months = table.months
        view = role_view(
            table.roles[self.role],
            table.seated,
            months,
            len(months) - 1,
            table.turn_months,
            table.opening,
            self.intel,
            table.seed,
            turn,
        )
        proposal = decide(view, self.doctrine)
        self.intel = proposal.settings.get(INTEL, self.intel)
        return proposal


class PlayerTable:
    """The players of one run, their calendar, and the monthly snapshots they look at.

    ``first_month`` is the month turn ``first_turn`` starts in; ``months`` the snapshots of the
    months simulated so far (a session's records, when players take over a live model);
    ``table`` the roles at the table (default: the default seats and the players' roles);
    ``intel`` the players' intelligence efforts so far (default: a seat's 0.3).
    """

    def __init__(
        self,
        model: ChipWarModel,
        seed: int,
        players: Mapping[str, Personality],
        turn_months: int,
        first_month: int,
        first_turn: int = 1,
        months: Sequence[Observation] = (),
        table: Sequence[str] | None = None,
        intel: Mapping[str, float] | None = None,
    ) -> None:
        self.seed = seed
        self.turn_months = turn_months
        self.first_month = first_month
        self.first_turn = first_turn
        self.players = [
            Player(model, role, players[role]) for role in ALL_ROLE_IDS if role in players
        ]
        for player in self.players:
            player.intel = (intel or {}).get(player.role, player.intel)
        self.months: list[Observation] = list(months)
        self.table = list(table) if table is not None else None
        self.roles: dict[str, Role] = {}
        self.seated: dict[str, Role] = {}
        self.opening: dict[str, float] = {}

    def record(self, model: ChipWarModel) -> None:
        """Keep the snapshot of the month just simulated (the players' memory)."""
        self.months.append(model.observe())

    def turn_due(self, model: ChipWarModel) -> int | None:
        """The number of the players' turn that starts this month (None if none does)."""
        month = model.start_month + model.months
        if month < self.first_month or (month - self.first_month) % self.turn_months:
            return None
        return (month - self.first_month) // self.turn_months + self.first_turn

    def play(self, model: ChipWarModel) -> None:
        """At the start of a month: if a turn starts, every player moves (in role order)."""
        turn = self.turn_due(model)
        if turn is None or not self.players or not self.months:
            return  # no turn, nobody to play it, or nothing simulated yet to look at
        if not self.roles:
            self.roles = build_roles(model)
            extra = [p.role for p in self.players]
            seated = self.table if self.table is not None else default_role_ids(self.roles, extra)
            self.seated = {r: self.roles[r] for r in ALL_ROLE_IDS if r in seated}
        hubs = [f"hub.{iso}" for iso in self.months[-1].hubs]
        self.opening = {key: model.lever_value(key) for key in [*lever_keys(), *hubs]}
        month = model.start_month + model.months
        length = min(self.turn_months, model.end_month - month + 1)
        moves: list[tuple[str, Mapping[str, float], list[str]]] = []
        for player in self.players:
            proposal = player.decide(self, turn)
            model.record_event(
                "player",
                f"{player.role} ({player.doctrine.name}): {proposal.note}",
                role=player.role,
                doctrine=player.doctrine.name,
                turn=turn,
                settings=dict(proposal.settings),
                actions=list(proposal.actions),
            )
            moves.append((player.role, proposal.settings, proposal.actions))
        for change in turn_changes(model, self.roles, moves, turn, length):
            model.schedule_change(
                change.settings, change.label, months_ahead=change.offset, origin="player"
            )


def make_players(model: ChipWarModel, scenario: Scenario, seed: int) -> PlayerTable | None:
    """The run's players, or None if the scenario gives no role a doctrine.

    Their first turn is the wargame's: the branch month with the history phase (never before the
    second month), else the second month.
    """
    if not scenario.players:
        return None
    first = model.start_month + 1
    if scenario.history:
        first = max(first, parse_month(scenario.branch))
    players = {
        role: resolve_player(value, scenario.doctrines) for role, value in scenario.players.items()
    }
    return PlayerTable(model, seed, players, scenario.player_turn_months, first)
