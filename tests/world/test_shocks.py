"""Shocks: base rates as in the data, determinism, switched off exactly, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_healthy
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwar.world.errors import InputError
from chipwar.world.ledger import LedgerError
from chipwar.world.model import ChipWarModel
from chipwar.world.scenario import Scenario, load_scenario, scenario_from_dict, with_overrides
from chipwar.world.shocks import (
    DRAWS_PER_MONTH,
    ShockSettings,
    draw_month,
    load_shock_table,
    monthly_probability,
    shock_seed,
    shock_table,
)

SEED = np.random.SeedSequence(20260601)


def _scenario(branch: str = "2024-07", until: str = "2027-12", **shocks) -> Scenario:
    """No history, tiny field, shocks from ``branch``; ``shocks`` fill the [shocks] table."""
    return Scenario.model_validate(
        {
            "name": "shock-test",
            "history": False,
            "scale": 1000,
            "branch": branch,
            "end": until,
            "levers": {"us": {"enforcement": 0.2}},
            "events": [{"date": "2025-06", "set": {"us.china_chip_sales": 0.9}}],
            "shocks": shocks,
        }
    )


def _run(scenario: Scenario, seed: int = 5) -> ChipWarModel:
    model = ChipWarModel(scenario, rng=seed)
    while model.running:
        model.step()
    return model


def _shocks(model: ChipWarModel) -> list[dict]:
    return [e for e in model.event_log() if e["kind"] == "shock"]


FIVE_KINDS = {"capability", "us_output", "cn_output", "smuggling_case", "policy_reversal"}


# --- the data -------------------------------------------------------------------------------------
def test_table_has_the_five_kinds_with_sources_and_rates():
    table = shock_table()
    mechanisms = {spec.mechanism for spec in table}
    assert mechanisms == FIVE_KINDS
    for spec in table:
        assert 0 < spec.rate_per_year <= 12 and len(spec.source) > 100, spec.name
        assert spec.size.min <= spec.size.quantile(0.5) <= spec.size.max


@pytest.mark.parametrize("spec", shock_table(), ids=lambda s: s.name)
def test_base_rate_and_sizes_match_the_data_over_many_draws(spec):
    """120,000 months of a shock's own stream: the count per year is its rate within 4 standard
    errors (a Poisson approximation 1 - exp(-rate/12) would be 8% low at 2 a year and fail), the
    median size is the data's median, every size and duration inside its range."""
    stream = np.random.Generator(np.random.PCG64(shock_seed(SEED, spec.name)))
    months = 120_000
    p = monthly_probability(spec.rate_per_year)
    draws = [draw_month(spec, p, stream.random(DRAWS_PER_MONTH)) for _ in range(months)]
    fired = [d for d in draws if d is not None]
    expected = months * spec.rate_per_year / 12
    assert abs(len(fired) - expected) < 4 * math.sqrt(months * p * (1 - p))
    sizes = np.array([d.size for d in fired])
    assert sizes.min() >= spec.size.min and sizes.max() <= spec.size.max
    median = spec.size.median or (spec.size.min + spec.size.max) / 2
    assert abs(np.median(sizes) / median - 1) < 0.03
    lengths = {d.months for d in fired}
    assert lengths == set(range(spec.months.min, spec.months.max + 1))


@settings(max_examples=30)
@given(low=st.floats(0.0, 6.0), high=st.floats(0.0, 6.0), seed=st.integers(0, 2**32 - 1))
def test_a_higher_rate_fires_a_superset_of_months_with_the_same_sizes(low, high, seed):
    low, high = sorted((low, high))
    spec = shock_table()[0]
    uniforms = np.random.default_rng(seed).random((240, DRAWS_PER_MONTH))
    few = [draw_month(spec, monthly_probability(spec.rate_per_year * low), u) for u in uniforms]
    many = [draw_month(spec, monthly_probability(spec.rate_per_year * high), u) for u in uniforms]
    for a, b in zip(few, many, strict=True):
        assert a is None or a == b


