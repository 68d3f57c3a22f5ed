"""Shared fixtures: small, fast scenarios; the header names the work-per-run scale factor."""

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
# CI runs each property test on the same examples every time (a failure there is reproducible);
# locally every run explores new ones.
settings.register_profile("chipwar-ci", settings.get_profile("chipwar"), derandomize=True)
settings.load_profile("chipwar-ci" if os.environ.get("CI") else "chipwar")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def small() -> Scenario:
    return small_scenario()


def pytest_report_header() -> str:
    from sweep_helpers import SCALE_ENV, SCALE_FACTOR

    return f"{SCALE_ENV}={SCALE_FACTOR:g} (work per run of the tiny sweeps and sessions)"
