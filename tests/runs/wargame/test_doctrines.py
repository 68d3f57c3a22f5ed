"""Bots and briefs: doctrines react to what they observe; briefs hide rivals behind estimates."""

from __future__ import annotations

import copy
import math

import pytest
from helpers import small_scenario

from chipwar.runs.wargame.briefs import Brief, Estimate
from chipwar.runs.wargame.doctrines import PERSONALITIES, bot_move
from chipwar.runs.wargame.roles import is_public
from chipwar.runs.wargame.session import Session

HUMANS = ["us", "china", "us-labs", "cn-labs", "allies", "bloc-southeast_asia"]


@pytest.fixture(scope="module")
def session() -> Session:
    """Two turns played; us gathers intelligence hard, china hardly at all."""
    s = Session.new(None, small_scenario(), seed=21, turn_months=3, until="2025-01", humans=HUMANS)
    s.submit("us", {"intel": 1.0})
    s.submit("china", {"intel": 0.0})
    s.advance(force=True)
    s.advance(force=True)
    return s


def _set(brief: Brief, key: str, now: float, before: float) -> Brief:
    brief = copy.deepcopy(brief)
    item = brief.indicator(key)
    assert item is not None, key
    item.now, item.before = Estimate.known(now), Estimate.known(before)
    return brief


def test_bots_are_pure_functions_of_their_brief(session):
    for role in session.roles:
        brief = session.brief(role)
        for name in PERSONALITIES:
            first, again = bot_move(brief, name), bot_move(copy.deepcopy(brief), name)
            assert (first.settings, first.actions, first.note) == (
                again.settings,
                again.actions,
                again.note,
            )
            assert set(first.settings) <= {*brief.role_levers(), "intel"}


def test_briefs_are_reproducible_and_never_draw_from_the_model(session):
    state = session.model.rng.bit_generator.state
    random_state = session.model.random.getstate()
    first = session.brief("china").to_dict()
    assert session.brief("china").to_dict() == first
    assert session.model.rng.bit_generator.state == state
    assert session.model.random.getstate() == random_state
    assert session.brief("us").to_dict() != session.brief("us", turn=2).to_dict()


def test_a_brief_shows_own_levers_exactly_and_rivals_covert_levers_as_estimates(session):
    brief = session.brief("china")
    assert [v.key for v in brief.levers] == list(session.roles["china"].levers)
    assert all(v.value.exact for v in brief.levers)
    for view in brief.others:
        if view.owner == "cn-labs":
            assert view.basis == "partner" and view.value.exact
        elif is_public(view.key):
            assert view.basis == "public" and view.value.exact
        else:
            assert view.basis == "intelligence" and not view.value.exact
            assert view.value.low <= view.value.value <= view.value.high
    own = brief.indicator("compute_cn_h100e")
    rival = brief.indicator("compute_us_h100e")
    assert own.now.exact and not rival.now.exact
    assert brief.indicator("countries_official_cn").basis == "public"
    assert "us.enforcement" in brief.to_markdown() and brief.role == "china"


def test_uncertainty_shrinks_with_intelligence_effort(session):
    def width(brief: Brief, key: str) -> float:
        item = brief.indicator(key)
        return math.log(item.now.high / item.now.low)

    us, china = session.brief("us"), session.brief("china")
    assert us.intel == 1.0 and china.intel == 0.0
    # Same relative error scale at intel 0 (US compute 0.35, China's 0.5): compare normalised.
    assert width(us, "compute_cn_h100e") / 0.5 < width(china, "compute_us_h100e") / 0.35
    lead_us, lead_cn = us.indicator("lead_months").now, china.indicator("lead_months").now
    assert lead_us.high - lead_us.low < lead_cn.high - lead_cn.low


def test_china_raises_smuggling_demand_and_distillation_when_the_gap_widens(session):
    brief = _set(session.brief("china"), "compute_gap", now=4.0, before=3.0)
    hawk, dove = bot_move(brief, "hawk"), bot_move(brief, "dove")
    current = brief.lever("china.smuggling_demand")
    assert hawk.settings["china.smuggling_demand"] > current
    assert dove.settings["china.smuggling_demand"] > current
    assert hawk.settings["china.smuggling_demand"] > dove.settings["china.smuggling_demand"]
    assert "buying-spree" in hawk.actions and not dove.actions
    labs = _set(session.brief("cn-labs"), "lead_months", now=14.0, before=9.0)
    move = bot_move(labs, "pragmatist")
    assert move.settings["china.distillation_effort"] > labs.lever("china.distillation_effort")


def test_us_raises_enforcement_and_raids_after_detected_diversion(session):
    brief = _set(session.brief("us"), "seized_turn_h100e", now=5000.0, before=0.0)
    brief.busts = {"SGP": {"count": 2, "seized_h100e": 5000.0}}
    for name in ("hawk", "pragmatist", "dove"):
        move = bot_move(brief, name)
        assert move.settings["us.enforcement"] > brief.lever("us.enforcement"), name
        assert ("raid:SGP" in move.actions) == (name != "dove"), name
    quiet = _set(session.brief("us"), "seized_turn_h100e", now=0.0, before=0.0)
    quiet = _set(quiet, "smuggled_turn_h100e", now=100.0, before=100.0)
    quiet.busts = {}
    assert "us.enforcement" not in bot_move(quiet, "pragmatist").settings


def test_bot_moves_are_recorded_and_replay_does_not_run_bots(tmp_path, monkeypatch):
    s = Session.new(
        tmp_path / "bots.json", small_scenario(), seed=8, turn_months=3, until="2024-07"
    )
    s.advance()
    assert {m.role for m in s.record.turns[0].moves} == set(s.roles)
    assert all(m.by == "bot:pragmatist" for m in s.record.turns[0].moves)

    def no_bots(*_args):
        raise AssertionError("replay must not run a bot")

    monkeypatch.setattr("chipwar.runs.wargame.doctrines.bot_move", no_bots)
    again = Session.open(s.path)
    assert not again.warnings and again.turns_played == 1