# --- in the model ---------------------------------------------------------------------------------
def test_same_seed_same_shocks_and_series_other_seed_other_shocks():
    scenario = _scenario(rate_scale=3.0)
    a, b, c = _run(scenario, 5), _run(scenario, 5), _run(scenario, 6)
    assert _shocks(a) and _shocks(a) == _shocks(b)
    assert a.series_table().equals(b.series_table())
    assert _shocks(a) != _shocks(c)


def test_rate_scale_zero_is_exactly_the_run_without_shocks():
    off = _run(_scenario(enabled=False))
    zero = _run(_scenario(rate_scale=0.0))
    on = _run(_scenario(rate_scale=3.0))
    assert not _shocks(off) and not _shocks(zero)
    assert zero.series_table().equals(off.series_table())
    assert zero.country_table().equals(off.country_table())
    assert zero.event_log() == off.event_log()
    # Shocks draw from their own streams: before the first one struck, the runs agree.
    first = parse_date(_shocks(on)[0]["date"]) - parse_date("2024-01")
    series_on, series_off = on.series_table(), off.series_table()
    assert series_on.iloc[:first].equals(series_off.iloc[:first])
    assert not series_on.equals(series_off)


def test_no_shock_before_the_branch_date_with_history():
    scenario = with_overrides(load_scenario("porous"), {"scale": 1000, "shocks.rate_scale": 6.0})
    model = ChipWarModel(scenario, rng=1, until="2027-06")
    while model.running:
        model.step()
    dates = [e["date"] for e in _shocks(model)]
    assert dates and min(dates) >= scenario.branch


def test_invariants_hold_through_many_shocks_and_effects_are_undone():
    scenario = _scenario(until="2030-12", rate_scale=6.0)
    model = ChipWarModel(scenario, rng=11)
    mechanisms = set()
    while model.running:
        seized = model.ledger.seized
        model.step()
        assert_healthy(model)
        month = [e for e in model.observe().events if e["kind"] == "shock"]
        mechanisms |= {e["mechanism"] for e in month if e["phase"] == "start"}
        cases = [e for e in month if e["mechanism"] == "smuggling_case" and e["phase"] == "start"]
        assert model.ledger.seized >= seized + sum(e["seized_h100e"] for e in cases) - 1.0
        in_force = {s.mechanism for s in model.observe().shocks}
        if "us_output" not in in_force:
            assert model.market.us_output_factor == 1.0
        if "cn_output" not in in_force:
            assert model.market.cn_output_factor == 1.0
        assert (model.market.hub_base_enforcement >= 0).all()
        assert (model.market.hub_base_enforcement <= 1).all()
    assert mechanisms == FIVE_KINDS


def test_a_reversal_jumps_back_and_is_undone_exactly():
    scenario = _scenario(until="2030-12", rate_scale=6.0)
    model = _run(scenario, 11)
    starts = [e for e in _shocks(model) if e["mechanism"] == "policy_reversal"]
    assert starts
    for start in (e for e in starts if e["phase"] == "start"):
        lo, hi = sorted((start["from"], start["before_last_change"]))
        assert lo - 1e-9 <= start["to"] <= hi + 1e-9
    ends = [e for e in starts if e["phase"] == "end" and e["restored"]]
    assert ends
    # Restored to the scenario's own value: 0.9 set by the scenario's event.
    assert any(e["lever"] == "us.china_chip_sales" and e["from"] == 0.9 for e in ends)


