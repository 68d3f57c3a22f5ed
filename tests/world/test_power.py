"""Physical limits: power paths, energy per H100e, the largest site, run sizes and lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwar.world.capability import CapabilityRace
from chipwar.world.countries import load_countries
from chipwar.world.ledger import ComputeLedger
from chipwar.world.model import ChipWarModel
from chipwar.world.parameters import Parameters
from chipwar.world.power import BLOCS, PowerGrid, load_power_data


def _grid(**params: float) -> PowerGrid:
    return PowerGrid(load_countries(), Parameters(params))


def test_every_country_belongs_to_one_bloc_and_the_sides_are_where_they_should_be():
    grid, countries = _grid(), load_countries()
    assert (grid.bloc_of >= 0).all() and (grid.bloc_of < len(BLOCS)).all()
    bloc = {str(iso): BLOCS[b] for iso, b in zip(countries.iso, grid.bloc_of, strict=True)}
    assert bloc["USA"] == "us"
    assert bloc["CHN"] == bloc["HKG"] == bloc["MAC"] == "china"
    assert bloc["JPN"] == bloc["DEU"] == bloc["TWN"] == "allied"
    assert bloc["ARE"] == bloc["SAU"] == "gulf"
    assert bloc["MYS"] == bloc["IND"] == bloc["RUS"] == "rest"


def test_paths_are_read_at_january_and_rise_between():
    data, grid = load_power_data(), _grid(power_build=0.5, cn_power_build=0.5)
    for k, year in enumerate(data.years[:-1]):
        capacity = grid.capacity_gw(12 * (year - 2024))
        expected = [bloc.paths["central"][k] for bloc in data.blocs]
        assert np.allclose(capacity, expected)
    series = np.array([grid.capacity_gw(m) for m in range(84)])
    assert (np.diff(series, axis=0) >= 0).all()


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_the_power_position_moves_every_non_chinese_bloc_and_china_separately(a, b):
    low, high = sorted((a, b))
    month = 60
    lower, upper = (
        _grid(power_build=low).capacity_gw(month),
        _grid(power_build=high).capacity_gw(month),
    )
    china = BLOCS.index("china")
    assert (upper >= lower - 1e-12).all()
    assert math.isclose(lower[china], upper[china])


def test_energy_per_h100e_falls_and_the_largest_site_follows_pilz():
    grid = _grid()
    kw = [grid.kw_per_h100e(m) for m in range(0, 84, 12)]
    assert kw == sorted(kw, reverse=True) and kw[0] == Parameters().kw_per_h100e_2024
    assert grid.site_gw(14) == pytest.approx(0.3)  # Colossus, March 2025
    assert grid.site_gw(77) == pytest.approx(9.0)  # the 2030 extrapolation
    assert grid.site_gw(83) > grid.site_gw(77)  # extrapolated along the last segment


def test_frontier_runs_are_bounded_by_the_site_and_by_the_labs_chips():
    race = CapabilityRace(Parameters())
    site_bound = race.run_h100e(1e12, 24, "us")
    assert race.run_h100e(1e13, 24, "us") == site_bound  # more chips do not help a bound run
    chips_bound = 1000.0 * Parameters().training_fraction
    assert race.run_h100e(1000.0, 24, "us") == pytest.approx(chips_bound)
    assert race.run_months(84) == Parameters().run_months_max
    assert race.run_months(0) == Parameters().run_months


def test_ledger_power_draw_follows_the_chips():
    ledger = ComputeLedger(3, 2)
    ledger.begin_month(1.5)
    ledger.produce(0, 100.0)
    ledger.produce(1, 100.0, kw=2.0)
    assert ledger.draw_kw.tolist() == [150.0, 200.0, 0.0]
    ledger.export(0, 2, 40.0)  # this month's chips move at this month's intensity
    assert ledger.draw_kw.tolist() == [90.0, 200.0, 60.0]
    ledger.age(48.0)
    assert ledger.draw_kw[1] == pytest.approx(200.0 * 47 / 48)
    ledger.check()


def test_the_shipped_initial_stocks_fit_the_2024_power_paths():
    model = ChipWarModel("current-policy", rng=0, scale=1000)
    market = model.market
    others = np.arange(len(BLOCS)) != market.cn_bloc
    assert (market.bloc_draw_kw()[others] <= market.bloc_capacity_kw(0)[others]).all()


@pytest.mark.parametrize("preset", ["porous", "loopholes-closed"])
def test_outside_china_nobody_buys_chips_it_cannot_power(preset):
    """Orders only fill empty power: a bloc's draw never rises above its power path."""
    model = ChipWarModel(preset, rng=0, scale=1000)
    market = model.market
    others = np.arange(len(BLOCS)) != market.cn_bloc
    before = market.bloc_draw_kw()
    while model.running:
        model.step()
        capacity = market.bloc_capacity_kw(model.months - 1)
        draw = market.bloc_draw_kw()
        bound = np.maximum(capacity, before) * (1 + 1e-9) + 1e-6
        assert (draw[others] <= bound[others]).all(), model.date
        before = draw
    assert model.metrics["power_us_gw"] <= 150.0


@settings(max_examples=6, deadline=None)
@given(
    levers=st.fixed_dictionaries(
        {
            "us_export_stringency": st.sampled_from([0.0, 1.0]),
            "us_china_chip_sales": st.sampled_from([0.0, 1.0]),
            "us_enforcement": st.sampled_from([0.0, 1.0]),
            "us_kyc": st.sampled_from([0.0, 1.0]),
            "china_smuggling_demand": st.sampled_from([0.0, 1.0]),
            "china_offshore_procurement": st.sampled_from([0.0, 1.0]),
            "china_domestic_investment": st.sampled_from([0.0, 1.0]),
        }
    )
)
def test_us_ai_power_stays_under_150_gw_in_2030_at_extreme_levers(levers):
    """Target us_power_2030: at most 150 GW whatever the levers, even on the high power path."""
    model = ChipWarModel(small_scenario(**levers), rng=0)
    model.run_model()
    assert model.date == "2031-01"
    assert 0.0 < model.metrics["power_us_gw"] <= 150.0
    high = ChipWarModel(small_scenario(**levers), rng=0, power_build=1.0, power_fill_rate=1.0)
    high.run_model()
    assert high.metrics["power_us_gw"] <= 150.0
