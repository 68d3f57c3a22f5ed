"""Doctrines: how each role reacts to what it observes, played in one of several personalities.

Why in the model layer: the wargame's bots (runs/wargame/session.py) and the players of plain
runs, comparisons and sweeps (agents/players.py) must be the same doctrine, so that a role
played by a hawk behaves the same whether it sits at a wargame table or inside a sweep. A
doctrine reads only its role's view of the world (world/intelligence.py: its own side exactly,
rivals through intelligence estimates) and reacts to changes since the last turn:

- PRC government: raises smuggling demand and domestic investment when the compute gap widens;
  pushes model exports when governments drift to the US stack.
- US government: raises enforcement after detected diversion (seizures) or a rise in estimated
  smuggling, raids the hub where networks were caught, tightens sales when the lead shrinks,
  moves on KYC when offshore rental grows, promotes the US stack when countries go Chinese.
- US labs: police distillation harder when China's distillation gain grows or the lead shrinks.
- Chinese labs: distill harder when the US lead grows, rent offshore while KYC is weak, release
  open weights when Chinese adoption stalls.
- Allies: align tool controls with US coordination; tighten their hubs after busts.
- Blocs: tighten a hub after a bust there (hawks align with US pressure, doves keep trade
  flowing).

A move is a pure function of (view, personality): deterministic, with no randomness at all (the
view's own estimation errors are already seeded by (seed, turn, role)).

Personalities are data: hawk, pragmatist, dove, or any doctrine a scenario describes. The same
five numbers decide how any doctrine is played, so a scenario
can name a built-in personality for a role, tune one, or define its own and name it, and a sweep
or a tournament can vary it like any other input. Everything is validated when the scenario is
read: a bad role, personality or value is a one-line error naming the file, the field, the
value and what is allowed. A scenario's players (agents/players.py plays them)::

    [players]
    china = "hawk"                 # a built-in personality
    us = "steady"                  # a doctrine defined below
    allies = { like = "dove", boldness = 1.0 }   # an inline custom doctrine (named "custom")

    [doctrines.steady]
    like = "pragmatist"            # the personality whose values the others default to
    step = 0.2
    lead_target = 18
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_serializer

from chipwar.world.errors import InputError
from chipwar.world.roles import ALL_ROLE_IDS, INTEL, MAX_ACTIONS

if TYPE_CHECKING:
    from chipwar.world.intelligence import View


NO_PLAYER = "none"  # in a sweep's doctrine factor: the role keeps its exogenous levers
CUSTOM = "custom"  # the name of an inline doctrine
DOCTRINE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
DEFAULT_TURN_MONTHS = 6
MAX_TURN_MONTHS = 24


@dataclass(frozen=True)
class Personality:
    """How a doctrine is played: step size, ambition, intelligence effort, appetite for action."""

    name: str
    step: float  # one lever adjustment
    lead_target: float  # US lead (months) the US side wants; half of it China tolerates
    intel: float  # intelligence effort the role sets for its next views
    boldness: float  # 0: never acts; 0.5: acts on strong signals; 1: acts on any signal
    stance: int  # +1 hawkish drift, 0 none, -1 dovish drift

    def values(self) -> dict[str, float | int]:
        """The five numbers (no name), as a doctrine table holds them."""
        data = asdict(self)
        data.pop("name")
        return data


PERSONALITIES = {
    "hawk": Personality("hawk", 0.15, 24.0, 0.7, 1.0, 1),
    "pragmatist": Personality("pragmatist", 0.10, 12.0, 0.5, 0.5, 0),
    "dove": Personality("dove", 0.05, 6.0, 0.3, 0.0, -1),
}

# Documented ranges of a doctrine's values (docs/ODD.md, "Players").
RANGES: dict[str, tuple[float, float, str]] = {
    "step": (0.01, 0.5, "a number in [0.01, 0.5] (one lever adjustment)"),
    "lead_target": (0.0, 60.0, "a number of months in [0, 60]"),
    "intel": (0.0, 1.0, "a number in [0, 1] (intelligence effort)"),
    "boldness": (0.0, 1.0, "a number in [0, 1] (0 never acts, 1 acts on any signal)"),
    "stance": (-1, 1, "-1 (dovish drift), 0 or 1 (hawkish drift)"),
}


class DoctrineData(BaseModel):
    """A doctrine as data: a built-in personality (``like``) with some of its values replaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    like: str = "pragmatist"
    step: float | None = None
    lead_target: float | None = None
    intel: float | None = None
    boldness: float | None = None
    stance: int | None = None

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    def personality(self, name: str) -> Personality:
        base = PERSONALITIES[self.like].values()
        given = {k: v for k, v in self.model_dump().items() if k != "like"}
        values = {**base, **given}
        return Personality(
            name,
            float(values["step"]),
            float(values["lead_target"]),
            float(values["intel"]),
            float(values["boldness"]),
            int(values["stance"]),
        )