def test_a_breakthrough_reaches_the_other_side_after_its_lag():
    model = _run(_scenario(until="2030-12", rate_scale=6.0), 11)
    starts = [e for e in _shocks(model) if e["mechanism"] == "capability"]
    for start in (e for e in starts if e["phase"] == "start" and e["until"] <= "2030-12"):
        follow = [
            e
            for e in starts
            if e["phase"] == "diffusion"
            and e["date"] == start["until"]
            and e["side"] != start["side"]
        ]
        assert follow, start
    total = sum(e["log10_gain"] for e in starts)
    assert math.isclose(
        total, model.race.algorithm_bonus["us"] + model.race.algorithm_bonus["cn"], abs_tol=1e-3
    )  # the events round each gain to 4 decimals


def test_reseed_changes_the_shocks_of_a_clone():
    model = ChipWarModel(_scenario(rate_scale=6.0), rng=2, until="2024-06")
    model.run_model()
    a, b = model.clone(), model.clone()
    a.reseed(np.random.SeedSequence(1))
    b.reseed(np.random.SeedSequence(2))
    for m in (a, b):
        m.end_month = model.end_month + 30
        m.running = True
        while m.running:
            m.step()
    assert _shocks(a) != _shocks(b)


def test_the_ledger_check_still_catches_a_leak_during_a_shock():
    model = ChipWarModel(_scenario(rate_scale=6.0), rng=3)
    for _ in range(12):
        model.step()
    model.ledger.held[0] += 1.0
    with pytest.raises(LedgerError):
        model.step()


# --- settings and bad input -----------------------------------------------------------------------
def test_scenario_round_trips_its_shock_settings(tmp_path):
    scenario = _scenario(rate_scale=0.5, per_shock={"policy_reversal": 0.0})
    path = tmp_path / "s.toml"
    path.write_text(scenario.to_toml())
    again = load_scenario(path)
    assert again.shocks == scenario.shocks
    assert again.shocks.rate(shock_table()[-1]) == 0.0


def test_overrides_and_keywords_set_shocks():
    base = load_scenario("current-policy")
    assert base.shocks.enabled and base.shocks.rate_scale == 1.0  # presets: on by default
    changed = with_overrides(base, {"shocks.rate_scale": 0.5, "shocks.major_smuggling_case": 0})
    assert changed.shocks.rate_scale == 0.5
    assert changed.shocks.per_shock == {"major_smuggling_case": 0.0}
    assert not with_overrides(base, {"shocks.enabled": 0}).shocks.enabled
    model = ChipWarModel("porous", rng=1, scale=1000, shocks_rate_scale=0.25)
    assert model.spec.shocks.rate_scale == 0.25


@pytest.mark.parametrize(
    ("shocks", "field", "hint"),
    [
        ({"rate_scale": -1.0}, "shocks.rate_scale", "greater than or equal to 0"),
        ({"rate_scale": float("nan")}, "shocks.rate_scale", "finite"),
        ({"enabled": "yes"}, "shocks.enabled", "boolean"),
        ({"rate": 2.0}, "shocks.rate", "unknown key"),
        ({"per_shock": {"meteor": 1.0}}, "shocks.per_shock", "is not a shock"),
        ({"per_shock": {"policy_reversal": -2.0}}, "shocks.per_shock", "in [0, 10]"),
        ({"rate_scale": 10.0}, "shocks", "at most 12"),
    ],
)
def test_bad_shock_settings_refused_in_one_line(shocks, field, hint):
    data = {"name": "bad", "shocks": shocks}
    with pytest.raises(InputError) as caught:
        scenario_from_dict(data, "bad.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("bad.toml: ")
    assert caught.value.field.startswith(field) and hint in message


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("shocks.meteor", 1.0, "shocks.rate_scale"),
        ("shocks.enabled", 0.5, "0 (off) or 1 (on)"),
        ("shocks.rate_scale", 11.0, "less than or equal to 10"),
    ],
)
def test_bad_shock_overrides_refused_in_one_line(key, value, hint):
    with pytest.raises(InputError) as caught:
        with_overrides(load_scenario("porous"), {key: value})
    assert hint in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("row", "hint"),
    [
        ({"mechanism": "meteor"}, "mechanism"),
        ({"rate_per_year": 13.0}, "less than or equal to 12"),
        ({"size": {"dist": "uniform", "min": 0.2, "max": 1.5}}, "share of output lost"),
        ({"size": {"dist": "lognormal", "min": 0.1, "max": 0.5}}, "median and sigma"),
        ({"months": {"min": 4, "max": 2}}, "below min"),
        ({"target": {"us": 1.0}}, "takes no target"),
        ({"source": ""}, "at least 20"),
    ],
)
def test_a_bad_shock_table_is_refused_naming_the_file(tmp_path, row, hint):
    good = {
        "name": "outage",
        "label": "Outage",
        "mechanism": "us_output",
        "rate_per_year": 0.5,
        "size": {"dist": "uniform", "min": 0.1, "max": 0.2},
        "months": {"min": 1, "max": 2},
        "source": "a source long enough to count as one",
    }
    import tomli_w

    path = tmp_path / "shocks.toml"
    path.write_text(tomli_w.dumps({"shock": [{**good, **row}]}))
    with pytest.raises(InputError) as caught:
        load_shock_table(path)
    assert str(caught.value).startswith(str(path)) and hint in str(caught.value)
    path.write_text(tomli_w.dumps({"shock": [good]}))
    assert load_shock_table(path)[0].name == "outage"


