"""Capability race: lead in months read from trajectories; distillation never overshoots."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipwar.world.capability import CapabilityRace, months_behind
from chipwar.world.parameters import Parameters


def test_months_behind_interpolates_on_a_linear_trajectory():
    trajectory = [float(k) for k in range(25)]  # one unit per month
    assert months_behind(trajectory, 24.0) == 0.0
    assert months_behind(trajectory, 18.0) == pytest.approx(6.0)
    assert months_behind(trajectory, 17.5) == pytest.approx(6.5)
    assert months_behind(trajectory, -3.0) == 24.0  # further back than recorded


@given(st.floats(0.0, 3.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_distillation_closes_the_gap_but_never_overshoots(gap, effort, detection):
    race = CapabilityRace(Parameters())
    race.record("us", 30.0)
    race.set_detection(detection)
    bonus = 0.0
    for _ in range(200):
        bonus = race.distill(bonus, effort, 30.0 - gap)
        assert 0.0 <= bonus <= gap + 1e-12


def test_more_detection_means_less_distillation():
    race = CapabilityRace(Parameters())
    race.record("us", 30.0)
    gains = []
    for detection in (0.0, 0.5, 0.95):
        race.set_detection(detection)
        gains.append(race.distill(0.0, 1.0, 29.0))
    assert gains[0] > gains[1] > gains[2] > 0.0


def test_lead_is_positive_when_us_ahead_and_negative_when_china_ahead():
    race = CapabilityRace(Parameters())
    for month in range(12):
        race.record("us", 28.0 + 0.1 * month)
        race.record("cn", 27.5 + 0.1 * month)
        race.close_month()
    assert race.lead_months() == pytest.approx(5.0, abs=0.01)
    race.record("cn", race.capability["us"] + 0.3)
    race.close_month()
    assert race.lead_months() < 0


def test_capability_never_falls():
    race = CapabilityRace(Parameters())
    race.record("us", 30.0)
    race.record("us", 29.0)
    assert race.capability["us"] == 30.0