def allowed_personalities(doctrines: Mapping[str, Any]) -> str:
    names = [*PERSONALITIES, *doctrines]
    return (
        "a personality ("
        + ", ".join(names)
        + ") or an inline table of like, step, lead_target, intel, boldness, stance"
    )


def _check_doctrine_table(value: Any, source: str, field: str) -> DoctrineData:
    if not isinstance(value, Mapping):
        raise InputError(source, field, value, "a table of like, step, lead_target, ...")
    for key, item in value.items():
        if key == "like":
            if item not in PERSONALITIES:
                raise InputError(
                    source, f"{field}.like", item, "one of " + ", ".join(PERSONALITIES)
                )
            continue
        if key not in RANGES:
            raise InputError(source, f"{field}.{key}", item, "a key of like, " + ", ".join(RANGES))
        low, high, what = RANGES[key]
        number = isinstance(item, int | float) and not isinstance(item, bool)
        if key == "stance":
            if not (isinstance(item, int) and not isinstance(item, bool) and item in (-1, 0, 1)):
                raise InputError(source, f"{field}.{key}", item, what)
        elif not (number and math.isfinite(item) and low <= item <= high):
            raise InputError(source, f"{field}.{key}", item, what)
    try:
        return DoctrineData.model_validate(dict(value))
    except ValidationError as err:  # pragma: no cover -- the checks above come first
        raise InputError(source, field, value, str(err.errors()[0]["msg"])) from None


def check_players(data: Mapping[str, Any], source: str) -> None:
    """Check a scenario's ``players``, ``doctrines`` and ``player_turn_months`` (parsed TOML),
    raising a one-line InputError naming the field at the first fault."""
    doctrines = data.get("doctrines", {})
    if not isinstance(doctrines, Mapping):
        raise InputError(source, "doctrines", doctrines, "a table of named doctrines")
    for name, table in doctrines.items():
        if not DOCTRINE_NAME.match(str(name)) or name in (*PERSONALITIES, NO_PLAYER, CUSTOM):
            raise InputError(
                source,
                "doctrines",
                name,
                "a new doctrine name: lower-case letters, digits, - and _ (not hawk, "
                "pragmatist, dove, none or custom)",
            )
        _check_doctrine_table(table, source, f"doctrines.{name}")
    players = data.get("players", {})
    if not isinstance(players, Mapping):
        raise InputError(source, "players", players, "a table of role = personality")
    for role, value in players.items():
        if role not in ALL_ROLE_IDS:
            raise InputError(source, "players", role, "a role: " + ", ".join(ALL_ROLE_IDS))
        field = f"players.{role}"
        if isinstance(value, str) or not isinstance(value, Mapping):
            if value not in PERSONALITIES and value not in doctrines:
                raise InputError(source, field, value, allowed_personalities(doctrines))
        else:
            _check_doctrine_table(value, source, field)
    months = data.get("player_turn_months", DEFAULT_TURN_MONTHS)
    if (
        isinstance(months, bool)
        or not isinstance(months, int)
        or not 1 <= months <= MAX_TURN_MONTHS
    ):
        raise InputError(
            source,
            "player_turn_months",
            months,
            f"a whole number of months in 1..{MAX_TURN_MONTHS}",
        )


def resolve_player(
    value: str | DoctrineData | Personality, doctrines: Mapping[str, DoctrineData]
) -> Personality:
    """The personality a ``[players]`` entry names (a built-in, a named doctrine, inline)."""
    if isinstance(value, Personality):
        return value
    if isinstance(value, DoctrineData):
        return value.personality(CUSTOM)
    if value in PERSONALITIES:
        return PERSONALITIES[value]
    if value not in doctrines:
        raise InputError("players", "personality", value, allowed_personalities(doctrines))
    return doctrines[value].personality(value)


# --- the doctrines
@dataclass
class Proposal:
    """A doctrine's move: lever settings (full keys), actions and the reasons, for the log."""

    settings: dict[str, float] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "holds its levers"

    def nudge(self, view: View, key: str, delta: float, why: str) -> None:
        """Move a lever by ``delta`` from its current value (kept in [0, 1], two decimals)."""
        current = self.settings.get(key, view.lever(key))
        if current is None or delta == 0.0:
            return
        new = round(min(max(current + delta, 0.0), 1.0), 2)
        if new != round(current, 2):
            self.settings[key] = new
            self.reasons.append(f"{key} {'up' if delta > 0 else 'down'}: {why}")

    def toward(self, view: View, key: str, target: float, step: float, why: str) -> None:
        current = view.lever(key)
        if current is None or abs(current - target) < 0.05:
            return
        self.nudge(view, key, max(min(target - current, step), -step), why)

    def act(self, action: str, why: str) -> None:
        if len(self.actions) < MAX_ACTIONS and action not in self.actions:
            self.actions.append(action)
            self.reasons.append(f"{action}: {why}")


