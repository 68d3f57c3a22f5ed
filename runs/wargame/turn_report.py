"""The room's turn report: what changed in a turn and why.

Why: a wargame teaches through the adjudication. The report explains outcomes by decomposition
rather than by assertion: the shocks that struck and what they acted on; China's change in
effective compute split into domestic chips, licensed chips, smuggling, offshore rental,
algorithmic progress and distillation; the lead's change split between the two sides; each
government that flipped its official stack with the largest terms of its decision; diversion and
busts by hub; adoption by region; the key events.

It is the umpire's account: outcomes are shown exactly, but covert lever settings stay hidden
(only their count is shown) until the session has ended or the facilitator asks to reveal them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from chipwar.runs.core.textdoc import Bullets, Document, Heading, Image, Paragraph, Table
from chipwar.runs.wargame.roles import INTEL, is_public, parse_action
from chipwar.world.countries import REGION_LABELS, REGIONS

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session, TurnTrace
    from chipwar.world.observation import Observation

CHANNELS = ("domestic", "licensed", "smuggled", "offshore", "initial")
CHANNEL_LABELS = {
    "domestic": "domestic chips",
    "licensed": "licensed US chips",
    "smuggled": "smuggled chips",
    "offshore": "offshore rental",
    "initial": "2024 stockpile (ageing)",
}


@dataclass
class TurnReport:
    """A turn's report: the document, its charts (Figures) and the numbers behind it.

    Charts are drawn on first use (``figures``), so a caller that needs only the text or the
    numbers does not pay for them.
    """

    turn: int
    document: Document
    charts: dict[str, Callable[[], Figure]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    _figures: dict[str, Figure] | None = None
    _pngs: dict[str, bytes] | None = None

    @property
    def figures(self) -> dict[str, Figure]:
        if self._figures is None:
            self._figures = {name: draw() for name, draw in self.charts.items()}
        return self._figures

    def to_markdown(self) -> str:
        return self.document.to_markdown()

    def png(self) -> dict[str, bytes]:
        """PNG bytes of each chart, drawn once (the page and the files after it share them)."""
        if self._pngs is None:
            out = {}
            for name, fig in self.figures.items():
                buffer = io.BytesIO()
                fig.savefig(buffer, format="png")
                out[name] = buffer.getvalue()
            self._pngs = out
        return self._pngs

    def to_html(self, embed: bool = False) -> str:
        return self.document.to_html(self.png() if embed else None)

    def write(self, folder: Path) -> list[Path]:
        """report.md, report.html and one PNG per chart, in ``folder``."""
        from chipwar.runs.core.atomic import write_bytes_atomic as write_atomic

        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in self.png().items():
            write_atomic(folder / name, data)
            written.append(folder / name)
        write_atomic(folder / "report.md", self.to_markdown().encode())
        write_atomic(folder / "report.html", self.to_html().encode())
        return [folder / "report.md", folder / "report.html", *written]


def _fmt(value: float, fmt: str) -> str:
    return fmt.format(value) if value is not None and math.isfinite(value) else "-"


def _signed(value: float, fmt: str) -> str:
    return ("+" if value >= 0 else "") + fmt.format(value) if math.isfinite(value) else "-"


def history_frame(months: list[Observation]) -> pd.DataFrame:
    """Monthly table of what the charts need."""
    rows = []
    for m in months:
        row = {"date": m.date, **{k: m.cn_sources.get(k, 0.0) for k in CHANNELS if k != "offshore"}}
        row["offshore"] = float(m.metrics.get("offshore_h100e", 0.0))
        row["lead_months"] = float(m.metrics.get("lead_months", math.nan))
        row["compute_gap"] = float(m.metrics.get("compute_gap", math.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def make_report(session: Session, trace: TurnTrace, reveal: bool = False) -> TurnReport:
    """Build the report of one played turn from the session's month records."""
    months = session.month_records
    start, end = months[trace.first - 1], months[trace.last]
    turn_months = months[trace.first : trace.last + 1]
    first_date, last_date = turn_months[0].date, turn_months[-1].date
    r = session.record
    doc = Document(f"Turn {trace.number}: {first_date} to {last_date}")
    humans = [m.role for m in trace.moves if m.by == "human"]
    bots = [f"{m.role} ({m.by.removeprefix('bot:')})" for m in trace.moves if m.by != "human"]
    doc.add(
        Paragraph(
            f"Session **{r.name}**: scenario `{r.scenario.name}`, seed {r.seed}, turn "
            f"{trace.number} of {session.total_turns}. Moved by teams: "
            f"{', '.join(humans) or 'none'}; by bots: {', '.join(bots) or 'none'}"
            + (f"; carried over: {', '.join(trace.carried)}" if trace.carried else "")
            + "."
        )
    )
    data: dict[str, Any] = {"turn": trace.number, "from": first_date, "to": last_date}

    # Headlines
    s, e = start.metrics, end.metrics
    smuggled = sum(float(m.metrics["smuggled_h100e"]) for m in turn_months)
    seized = float(e["seized_h100e_cum"]) - float(s["seized_h100e_cum"])
    rows = []
    headline = [
        ("compute gap (US/CN)", "compute_gap", "{:.2f}x", "{:.2f}"),
        ("US lead (months)", "lead_months", "{:.1f}", "{:.1f}"),
        ("US compute (H100e)", "compute_us_h100e", "{:,.0f}", "{:,.0f}"),
        ("China's compute (H100e)", "compute_cn_h100e", "{:,.0f}", "{:,.0f}"),
        ("rented offshore (H100e)", "offshore_h100e", "{:,.0f}", "{:,.0f}"),
        ("smuggling networks", "networks_active", "{:.0f}", "{:.0f}"),
        ("countries, official CN stack", "countries_official_cn", "{:.0f}", "{:.0f}"),
        ("countries, official US stack", "countries_official_us", "{:.0f}", "{:.0f}"),
        ("people under official CN stack", "pop_cn_stack", "{:,.0f}", "{:,.0f}"),
    ]
    for label, key, fmt, dfmt in headline:
        a, b = float(s[key]), float(e[key])
        rows.append([label, _fmt(a, fmt), _fmt(b, fmt), _signed(b - a, dfmt)])
    rows.append(["smuggled into China this turn (H100e)", "", f"{smuggled:,.0f}", ""])
    rows.append(["seized in busts this turn (H100e)", "", f"{seized:,.0f}", ""])
    doc.add(
        Heading("Headlines"),
        Table(
            ["", f"end {start.date}", f"end {last_date}", "change"], rows, [False, True, True, True]
        ),
    )
    data["headline"] = {key: (float(s[key]), float(e[key])) for _l, key, _f, _d in headline}
    data["smuggled_h100e"], data["seized_h100e"] = smuggled, seized

    _moves_section(doc, session, trace, start, end, reveal)
    data["shocks"] = _shock_section(doc, end, turn_months)
    data["china"] = _china_section(doc, start, end, turn_months)
    data["lead"] = _lead_section(doc, start, end)
    data["hubs"] = _hub_section(doc, start, end, turn_months)
    data["flips"] = _flip_section(doc, turn_months)
    data["regions"] = _region_section(doc, start, end)
    _events_section(doc, turn_months, reveal)

    frame = history_frame(months[: trace.last + 1])
    starts = [session.period(k)[0] for k in range(1, trace.number + 1)]
    span = (first_date, last_date)
    from chipwar.viz.wargame_plots import china_compute_chart, lead_gap_chart, region_shift_chart

    charts: dict[str, Callable[[], Figure]] = {
        "china_compute.png": lambda: china_compute_chart(frame, span, starts),
        "lead_gap.png": lambda: lead_gap_chart(frame, span, starts),
        "adoption.png": lambda: region_shift_chart(
            [REGION_LABELS[x] for x in REGIONS],
            [float(s[f"cn_share_{x}"]) for x in REGIONS],
            [float(e[f"cn_share_{x}"]) for x in REGIONS],
            "Adopters on the Chinese stack, by region",
        ),
    }
    doc.add(
        Heading("Charts"),
        Image("china_compute.png", "China's compute by source"),
        Image("lead_gap.png", "US lead and compute gap"),
        Image("adoption.png", "Chinese-stack share by region, start and end of the turn"),
    )
    return TurnReport(trace.number, doc, charts, data)


