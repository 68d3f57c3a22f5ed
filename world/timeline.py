"""The real 2024-2026 policy timeline as data: initial levers and dated lever changes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from chipwar.world.calendar import parse_month
from chipwar.world.scenario import TimedEvent
from chipwar.world.validation import read_toml


@dataclass(frozen=True)
class PolicyEvent:
    """A dated change of levers, with what happened and where it is documented."""

    month: int
    label: str
    settings: dict[str, float]
    source: str


@dataclass(frozen=True)
class Timeline:
    initial: dict[str, float]
    events: tuple[PolicyEvent, ...]


@cache
def history_timeline() -> Timeline:
    """The shipped timeline, validated with the same rules as scenario events."""
    path = files("chipwar.world") / "data" / "timeline.toml"
    raw = read_toml(str(path), "timeline.toml")
    initial = TimedEvent(date="2024-01", set=raw["initial"]).set
    events = []
    for row in raw.get("event", []):
        checked = TimedEvent(date=row["date"], set=row["set"], label=row["label"])
        events.append(
            PolicyEvent(parse_month(checked.date), checked.label, checked.set, row["source"])
        )
    events.sort(key=lambda e: e.month)
    return Timeline(initial, tuple(events))