def _change(view: View, key: str) -> float | None:
    """Relative change of an indicator over the last turn (None if unknown)."""
    now, before = view.value(key), view.previous(key)
    if now is None or before is None or before <= 0:
        return None
    return now / before - 1.0


def _delta(view: View, key: str) -> float:
    now, before = view.value(key), view.previous(key)
    return 0.0 if now is None or before is None else now - before


def _us(b: View, p: Personality) -> Proposal:
    move = Proposal()
    lead = b.value("lead_months") or 0.0
    seized = b.value("seized_turn_h100e") or 0.0
    smuggling_up = (_change(b, "smuggled_turn_h100e") or 0.0) > 0.10
    if seized > 0:
        move.nudge(
            b,
            "us.enforcement",
            p.step * (2 if p.stance > 0 else 1),
            f"{seized:,.0f} H100e seized last turn: detected diversion",
        )
    elif smuggling_up:
        move.nudge(b, "us.enforcement", p.step, "smuggling estimated to be rising")
    elif lead > p.lead_target * (1 if p.stance < 0 else 2) and p.stance <= 0:
        move.nudge(b, "us.enforcement", -p.step / 2, f"lead of {lead:.0f} months is comfortable")
    if b.busts and p.boldness > 0:
        hub, caught = max(b.busts.items(), key=lambda kv: kv[1]["seized_h100e"])
        if p.boldness >= 1 or caught["count"] >= 2 or caught["seized_h100e"] >= 10_000:
            move.act(f"raid:{hub}", f"networks caught in {hub} last turn")
    if lead < p.lead_target:
        move.nudge(b, "us.china_chip_sales", -p.step, f"lead of {lead:.0f} months is too short")
        if p.stance >= 0:
            move.nudge(
                b,
                "us.export_stringency",
                p.step / (1 if p.stance > 0 else 2),
                "close the pass-through route while the lead is short",
            )
    elif lead > 2 * p.lead_target and p.stance <= 0:
        move.nudge(b, "us.china_chip_sales", p.step, f"lead of {lead:.0f} months allows sales")
    offshore, cn = b.value("offshore_h100e") or 0.0, b.value("compute_cn_h100e") or 1.0
    kyc = b.lever("us.kyc") or 0.0
    if offshore > 0.15 * cn and kyc < 0.8:
        if p.boldness >= 1:
            move.act("kyc-rule", f"offshore rental is ~{offshore / cn:.0%} of China's compute")
        elif p.boldness > 0:
            move.nudge(b, "us.kyc", p.step, "offshore rental is a large share of China's compute")
    went_cn = _delta(b, "countries_official_cn")
    if went_cn > 0:
        move.nudge(
            b, "us.stack_promotion", p.step, f"{went_cn:.0f} more countries on the Chinese stack"
        )
        if went_cn >= 3 and p.boldness >= 0.5:
            move.act("finance-drive", "governments are drifting to the Chinese stack")
    if (seized > 0 or smuggling_up) and p.stance >= 0:
        move.nudge(b, "us.allied_coordination", p.step, "press the hubs to police diversion")
    return move


def _china(b: View, p: Personality) -> Proposal:
    move = Proposal()
    gap_change = _change(b, "compute_gap") or 0.0
    if gap_change > 0.02:
        move.nudge(b, "china.smuggling_demand", p.step, f"compute gap widened by ~{gap_change:.0%}")
        move.nudge(b, "china.domestic_investment", p.step / 2, "the gap widened: build at home")
        if gap_change > 0.10 and p.boldness >= 1:
            move.act("buying-spree", "the gap is widening fast")
    elif gap_change < -0.05 and p.stance < 0:
        move.nudge(b, "china.smuggling_demand", -p.step, "the gap is closing: cut the risk")
    seized, smuggled = b.value("seized_turn_h100e") or 0.0, b.value("smuggled_turn_h100e") or 0.0
    if p.stance < 0 and seized > 0.5 * max(smuggled, 1.0):
        move.nudge(b, "china.smuggling_demand", -p.step, "too many shipments seized")
    lost = -_delta(b, "countries_official_cn")
    promotion = b.lever("us.stack_promotion") or 0.0
    if lost > 0 or promotion >= 0.6:
        move.nudge(b, "china.export_push", p.step, "governments drift to the US stack")
        if lost > 0 and p.boldness >= 1:
            move.act("export-offensive", f"{lost:.0f} governments left the Chinese stack")
    elif p.stance > 0:
        move.toward(b, "china.export_push", 0.8, p.step, "export the Chinese stack")
    if p.stance > 0:
        move.toward(b, "china.surveillance_bundle", 0.8, p.step / 2, "sell control with the models")
    elif p.stance < 0:
        move.toward(b, "china.surveillance_bundle", 0.3, p.step / 2, "lower the political cost")
    return move