def _moves_section(
    doc: Document,
    session: Session,
    trace: TurnTrace,
    start: Observation,
    end: Observation,
    reveal: bool,
) -> None:
    rows = []
    for move in trace.moves:
        role = session.roles[move.role]
        shown, hidden = [], 0
        for key, value in move.set.items():
            if key == INTEL:
                continue
            before = start.settings().get(key)
            if before is not None and round(before, 6) == round(value, 6):
                continue
            if reveal or is_public(key):
                shown.append(f"`{key}` {before:.2f} -> {value:.2f}")
            else:
                hidden += 1
        for text in move.actions:
            spec = role.action(parse_action(text)[0])
            if reveal or (spec is not None and spec.public):
                shown.append(f"action `{text}`")
            else:
                hidden += 1
        if hidden:
            shown.append(f"{hidden} covert change(s)")
        what = "; ".join(shown) or "no change"
        if reveal and move.note:
            what += f" ({move.note})"
        rows.append([move.role, move.by, what])
    for role in trace.carried:
        rows.append([role, "carried over", "no move: levers kept"])
    note = (
        "All settings shown (the session has ended or the facilitator revealed them)."
        if reveal
        else "Announced policies and public actions are shown; covert settings are counted only."
    )
    doc.add(Heading("Moves"), Paragraph(note), Table(["role", "by", "what changed"], rows))


