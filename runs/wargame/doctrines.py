"""Bots: a role no team plays is played by a doctrine of the model layer (world/doctrines.py).

Why a thin adapter: a bot and a player of a plain run (agents/players.py) are one implementation
-- the same doctrine, deciding on the same view of the world (world/intelligence.py) -- so a
bots-only session and a plain run with the same players make the same lever moves. A bot sees
exactly what a human team in its seat would see, its own brief with the fog of war; its move is
recorded in the session log, so replaying a session never runs a bot again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipwar.world.doctrines import PERSONALITIES, Personality, Proposal, decide

if TYPE_CHECKING:
    from chipwar.runs.wargame.briefs import Brief

__all__ = ["PERSONALITIES", "Personality", "Proposal", "bot_move"]


def bot_move(brief: Brief, personality: str | Personality) -> Proposal:
    """The move a bot with ``personality`` makes on seeing ``brief`` (pure, deterministic)."""
    return decide(brief, personality)