def _us_labs(b: View, p: Personality) -> Proposal:
    move = Proposal()
    gain_up = (_change(b, "distill_gain") or 0.0) > 0.05
    lead_down = _delta(b, "lead_months") < -1.0
    lead = b.value("lead_months") or 0.0
    if gain_up or lead_down:
        why = "China's distillation gain is growing" if gain_up else "the lead is shrinking"
        move.nudge(b, "us.anti_distillation", p.step, why)
        if gain_up and p.boldness >= 1:
            move.act("ban-wave", "fraudulent accounts are copying our models")
    elif p.stance < 0 and lead > p.lead_target:
        move.nudge(b, "us.anti_distillation", -p.step / 2, "keep the APIs open to customers")
    return move


def _cn_labs(b: View, p: Personality) -> Proposal:
    move = Proposal()
    lead = b.value("lead_months") or 0.0
    widened = _delta(b, "lead_months") > 1.0
    caught = b.value("detection") or 0.0
    if widened or lead > p.lead_target / 2:
        move.nudge(
            b, "china.distillation_effort", p.step, f"US lead of ~{lead:.0f} months to close"
        )
        if widened and p.boldness >= 1:
            move.act("distill-campaign", "the US lead is growing")
    elif p.stance < 0 and caught > 0.6:
        move.nudge(b, "china.distillation_effort", -p.step, "US labs catch most of our accounts")
    kyc = b.lever("us.kyc") or 0.0
    if kyc >= 0.6:
        move.nudge(b, "china.offshore_procurement", -p.step, "the KYC rule blocks rentals")
    elif kyc < 0.3:
        move.nudge(b, "china.offshore_procurement", p.step, "offshore rental is still open")
    stalled = sum(r["cn_change"] for r in b.regions) <= 0.0
    if stalled:
        move.nudge(b, "china.open_weights", p.step, "Chinese adoption has stalled")
        if p.boldness >= 0.5:
            move.act("open-weights", "win developers back with a frontier release")
    return move


def _allies(b: View, p: Personality) -> Proposal:
    move = Proposal()
    coordination = b.lever("us.allied_coordination") or 0.0
    move.toward(
        b,
        "allies.tool_controls",
        min(coordination + 0.1 * p.stance + 0.2, 1.0),
        p.step,
        f"align with US coordination ({coordination:.2f})",
    )
    allied_busts = {h for h in b.busts if h in {"JPN", "TWN", "KOR", "NLD"}}
    smuggling_up = (_change(b, "smuggled_turn_h100e") or 0.0) > 0.10
    if allied_busts or (p.stance > 0 and smuggling_up):
        move.nudge(b, "allies.hub_enforcement", p.step, "diversion through allied hubs")
        if p.boldness >= 1:
            move.act("joint-inspections", "check end users at our hubs")
    elif p.stance < 0:
        move.toward(b, "allies.hub_enforcement", 0.3, p.step / 2, "no diversion seen at home")
    return move


def _bloc(b: View, p: Personality) -> Proposal:
    move = Proposal()
    pressure = b.lever("us.allied_coordination") or 0.0
    for key in [v.key for v in b.levers if v.key.startswith("hub.")]:
        hub = key[4:]
        busts = b.busts.get(hub, {}).get("count", 0)
        regime = b.lever(key) or 0.0
        if busts:
            move.nudge(b, key, p.step, f"{busts:.0f} network(s) caught in {hub}: tighten")
            if p.boldness >= 0.5:
                move.act(f"customs-sweep:{hub}", f"show {hub} is no smuggling hub")
        elif p.stance > 0 or pressure > 0.6:
            move.toward(b, key, 0.7, p.step / 2, "answer US pressure")
        elif p.stance < 0 and regime > 0.2:
            move.nudge(b, key, -p.step / 2, "keep trade flowing")
    return move


DOCTRINES: dict[str, Callable[[View, Personality], Proposal]] = {
    "us": _us,
    "china": _china,
    "us-labs": _us_labs,
    "cn-labs": _cn_labs,
    "allies": _allies,
}


def decide(view: View, doctrine: Personality | str) -> Proposal:
    """The move a role playing ``doctrine`` makes on seeing ``view`` (pure, deterministic)."""
    p = PERSONALITIES[doctrine] if isinstance(doctrine, str) else doctrine
    move = DOCTRINES.get(view.role, _bloc)(view, p)
    if not view.levers:
        move.reasons.append("no levers: observes")
    if round(view.intel, 2) != round(p.intel, 2):
        move.settings[INTEL] = p.intel
    return move
