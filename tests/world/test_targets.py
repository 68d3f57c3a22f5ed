"""Calibration targets: valid data, measures on run tables, distances outside ranges."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipwar.world.scenario import preset_names
from chipwar.world.targets import Target, load_targets, summarise_values


def _target(**fields) -> Target:
    base = dict(
        name="t",
        description="d",
        use="check",
        preset="porous",
        measure="value",
        column="x",
        date="2024-02",
        lower=1.0,
        upper=3.0,
        central=2.0,
        source="s",
    )
    base.update(fields)
    return Target.model_validate(base)


def test_shipped_targets_are_valid_and_name_real_presets_and_sources():
    targets = load_targets()
    assert {t.use for t in targets} == {"fit", "check"}
    assert all(t.preset in preset_names() and t.source for t in targets)
    fitted = {t.name for t in targets if t.use == "fit"}
    paper = {"closed_gap_2028", "closed_lead_2028", "porous_gap_2028", "porous_lead_2028"}
    assert paper <= {t.name for t in targets if t.use == "check"}  # never fitted: the record is
    assert {"world_compute_2025", "largest_run_2025", "us_power_2028", "gap_2025"} <= fitted
    fit_presets = {t.preset for t in targets if t.use == "fit"}
    assert fit_presets == {"current-policy"}  # the history and physical scales only


def test_measures_read_the_run_tables():
    series = pd.DataFrame(
        {"date": ["2024-01", "2024-02", "2025-01"], "x": [1.0, 2.0, 4.0], "y": [2.0, 2.0, 4.0]}
    )
    assert _target().measure_on(series, pd.DataFrame()) == 2.0
    window = {"from": "2024-01", "to": "2025-01"}
    assert _target(measure="sum", **window).measure_on(series, pd.DataFrame()) == 7.0
    assert _target(measure="ratio", column2="y", **window).measure_on(series, None) == 7.0 / 8.0
    assert _target(measure="max", multiplier=10, **window).measure_on(series, None) == 40.0
    assert _target(measure="growth", **window).measure_on(series, None) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="2030-01"):
        _target(date="2030-01").measure_on(series, None)


@given(st.floats(-1e6, 1e6))
def test_miss_is_zero_inside_and_grows_outside(value):
    target = _target()
    miss = target.miss(value)
    assert miss >= 0.0
    assert (miss == 0.0) == target.inside(value)
    assert target.miss(value - 1.0 if value < 1 else value + 1.0) >= miss


def test_log_targets_measure_misses_in_log_space():
    target = _target(lower=10.0, upper=1000.0, central=100.0, log=True)
    assert target.miss(10000.0) == pytest.approx(math.log(10) / math.log(100))
    assert target.off_centre(100.0) == pytest.approx(0.0)


def test_summary_of_values_over_seeds():
    stats = summarise_values(_target(), [0.5, 1.5, 2.5, 3.5])
    assert stats["inside_share"] == 0.5
    assert stats["median"] == 2.0
    assert stats["p10"] < stats["median"] < stats["p90"]


def test_bad_target_is_refused():
    with pytest.raises(ValueError):
        _target(central=9.0)
