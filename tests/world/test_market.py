"""The chip market: licensed sales as quantities, the grey premium, offshore builds."""

from __future__ import annotations

import pytest
from helpers import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwar.agents.state import State
from chipwar.world.licensing import licence_rules, rule_at
from chipwar.world.model import ChipWarModel


def _market(**levers: float):
    model = ChipWarModel(small_scenario(**levers), rng=0)
    model.agents_by_type[State].do("step")
    return model.market


def test_the_licence_rules_follow_the_record():
    assert rule_at(0).product.name == "H20" and rule_at(0).fee == 0.0
    assert rule_at(19).fee == pytest.approx(0.15) and rule_at(19).cn_uptake < 0.5  # 2025-08
    h200 = rule_at(24)  # 2026-01
    assert h200.product.name == "H200" and h200.volume_cap == pytest.approx(0.5)
    assert rule_at(83) == h200
    assert rule_at(0).product.h100e == pytest.approx(148 / 989, abs=0.01)  # dense BF16
    assert [r.month for r in licence_rules()] == sorted(r.month for r in licence_rules())


@settings(max_examples=40, deadline=None)
@given(
    sales=st.floats(0.0, 1.0),
    months=st.integers(0, 83),
    supply=st.floats(1e4, 1e8),
    us_sales=st.floats(0.0, 1e8),
)
def test_licensed_orders_stay_inside_budget_approval_and_caps(sales, months, supply, us_sales):
    market = _market(us_china_chip_sales=sales)
    p, rule = market.params, rule_at(months)
    price = market.price_per_h100e(months)
    orders = market.licensed_orders(months, price, supply, us_sales)
    budget = p.cn_licensed_budget_share * market.cn_budget(months)
    assert 0.0 <= orders * market.licensed_price(months, price) <= budget * sales + 1e-6
    assert orders <= p.licensed_vendor_share * supply * (1 + 1e-12)
    if rule.volume_cap > 0:
        cap = rule.volume_cap * p.legacy_share_of_us_sales * us_sales
        assert orders <= cap * (1 + 1e-12) + 1e-9
    more = _market(us_china_chip_sales=min(sales + 0.2, 1.0))
    assert more.licensed_orders(months, price, supply, us_sales) >= orders


def test_no_approval_no_licensed_chips_and_the_whole_budget_is_unmet():
    model = ChipWarModel(small_scenario(us_china_chip_sales=0.0), rng=0, until="2024-06")
    model.run_model()
    assert model.metrics["licensed_h100e_cum"] == 0.0
    market = model.market
    expected = market.cn_budget(5) / market.price_per_h100e(5)
    assert market.unmet_h100e == pytest.approx(expected)


def test_the_premium_stays_between_zero_and_chinas_willingness_to_pay():
    model = ChipWarModel("porous", rng=0, scale=1000)
    ceiling = model.params.premium_max
    while model.running:
        model.step()
        market = model.market
        assert 0.0 <= market.scarcity_premium <= ceiling + 1e-12
        assert market.premium <= ceiling * model.levers.china.smuggling_demand + 1e-12
        assert market.offshore_premium <= ceiling * model.levers.china.offshore_procurement + 1e-12


def test_the_premium_falls_when_grey_supply_covers_unmet_demand():
    market = _market()
    market.produce_and_export(0)
    market.grey_supply = 10.0 * market.unmet_h100e  # far more than China's budget can take
    before = market.scarcity_premium
    market.produce_and_export(1)
    assert market.scarcity_premium < before


@pytest.mark.parametrize("preset", ["porous", "loopholes-closed"])
def test_cutting_chip_sales_raises_smuggling_and_offshore_rental(preset):
    """Check of §3: refused legal orders become unmet demand that seeks grey channels."""
    totals = {}
    for sales in (1.0, 0.0):
        grey = 0.0
        for seed in (0, 1):
            model = ChipWarModel(
                preset, rng=seed, scale=1000, until="2028-12", us_china_chip_sales=sales
            )
            model.run_model()
            grey += model.metrics["smuggled_h100e_cum"] + model.metrics["offshore_h100e"]
        totals[sales] = grey
    assert totals[0.0] > totals[1.0]


def test_a_remote_access_rule_stops_offshore_builds_and_rentals():
    open_ = ChipWarModel("porous", rng=0, scale=1000, until="2028-12")
    shut = ChipWarModel("porous", rng=0, scale=1000, until="2028-12", us_kyc=1.0)
    open_.run_model()
    shut.run_model()
    assert shut.metrics["offshore_h100e"] < 0.5 * open_.metrics["offshore_h100e"]