#: What each mechanism of a shock acts on, for the reader of the report (docs/ODD.md §7.15).
SHOCK_MECHANISMS = {
    "capability": "a side's effective training compute (algorithms); the other side follows",
    "us_output": "US-bloc chip output",
    "cn_output": "Chinese domestic chip output",
    "smuggling_case": "a smuggling network's cargo and its hub's enforcement regime",
    "policy_reversal": "a lever, back towards its value before its last change",
}


def _shock_section(
    doc: Document, end: Observation, months: list[Observation]
) -> list[dict[str, Any]]:
    """The shocks of the turn: what happened, through which mechanism, and what is in force."""
    happened = [(m.date, e) for m in months for e in m.events if e.get("kind") == "shock"]
    doc.add(Heading("Shocks"))
    if not happened and not end.shocks:
        doc.add(Paragraph("No shock struck this turn and none is in force."))
        return []
    if happened:
        doc.add(
            Paragraph(
                "Shocks are chance events with base rates from the record (docs/ODD.md §7.15). "
                "Each acts through one mechanism of the model; its consequences for compute, "
                "the lead and governments run through the sections below."
            ),
            Table(
                ["month", "shock", "phase", "what happened", "acts on"],
                [
                    [
                        date,
                        str(e.get("label", e.get("shock", ""))),
                        str(e.get("phase", "")),
                        str(e.get("text", "")),
                        SHOCK_MECHANISMS.get(str(e.get("mechanism")), str(e.get("mechanism"))),
                    ]
                    for date, e in happened
                ],
            ),
        )
    if end.shocks:
        doc.add(
            Paragraph(f"In force at the end of {end.date}:"),
            Bullets(
                [
                    f"{s.label} since {s.since}, until {s.until}: "
                    + SHOCK_MECHANISMS.get(s.mechanism, s.mechanism)
                    for s in end.shocks
                ]
            ),
        )
    return [
        {
            "date": date,
            "shock": e.get("shock"),
            "phase": e.get("phase"),
            "mechanism": e.get("mechanism"),
            "size": e.get("size"),
        }
        for date, e in happened
    ]