def test_settings_rate_is_zero_when_off():
    spec = shock_table()[0]
    assert ShockSettings(enabled=False).rate(spec) == 0.0
    assert ShockSettings(rate_scale=2.0).rate(spec) == 2.0 * spec.rate_per_year


def parse_date(text: str) -> int:
    from chipwar.world.calendar import parse_month

    return parse_month(text)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('[shocks]\nenabled = "yes"\n', ("shocks.enabled", "boolean")),
        ("[shocks]\nrate_scale = -0.5\n", ("shocks.rate_scale", "greater than")),
        ("[shocks]\nper_shock = { meteor = 1.0 }\n", ("shocks.per_shock", "is not a shock")),
        ("[shocks]\nsize = 2\n", ("shocks.size", "unknown key")),
    ],
)
def test_the_command_line_refuses_bad_shocks_in_one_line(tmp_path, text, needles):
    from reliability import assert_clean_refusal, run_cli

    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n{text}')
    code, _, err = run_cli(["run", "--scenario", str(path), "--out", str(tmp_path / "out")])
    assert_clean_refusal(code, err, str(path), *needles)
    assert not (tmp_path / "out").exists()


def test_scenarios_verbose_lists_every_shock_with_its_rate():
    from reliability import run_cli

    code, out, _ = run_cli(["scenarios", "-v"])
    assert code == 0
    for spec in shock_table():
        assert f"{spec.name:<28} {spec.rate_per_year:<5g} {spec.label}" in out


@pytest.mark.parametrize(
    ("shock", "column", "effect"),
    [
        ("taiwan_fab_disruption", "us_output_h100e", lambda size: 1.0 - size),
        ("packaging_hbm_disruption", "us_output_h100e", lambda size: 1.0 - size),
        ("domestic_yield_surprise", "cn_domestic_output_h100e", lambda size: size),
    ],
)
def test_an_output_shock_scales_that_months_output_by_its_size(shock, column, effect):
    """Until the first shock the runs agree, so its month shows exactly the shock's effect."""
    only = {name: 0.0 for name in (s.name for s in shock_table()) if name != shock}
    hit = _run(_scenario(rate_scale=6.0, per_shock={**only, shock: 2.0}), 7)
    calm = _run(_scenario(enabled=False), 7)
    first = next(e for e in _shocks(hit) if e["phase"] == "start")
    row = parse_date(first["date"]) - parse_date("2024-01")
    got, base = hit.series_table()[column].iloc[row], calm.series_table()[column].iloc[row]
    assert math.isclose(got, base * effect(first["size"]), rel_tol=1e-3)  # size rounded to 4 dp
