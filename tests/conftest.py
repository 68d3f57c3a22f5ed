"""Shared fixtures: small, fast scenarios."""

from __future__ import annotations

import os

import pytest
from helpers import small_scenario
from hypothesis import HealthCheck, settings

from chipwar.world.scenario import Scenario

settings.register_profile(
    "chipwar",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("chipwar")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def small() -> Scenario:
    return small_scenario()