def _china_section(
    doc: Document, start: Observation, end: Observation, months: list[Observation]
) -> dict[str, Any]:
    """China's change in effective compute, by channel, on the log10 capability scale."""
    net = {k: end.cn_sources.get(k, 0.0) - start.cn_sources.get(k, 0.0) for k in CHANNELS[:3]}
    net["initial"] = end.cn_sources.get("initial", 0.0) - start.cn_sources.get("initial", 0.0)
    inflow = {k: sum(m.cn_inflow.get(k, 0.0) for m in months) for k in net}
    net["offshore"] = float(end.metrics["offshore_h100e"]) - float(start.metrics["offshore_h100e"])
    total = float(end.metrics["compute_cn_h100e"]) - float(start.metrics["compute_cn_h100e"])
    l0, l1 = start.leaders.get("cn"), end.leaders.get("cn")
    cap0, cap1 = float(start.metrics["capability_cn"]), float(end.metrics["capability_cn"])
    out: dict[str, Any] = {"net_h100e": net, "inflow_h100e": inflow, "total_h100e": total}
    if not l0 or not l1 or l0.compute_h100e <= 0:
        return out
    compute_log = math.log10(l1.compute_h100e / l0.compute_h100e)
    algorithms = (l1.base_capability - l0.base_capability) - compute_log
    distillation = l1.distill_bonus - l0.distill_bonus
    other = (cap1 - cap0) - compute_log - algorithms - distillation
    share = {k: (compute_log * v / total if total else 0.0) for k, v in net.items()}
    rows = []
    for key in CHANNELS:
        gross = f"{inflow[key]:,.0f}" if key in inflow and key != "initial" else ""
        rows.append(
            [
                CHANNEL_LABELS[key],
                gross,
                _signed(net[key], "{:,.0f}"),
                _signed(share[key], "{:.3f}"),
            ]
        )
    rows.append(["algorithmic progress and run length", "", "", _signed(algorithms, "{:.3f}")])
    rows.append(["distillation from US models", "", "", _signed(distillation, "{:.3f}")])
    if abs(other) > 5e-4:
        rows.append(
            ["other (capability kept, leading lab changed)", "", "", _signed(other, "{:.3f}")]
        )
    rows.append(["**total**", "", _signed(total, "{:,.0f}"), _signed(cap1 - cap0, "{:.3f}")])
    factor = 10 ** (cap1 - cap0)
    doc.add(
        Heading("Why China's effective compute changed"),
        Paragraph(
            f"China's frontier capability (log10 effective training compute) moved by "
            f"{_signed(cap1 - cap0, '{:.3f}')}, a factor of {factor:.2f} in effective compute: "
            f"compute {10**compute_log:.2f}x, algorithms and longer runs {10**algorithms:.2f}x, "
            f"distillation {10**distillation:.2f}x. The compute part is split over the channels "
            "by their share of the change in H100e (gross inflow minus ageing)."
        ),
        Table(
            ["channel", "gross inflow (H100e)", "net change (H100e)", "effective compute (log10)"],
            rows,
            [False, True, True, True],
        ),
    )
    out.update(
        compute_log10=compute_log,
        algorithms_log10=algorithms,
        distillation_log10=distillation,
        other_log10=other,
        capability_change=cap1 - cap0,
        channel_log10=share,
    )
    return out


def _lead_section(doc: Document, start: Observation, end: Observation) -> dict[str, float]:
    l0, l1 = start.leaders.get("us"), end.leaders.get("us")
    us0, us1 = float(start.metrics["capability_us"]), float(end.metrics["capability_us"])
    cn0, cn1 = float(start.metrics["capability_cn"]), float(end.metrics["capability_cn"])
    lead0, lead1 = float(start.metrics["lead_months"]), float(end.metrics["lead_months"])
    compute = (
        math.log10(l1.compute_h100e / l0.compute_h100e)
        if l0 and l1 and l0.compute_h100e > 0
        else math.nan
    )
    rows = [
        [
            "US frontier capability",
            _signed(us1 - us0, "{:.3f}"),
            f"compute {_signed(compute, '{:.3f}')}, algorithms and runs "
            f"{_signed(us1 - us0 - compute, '{:.3f}')}",
        ],
        ["Chinese frontier capability", _signed(cn1 - cn0, "{:.3f}"), "see the table above"],
        ["gap in capability (US - CN)", _signed((us1 - cn1) - (us0 - cn0), "{:.3f}"), ""],
    ]
    verdict = "widened" if lead1 > lead0 + 0.05 else "narrowed" if lead1 < lead0 - 0.05 else "held"
    doc.add(
        Heading("Why the lead changed"),
        Paragraph(
            f"The US lead {verdict}: {lead0:.1f} to {lead1:.1f} months. The lead is how long ago "
            "the US frontier stood where China's stands now, so it grows when the US gains "
            "faster than China on the log scale."
        ),
        Table(["", "change (log10)", "from"], rows, [False, True, False]),
    )
    return {
        "lead_before": lead0,
        "lead_after": lead1,
        "us_change": us1 - us0,
        "cn_change": cn1 - cn0,
    }


