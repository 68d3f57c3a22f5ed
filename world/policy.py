"""The policy schedule: which levers change when, from the timeline, the branch and the scenario."""

from __future__ import annotations

from dataclasses import dataclass, field

from chipwar.world.calendar import parse_month
from chipwar.world.levers import Levers
from chipwar.world.scenario import Scenario
from chipwar.world.timeline import history_timeline


@dataclass(frozen=True)
class ScheduledChange:
    month: int
    settings: dict[str, float]
    label: str
    origin: str  # "timeline", "branch" or "scenario"
    source: str = ""


@dataclass
class PolicySchedule:
    """Dated lever changes in the order they apply; consumed month by month."""

    initial: dict[str, float]
    changes: list[ScheduledChange] = field(default_factory=list)

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> PolicySchedule:
        """History timeline until the branch date, then the scenario's levers and events."""
        start, branch = parse_month(scenario.start), parse_month(scenario.branch)
        scenario_levers = scenario.levers.flat()
        changes: list[ScheduledChange] = []
        if scenario.history and branch > start:
            timeline = history_timeline()
            initial = {**Levers().flat(), **timeline.initial}
            for event in timeline.events:
                if start < event.month < branch:
                    changes.append(
                        ScheduledChange(
                            event.month, event.settings, event.label, "timeline", event.source
                        )
                    )
                elif event.month <= start:
                    initial.update(event.settings)
            changes.append(
                ScheduledChange(
                    branch,
                    scenario_levers,
                    f"Branch point: scenario '{scenario.name}' levers take over",
                    "branch",
                )
            )
        else:
            initial = scenario_levers
        for event in scenario.events:
            changes.append(
                ScheduledChange(parse_month(event.date), event.set, event.label, "scenario")
            )
        changes.sort(key=lambda c: c.month)  # stable: timeline, then branch, then scenario
        return cls(initial, changes)

    def due(self, month: int) -> list[ScheduledChange]:
        """Changes that take effect this month, removed from the schedule."""
        now = [c for c in self.changes if c.month == month]
        self.changes = [c for c in self.changes if c.month != month]
        return now

    def add(self, change: ScheduledChange) -> None:
        """Add a change (a wargame move) in date order, after changes of the same month."""
        self.changes.append(change)
        self.changes.sort(key=lambda c: c.month)
