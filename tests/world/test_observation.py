"""ChipWarModel.observe(): the books add up, decisions are the buyers' own, snapshots are copies."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator

import numpy as np
import pytest
from helpers import small_scenario

from chipwar.agents.buyer import choose_stack
from chipwar.world.model import ChipWarModel
from chipwar.world.observation import Observation
from chipwar.world.stacks import STACK_CN, STACK_NAMES, STACK_NONE, STACK_US


@pytest.fixture(scope="module")
def stepped() -> tuple[ChipWarModel, list[Observation]]:
    """A model after its first 14 months, and its observation as built and after each month."""
    model = ChipWarModel(
        small_scenario(china_export_push=1.0, china_surveillance_bundle=1.0), rng=3
    )
    observations = [model.observe()]
    for _ in range(14):
        model.step()
        observations.append(model.observe())
    return model, observations


def test_before_the_first_step_the_model_is_observed_as_built():
    model = ChipWarModel(small_scenario(), rng=0)
    obs = model.observe()
    assert obs.months == 0 and obs.date == "2023-12"  # the month before the start
    assert obs.decisions == () and obs.events == ()
    assert obs.books.produced > 0 and math.isclose(obs.books.held, obs.books.produced)


def test_the_books_are_the_ledgers_and_conserve_compute():
    model = ChipWarModel(small_scenario(china_smuggling_demand=1.0), rng=1, until="2025-06")
    while model.running:
        model.step()
        obs, ledger = model.observe(), model.ledger
        books = obs.books
        assert books.produced == ledger.produced and books.seized == ledger.seized
        assert books.held == float(ledger.held.sum()) and books.in_transit == ledger.in_transit
        accounted = books.held + books.in_transit + books.seized + books.retired
        assert math.isclose(books.produced, accounted, rel_tol=1e-9)
        assert math.isclose(float(obs.held.sum()), books.held, rel_tol=1e-12)
        cn = model.countries.index("CHN")
        assert math.isclose(sum(obs.cn_sources.values()), obs.held[cn], rel_tol=1e-9)
        assert obs.metrics["compute_us_h100e"] == obs.held[model.countries.index("USA")]
        assert math.isclose(obs.metrics["compute_cn_h100e"], obs.held[cn] + obs.cn_offshore)
        # Every bust happens at a hub: the hubs' seizures are the month's seizures.
        assert math.isclose(sum(h.seized_h100e for h in obs.hubs.values()), ledger.seized_month)
        assert sum(h.diverted_h100e for h in obs.hubs.values()) == pytest.approx(
            float(ledger.diverted.sum())
        )
    assert model.observe().books.seized > 0, "a year and a half of heavy smuggling sees busts"


def test_chinas_holdings_move_by_the_months_inflow_less_ageing(stepped):
    model, observations = stepped
    life = model.params.hardware_life_months
    for before, after in itertools.pairwise(observations):
        added = 0.0
        for source, held in after.cn_sources.items():
            expected = (before.cn_sources[source] + after.cn_inflow[source]) * (1.0 - 1.0 / life)
            assert math.isclose(held, expected, rel_tol=1e-9, abs_tol=1e-6), source
            added += after.cn_inflow[source]
        total = sum(before.cn_sources.values()) + added
        assert math.isclose(after.cn_retired, total / life, rel_tol=1e-9)
        assert after.cn_inflow["initial"] == 0.0
        assert after.cn_inflow["domestic"] == after.metrics["cn_domestic_output_h100e"]
        assert after.cn_inflow["smuggled"] == after.metrics["smuggled_h100e"]


def test_decisions_are_what_the_buyers_did_and_their_terms_sum_to_the_lean():
    model = ChipWarModel(
        small_scenario(china_export_push=1.0, china_surveillance_bundle=1.0), rng=3
    )
    seen = flips = 0
    for _ in range(14):
        model.step()
        obs = model.observe()
        flip_events = [e for e in obs.events if e["kind"] == "stack_flip"]
        assert [(e["country"], e["before"], e["after"]) for e in flip_events] == [
            (d.iso, d.before_stack, d.after_stack) for d in obs.flips
        ]
        government = model.appeal.government_lean_cn
        for decision in obs.decisions:
            index = model.countries.index(decision.iso)
            buyer = model.buyers[index]
            assert decision.date == obs.date and decision.after == buyer.official
            assert decision.after == obs.official[index]
            assert decision.lean_cn == buyer.lean_cn
            # Added in order, the terms are the buyer's own sum, to the last bit.
            assert functools.reduce(operator.add, decision.terms.values()) == decision.lean_cn
            names = list(decision.terms)
            assert names[-2:] == ["own adopters", "random draw"]
            assert math.isclose(
                sum(decision.terms[n] for n in names[:-2]), government[index], abs_tol=1e-12
            )
            # The buyer's own rule, applied to the recorded lean, band and switching cost.
            wanted = choose_stack(
                decision.lean_cn, decision.before, decision.band, decision.switch_cost
            )
            assert decision.after == wanted
            assert decision.largest(2)[0][1] == max(decision.terms.values(), key=abs)
        seen += len(obs.decisions)
        flips += len(obs.flips)
    assert seen > 100 and flips > 0, (seen, flips)


def test_the_country_level_terms_are_the_lean_the_appeal_computed(stepped):
    appeal = stepped[0].appeal
    total = sum(appeal.government_terms.values())
    assert np.allclose(total, appeal.government_lean_cn, rtol=0, atol=1e-12)


def test_leaders_and_hubs_match_the_metrics_and_the_market(stepped):
    model, obs = stepped[0], stepped[1][-1]
    assert obs.leaders["cn"].distill_bonus == obs.metrics["distill_gain"]
    assert obs.leaders["us"].capability == obs.metrics["capability_us"]
    assert obs.leaders["cn"].capability <= obs.metrics["capability_cn"]
    places = [*model.market.smuggling_hubs, *model.market.transit_hubs]
    assert list(obs.hubs) == [str(model.countries.iso[h]) for h in places]
    assert sum(h.networks for h in obs.hubs.values()) == obs.metrics["networks_active"]
    assert obs.detection == model.race.detection
    assert set(STACK_NAMES) == {STACK_NONE, STACK_US, STACK_CN}


def test_a_snapshot_is_read_only_and_does_not_follow_the_model():
    model = ChipWarModel(small_scenario(), rng=5)
    model.schedule_change({"us.kyc": 0.5}, "a move")
    model.step()
    obs = model.observe()
    kept = (obs.shares.copy(), obs.official.copy(), dict(obs.metrics), dict(obs.cn_sources))
    with pytest.raises(ValueError):
        obs.shares[0, 0] = 0.5
    with pytest.raises(ValueError):
        obs.official[0] = STACK_CN
    with pytest.raises(TypeError):
        obs.metrics["lead_months"] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        obs.levers["us.kyc"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        obs.date = "2030-01"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        next(iter(obs.hubs.values())).regime = 1.0  # type: ignore[misc]
    copied = obs.official.copy()
    copied[:] = STACK_CN  # a reader's own copy changes nothing in the model
    assert model.observe().official.tolist() == kept[1].tolist()
    (move,) = [e for e in obs.events if e["kind"] == "policy"]
    move["settings"].clear()  # nested details are copies too
    assert model.observe().events[0]["settings"] == {"us.kyc": 0.5}
    for _ in range(3):
        model.step()
    assert np.array_equal(obs.shares, kept[0]) and np.array_equal(obs.official, kept[1])
    assert dict(obs.metrics) == kept[2] and dict(obs.cn_sources) == kept[3]
    assert model.observe().metrics["date"] != obs.metrics["date"]


def test_lever_value_sees_changes_scheduled_for_the_coming_month():
    model = ChipWarModel(small_scenario(us_kyc=0.2), rng=0)
    model.step()
    model.schedule_change({"us.kyc": 0.9, "hub.MYS": 0.7}, "test move")
    assert model.lever_value("us.kyc") == 0.9 and model.lever_value("hub.MYS") == 0.7
    assert model.observe().levers["us.kyc"] == 0.2
    model.step()
    obs = model.observe()
    assert obs.levers["us.kyc"] == 0.9 and obs.hubs["MYS"].regime == 0.7
    assert obs.settings()["hub.MYS"] == 0.7 and obs.settings()["us.kyc"] == 0.9


def test_a_clone_steps_on_its_own_and_reseeding_changes_only_the_future():
    model = ChipWarModel(small_scenario(china_smuggling_demand=1.0), rng=2, until="2025-06")
    for _ in range(3):
        model.step()
    twin, other = model.clone(), model.clone()
    other.reseed(np.random.SeedSequence(99))
    while twin.running:
        twin.step()
        other.step()
    assert model.observe().months == 3
    assert twin.series_table().iloc[:3].equals(model.series_table())
    assert not twin.series_table().equals(other.series_table())
    while model.running:
        model.step()
    assert twin.series_table().equals(model.series_table())


def test_the_run_tables_and_the_event_log_are_copies():
    model = ChipWarModel(small_scenario(), rng=0, until="2024-03")
    model.run_model()
    assert list(model.series_table()["date"]) == ["2024-01", "2024-02", "2024-03"]
    assert len(model.country_table()) == 3 * len(model.countries)
    log = model.event_log()
    log.clear()
    assert model.event_log() == model.events
