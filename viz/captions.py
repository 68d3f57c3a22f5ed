"""Which events a replay shows as captions, and for how long.

Why: a run logs hundreds of events (the porous world has hundreds of stack flips), far more than a
viewer can read at a few months per second. Each frame's events are merged into a few candidate
captions (every policy change on its own; every shock as it strikes, ranked by its kind and size;
all busts in one line; flips in one line per direction, biggest countries named first), ranked,
and fed into a small number of caption slots. A caption stays in its slot at least as long as it
takes to read; policy changes and shocks wait a while when every slot is busy, lesser news is
dropped if it cannot be shown soon.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chipwar.world.calendar import parse_month

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Reading time: at least MIN_HOLD_S seconds per caption, more for long ones.
MIN_HOLD_S = 2.0
WORDS_PER_S = 4.0
#: Lesser news (a flip, a bust) gives way to weightier news after this long on screen.
GIVE_WAY_S = 1.2
#: How long a caption may wait for a free slot before it is stale.
POLICY_WAIT_S = 1.5
NEWS_WAIT_S = 0.7

# Headlines for a change of official stack, by the new stack; the countries follow the colon so
# that a caption cut to fit the screen loses names, not meaning.
_STACK_HEADLINES = {
    "cn": "Switch to the Chinese stack",
    "us": "Switch to the US stack",
    "hedged": "Back to hedging",
}


def month_label(month: int) -> str:
    """A month number (see :func:`~chipwar.world.calendar.parse_month`) as 'Jun 2026'."""
    return f"{MONTHS[month % 12]} {month // 12}"


@dataclass(frozen=True)
class Caption:
    """One line of news: when, what kind (policy, shock, bust, flip_cn, flip_us, flip_hedged),
    text."""

    month: int
    kind: str
    text: str
    priority: float


def _join_names(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} +{rest} more" if rest > 0 else shown


def _h100e(amount: float) -> str:
    if amount >= 1e6:
        return f"{amount / 1e6:.1f}M"
    if amount >= 1e4:
        return f"{amount / 1e3:,.0f}k"
    return f"{amount:,.0f}"


def shock_priority(event: Mapping) -> float | None:
    """How weighty a shock event is as news, or None if it gets no caption (an effect ending).

    A policy reversal ranks with a policy change; a breakthrough by its size (a 4x jump above a
    policy change); an outage by the share of output lost; a yield surprise by how far output
    moves; a major smuggling case above a routine bust; a breakthrough reaching the other side
    with the lesser news.
    """
    phase, mechanism = event.get("phase"), event.get("mechanism")
    size = float(event.get("size") or 0.0)
    if phase == "diffusion":
        return 45.0
    if phase != "start":
        return None
    if mechanism == "policy_reversal":
        return 100.0
    if mechanism == "capability":
        return 80.0 + 40.0 * min(math.log10(max(size, 1.0)) / 0.6, 1.0)
    if mechanism == "us_output":
        return 50.0 + 100.0 * min(size, 0.5)
    if mechanism == "cn_output":
        return 50.0 + 60.0 * min(abs(math.log(max(size, 1e-3))), 1.0)
    if mechanism == "smuggling_case":
        return 60.0 + min(20.0, float(event.get("seized_h100e") or 0.0) / 2e3)
    return 50.0


_SIDES = {"us": "US", "cn": "Chinese"}


def shock_caption(event: Mapping, names: Mapping[str, str]) -> str:
    """A shock in a few words, the news first (the event's own text is longer, for reports)."""
    label, mechanism = str(event.get("label", "Shock")), event.get("mechanism")
    size = float(event.get("size") or 0.0)
    side = _SIDES.get(str(event.get("side")), "")
    if mechanism == "capability" and event.get("phase") == "diffusion":
        return f"{side} labs catch up with the breakthrough: compute x{size:.1f}"
    if mechanism == "capability":
        return f"{label} by {side} labs: effective compute x{size:.1f}"
    if mechanism == "us_output":
        return f"{label}: US-bloc chip output -{size:.0%}"
    if mechanism == "cn_output":
        return f"{label}: Chinese chip output x{size:.2f}"
    if mechanism == "smuggling_case":
        where = names.get(str(event.get("country")), str(event.get("country", "?")))
        seized = float(event.get("seized_h100e") or 0.0)
        return f"{label} in {where}: {_h100e(seized)} H100e seized"
    if mechanism == "policy_reversal" and "lever" in event:
        return f"{label}: {event['lever']} {event['from']:.2f} to {event['to']:.2f}"
    return str(event.get("text", label))


def step_captions(
    events: Iterable[Mapping],
    names: Mapping[str, str],
    population: Mapping[str, int],
) -> list[Caption]:
    """Merge the events of one frame's months into ranked candidate captions.

    ``names`` and ``population`` are keyed by ISO code (for naming the biggest countries first).
    """
    captions: list[Caption] = []
    busts: list[Mapping] = []
    flips: dict[str, list[Mapping]] = {}
    for event in events:
        kind = event.get("kind")
        month = parse_month(event["date"])
        if kind == "policy":
            branch = event.get("origin") == "branch"
            text = str(event.get("text", "Policy change"))
            if branch:  # the scenario's name is on screen already
                text = "Branch point: the scenario's levers take over"
            captions.append(Caption(month, "policy", text, 200.0 if branch else 100.0))
        elif kind == "shock":
            priority = shock_priority(event)
            if priority is not None:
                captions.append(Caption(month, "shock", shock_caption(event, names), priority))
        elif kind == "bust":
            busts.append(event)
        elif kind == "stack_flip":
            flips.setdefault(str(event.get("after")), []).append(event)
    if busts:
        month = max(parse_month(e["date"]) for e in busts)
        hubs = list(
            dict.fromkeys(names.get(e.get("country"), e.get("country", "?")) for e in busts)
        )
        seized = sum(float(e.get("seized_h100e") or 0.0) for e in busts)
        noun = (
            "Smuggling ring busted" if len(busts) == 1 else f"{len(busts)} smuggling rings busted"
        )
        text = f"{noun} in {_join_names(hubs)}"
        if seized > 0:
            text += f": {_h100e(seized)} H100e seized"
        priority = 30.0 + min(20.0, seized / 2e3)
        captions.append(Caption(month, "bust", text, priority))
    for after, group in flips.items():
        month = max(parse_month(e["date"]) for e in group)
        codes = list(dict.fromkeys(str(e.get("country")) for e in group))
        codes.sort(key=lambda iso: -population.get(iso, 0))
        people = sum(population.get(iso, 0) for iso in codes)
        headline = _STACK_HEADLINES.get(after, f"Switch to {after}")
        text = f"{headline}: {_join_names([names.get(iso, iso) for iso in codes])}"
        # A flip of a big country is news; weight by people affected (log scale).
        priority = 40.0 + 8.0 * math.log10(max(people, 1) / 1e6 + 1.0)
        captions.append(Caption(month, f"flip_{after}", text, priority))
    captions.sort(key=lambda c: (-c.priority, c.month))
    return captions


class CaptionFeed:
    """A fixed number of caption slots; a caption keeps its slot while it is shown.

    Slots are stable (a caption never jumps to another line) because moving text is hard to read.
    A caption may be replaced once it has been up for its reading time (lesser news sooner, when
    weightier news waits), and leaves after twice that; a policy change waits up to
    ``POLICY_WAIT_S`` for a slot, other news ``NEWS_WAIT_S``.
    """

    def __init__(self, slots: int, fps: float) -> None:
        self.fps = fps
        self.slots: list[tuple[Caption, int] | None] = [None] * slots  # (caption, frame shown)
        self.queue: list[tuple[Caption, int]] = []  # (caption, frame it arrived)

    def frames(self, seconds: float) -> int:
        """Seconds of video as a whole number of frames (at least one)."""
        return max(1, math.ceil(seconds * self.fps))

    def advance(self, frame: int, candidates: Iterable[Caption]) -> list[Caption | None]:
        """Take this frame's candidates and return what each slot shows at this frame."""
        self.queue.extend((c, frame) for c in candidates)
        self.queue = [(c, f) for c, f in self.queue if frame - f <= self._patience(c)]
        # Weightiest first; among equals the newest, so that a backlog drops stale news.
        self.queue.sort(key=lambda item: (-item[0].priority, -item[0].month))
        for i, held in enumerate(self.slots):
            if held is not None and frame - held[1] >= 2 * self.frames(reading_seconds(held[0])):
                self.slots[i] = None
        while self.queue:
            slot = self._free_slot(frame, self.queue[0][0])
            if slot is None:
                break
            caption, _ = self.queue.pop(0)
            self.slots[slot] = (caption, frame)
        return [held[0] if held else None for held in self.slots]

    def _patience(self, caption: Caption) -> int:
        weighty = caption.kind == "policy" or (caption.kind == "shock" and caption.priority >= 60)
        return self.frames(POLICY_WAIT_S if weighty else NEWS_WAIT_S)

    def _free_slot(self, frame: int, incoming: Caption) -> int | None:
        """An empty slot, else the slot shown longest among those that may give way: a caption
        that has been read, or lesser news up for ``GIVE_WAY_S`` when a weightier one waits."""
        for i, held in enumerate(self.slots):
            if held is None:
                return i
        ready = []
        for i, held in enumerate(self.slots):
            assert held is not None
            caption, shown = held
            up = frame - shown
            if up >= self.frames(reading_seconds(caption)) or (
                incoming.priority > caption.priority and up >= self.frames(GIVE_WAY_S)
            ):
                ready.append((shown, caption.priority, i))
        return min(ready)[2] if ready else None


def reading_seconds(caption: Caption) -> float:
    """How long a caption must stay up to be read while the viewer also watches the map."""
    return max(MIN_HOLD_S, len(caption.text.split()) / WORDS_PER_S)


def caption_schedule(
    frame_events: Sequence[Sequence[Mapping]],
    names: Mapping[str, str],
    population: Mapping[str, int],
    slots: int,
    fps: float,
) -> list[list[Caption | None]]:
    """Slot contents for every frame, given each frame's events and the video frame rate."""
    feed = CaptionFeed(slots, fps)
    return [
        feed.advance(frame, step_captions(events, names, population))
        for frame, events in enumerate(frame_events)
    ]
