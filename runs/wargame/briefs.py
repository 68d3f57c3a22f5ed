"""Briefs: what one role knows at the start of a turn (fog of war), rendered for its team.

Why: a wargame is about deciding under uncertainty. What a role sees -- its own levers and side
exactly, public facts exactly, rivals only as intelligence estimates whose errors shrink with its
intelligence effort (``intel``) -- is the model layer's view of that role
(world/intelligence.py), the very view the bots and the players of plain runs decide on. A brief
adds what a team needs to play the turn (its actions, the hubs, the last turn's public events,
its bloc, its last move) and renders it as markdown.

The estimation errors come from a generator seeded by (session seed, turn, role), never from the
model's generator, so briefs are reproducible, the same for a human team and for a bot in the
same seat, and reading a brief never changes the game.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from chipwar.runs.wargame.roles import (
    INTEL,
    Role,
    is_public,
    parse_action,
)
from chipwar.world.countries import REGION_LABELS
from chipwar.world.intelligence import (
    VIEW_STREAM,
    Estimate,
    Indicator,
    LeverView,
    View,
    role_view,
    turn_window,
)
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session

BRIEF_STREAM = VIEW_STREAM  # SeedSequence stream id of briefs: the view's
__all__ = ["BRIEF_STREAM", "Brief", "Estimate", "Indicator", "LeverView", "make_brief"]


@dataclass
class Brief(View):
    """One role's brief: its view of the world (the fog of war, world/intelligence.py, which
    bots read) and what the team needs besides to play the turn."""

    title: str = ""
    session: str = ""
    turn: int = 0
    turns_total: int = 0
    as_of: str = ""  # last month simulated
    period: tuple[str, str] | None = None  # the turn about to be played (None once it ended)
    actions: list[dict[str, Any]] = field(default_factory=list)
    hubs: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # public events of the last turn
    bloc: dict[str, Any] | None = None
    last_move: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

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


def _move_text(move: dict[str, Any]) -> str:
    parts = [f"`{k}`={v:.2f}" for k, v in move.get("set", {}).items()]
    parts += [f"action `{a}`" for a in move.get("actions", [])]
    text = ", ".join(parts) or "no change"
    by = move.get("by", "human")
    if move.get("note"):
        text += f" ({by}: {move['note']})"
    return text


def make_brief(session: Session, role: Role, turn: int) -> Brief:
    """The brief of ``role`` at the start of ``turn`` (after turn - 1 was played)."""
    r = session.record
    months = session.month_records
    t = r.turn_months
    first_of_turn = session.first_month + (turn - 1) * t
    now = min(session.record_index(first_of_turn), len(months)) - 1  # the final brief: the end
    before, first = turn_window(now, t)
    intel = session.intel(role.id, before_turn=turn)
    opening = session.opening_levers(turn)
    view = role_view(role, session.roles, months, now, t, opening, intel, r.seed, turn)

    busts = view.busts
    events: list[str] = []
    for month in months[first : now + 1]:
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
        **{f.name: getattr(view, f.name) for f in fields(View)},
        title=role.title,
        session=r.name,
        turn=turn,
        turns_total=session.total_turns,
        as_of=months[now].date,
        period=period,
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
        hubs=hubs,
        events=events,
        bloc=bloc,
        last_move=last_move,
        notes=notes,
    )
