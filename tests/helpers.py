"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

from chipwar.world.scenario import Scenario

ACTORS = ("us", "china", "allies")


def small_scenario(**levers: float) -> Scenario:
    """Levers in force from the first month (no history phase), smallest adopter field."""
    data: dict = {"name": "test", "history": False, "scale": 1000, "levers": {}}
    for key, value in levers.items():
        actor, name = key.split("_", 1)
        assert actor in ACTORS, key
        data["levers"].setdefault(actor, {})[name] = value
    return Scenario.model_validate(data)
