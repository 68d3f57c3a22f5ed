"""Bots: a built-in doctrine for every role, in three personalities (hawk, pragmatist, dove).

Why: roles no human takes must still play, and play plausibly, so that a session with any mix of
humans and bots (or bots only) is a valid run. A bot sees exactly what a human team in its seat
would see, its own brief with the fog of war, and reacts to changes since the last turn:

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

A bot's move is a pure function of (brief, personality): deterministic, with no randomness at
all (the brief's own estimation errors are already seeded by (seed, turn, role)). The move is
recorded in the session log, so replaying a session never runs a bot again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chipwar.runs.wargame.briefs import Brief
from chipwar.runs.wargame.roles import INTEL, MAX_ACTIONS


@dataclass(frozen=True)
class Personality:
    """How a doctrine is played: step size, ambition, intelligence effort, appetite for action."""

    name: str
    step: float  # one lever adjustment
    lead_target: float  # US lead (months) the US side wants; half of it China tolerates
    intel: float
    boldness: float  # 0: never acts; 0.5: acts on strong signals; 1: acts on any signal
    stance: int  # +1 hawkish drift, 0 none, -1 dovish drift


PERSONALITIES = {
    "hawk": Personality("hawk", 0.15, 24.0, 0.7, 1.0, 1),
    "pragmatist": Personality("pragmatist", 0.10, 12.0, 0.5, 0.5, 0),
    "dove": Personality("dove", 0.05, 6.0, 0.3, 0.0, -1),
}


@dataclass
class Proposal:
    """A bot's move: lever settings (full keys), actions and the reasons, for the log."""

    settings: dict[str, float] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "holds its levers"

    def nudge(self, brief: Brief, key: str, delta: float, why: str) -> None:
        """Move a lever by ``delta`` from its current value (kept in [0, 1], two decimals)."""
        current = self.settings.get(key, brief.lever(key))
        if current is None or delta == 0.0:
            return
        new = round(min(max(current + delta, 0.0), 1.0), 2)
        if new != round(current, 2):
            self.settings[key] = new
            self.reasons.append(f"{key} {'up' if delta > 0 else 'down'}: {why}")

    def toward(self, brief: Brief, key: str, target: float, step: float, why: str) -> None:
        current = brief.lever(key)
        if current is None or abs(current - target) < 0.05:
            return
        self.nudge(brief, key, max(min(target - current, step), -step), why)

    def act(self, action: str, why: str) -> None:
        if len(self.actions) < MAX_ACTIONS and action not in self.actions:
            self.actions.append(action)
            self.reasons.append(f"{action}: {why}")


def _change(brief: Brief, key: str) -> float | None:
    """Relative change of an indicator over the last turn (None if unknown)."""
    now, before = brief.value(key), brief.previous(key)
    if now is None or before is None or before <= 0:
        return None
    return now / before - 1.0


def _delta(brief: Brief, key: str) -> float:
    now, before = brief.value(key), brief.previous(key)
    return 0.0 if now is None or before is None else now - before


def _us(b: Brief, p: Personality) -> Proposal:
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


def _china(b: Brief, p: Personality) -> Proposal:
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


def _us_labs(b: Brief, p: Personality) -> Proposal:
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


def _cn_labs(b: Brief, p: Personality) -> Proposal:
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


def _allies(b: Brief, p: Personality) -> Proposal:
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


def _bloc(b: Brief, p: Personality) -> Proposal:
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


DOCTRINES: dict[str, Callable[[Brief, Personality], Proposal]] = {
    "us": _us,
    "china": _china,
    "us-labs": _us_labs,
    "cn-labs": _cn_labs,
    "allies": _allies,
}


def bot_move(brief: Brief, personality: str) -> Proposal:
    """The move a bot with ``personality`` makes on seeing ``brief`` (pure, deterministic)."""
    p = PERSONALITIES[personality]
    doctrine = DOCTRINES.get(brief.role, _bloc)
    move = doctrine(brief, p)
    if not brief.levers:
        move.reasons.append("no levers: observes")
    if round(brief.intel, 2) != p.intel:
        move.settings[INTEL] = p.intel
    return move