def _hub_section(
    doc: Document, start: Observation, end: Observation, months: list[Observation]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for hub in sorted(end.hubs):
        busts = [
            e
            for m in months
            for e in m.events
            if e.get("country") == hub and (e.get("kind") == "bust" or _is_case(e))
        ]
        out[hub] = {
            "diverted_h100e": sum(m.hubs[hub].diverted_h100e for m in months),
            "busts": len(busts),
            "seized_h100e": sum(float(b.get("seized_h100e", 0.0)) for b in busts),
            "regime_before": start.hubs[hub].regime,
            "regime_after": end.hubs[hub].regime,
            "enforcement_before": start.hubs[hub].enforcement,
            "enforcement_after": end.hubs[hub].enforcement,
            "networks_before": start.hubs[hub].networks,
            "networks_after": end.hubs[hub].networks,
        }
    rows = [
        [
            hub,
            f"{h['diverted_h100e']:,.0f}",
            f"{h['busts']:.0f}",
            f"{h['seized_h100e']:,.0f}",
            f"{h['enforcement_before']:.2f} -> {h['enforcement_after']:.2f}",
            f"{h['networks_before']:.0f} -> {h['networks_after']:.0f}",
        ]
        for hub, h in out.items()
    ]
    doc.add(
        Heading("Smuggling and enforcement by hub"),
        Table(
            ["hub", "diverted (H100e)", "busts", "seized (H100e)", "enforcement", "networks"],
            rows,
            [False, True, True, True, False, False],
        ),
    )
    return out


def _is_case(event: Any) -> bool:
    """A major smuggling case (a shock) that broke a network up: a bust in the hub's books."""
    return (
        event.get("kind") == "shock"
        and event.get("mechanism") == "smuggling_case"
        and event.get("phase") == "start"
    )


def _flip_section(doc: Document, months: list[Observation]) -> list[dict[str, Any]]:
    flips = [f for m in months for f in m.flips]
    doc.add(Heading("Governments that changed their official stack"))
    if not flips:
        doc.add(Paragraph("No government changed its official stack this turn."))
        return []
    rows = [
        [
            f.date,
            f.country,
            f"{f.before_stack} -> {f.after_stack}",
            f"{f.lean_cn:+.2f}",
            ", ".join(f"{name} {value:+.2f}" for name, value in f.largest(3)),
        ]
        for f in flips
    ]
    doc.add(
        Paragraph(
            "A government reviews its stack every few months: its lean to China is the sum of "
            "the terms below (positive leans to China, negative to the US); inside the hedge band "
            "it hedges. The three largest terms of each decision are shown."
        ),
        Table(
            ["month", "country", "stack", "lean", "largest terms"],
            rows,
            [False, False, False, True, False],
        ),
    )
    return [
        {
            "date": f.date,
            "iso": f.iso,
            "before": f.before_stack,
            "after": f.after_stack,
            "lean_cn": f.lean_cn,
            "terms": f.terms,
        }
        for f in flips
    ]


def _region_section(doc: Document, start: Observation, end: Observation) -> dict[str, Any]:
    rows, out = [], {}
    for region in REGIONS:
        cn0, cn1 = (
            float(start.metrics[f"cn_share_{region}"]),
            float(end.metrics[f"cn_share_{region}"]),
        )
        us0, us1 = (
            float(start.metrics[f"us_share_{region}"]),
            float(end.metrics[f"us_share_{region}"]),
        )
        out[region] = {"cn": (cn0, cn1), "us": (us0, us1)}
        rows.append(
            [
                REGION_LABELS[region],
                f"{cn0:.1%} -> {cn1:.1%}",
                _signed(100 * (cn1 - cn0), "{:.1f}") + " pt",
                f"{us0:.1%} -> {us1:.1%}",
                _signed(100 * (us1 - us0), "{:.1f}") + " pt",
            ]
        )
    doc.add(
        Heading("Adoption by region"),
        Table(
            ["region", "Chinese stack", "change", "US stack", "change"],
            rows,
            [False, True, True, True, True],
        ),
    )
    return out


def _events_section(doc: Document, months: list[Observation], reveal: bool) -> None:
    items = []
    for m in months:
        for e in m.events:
            kind = e.get("kind")
            if kind == "policy" and (reveal or e.get("origin") != "move"):
                # Moves are in their own table; here the scenario's own dated events.
                shown = ", ".join(f"`{k}`={v:.2f}" for k, v in e.get("settings", {}).items())
                items.append(f"{m.date}: {e['text']}: {shown}")
            elif kind == "bust":
                items.append(
                    f"{m.date}: {e['text']} ({float(e.get('seized_h100e', 0.0)):,.0f} H100e seized)"
                )
    shocks = sum(
        1
        for m in months
        for e in m.events
        if e.get("kind") == "shock" and e.get("phase") == "start"
    )
    if shocks:
        items.append(f"{shocks} shock(s) struck (see Shocks above)")
    flips = sum(len(m.flips) for m in months)
    if flips:
        items.append(f"{flips} government(s) changed their official stack (table above)")
    doc.add(Heading("Key events"), Bullets(items or ["a quiet turn"]))
