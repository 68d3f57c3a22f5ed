"""Shocks in the wargame: the turn report explains them, briefs carry them, the outlook fans out."""

from __future__ import annotations

import pytest

from chipwar.runs.wargame.session import Session
from chipwar.world.scenario import Scenario


def _shock_world(rate_scale: float = 6.0) -> Scenario:
    """Shocks from the second month, at a high rate so a short turn sees several."""
    return Scenario.model_validate(
        {
            "name": "shocks",
            "history": False,
            "scale": 1000,
            "branch": "2024-02",
            "levers": {"us": {"china_chip_sales": 0.9}},
            "shocks": {"rate_scale": rate_scale},
        }
    )


@pytest.fixture(scope="module")
def session() -> Session:
    played = Session.new(None, _shock_world(), seed=4, turn_months=12, until="2025-12")
    played.advance()
    return played


def _turn(session: Session) -> list:
    trace = session.traces[0]
    return session.month_records[trace.first : trace.last + 1]


def test_the_turn_report_lists_each_shock_with_its_mechanism(session):
    report = session.report(1)
    text = report.to_markdown()
    struck = [
        e
        for m in _turn(session)
        for e in m.events
        if e["kind"] == "shock" and e["phase"] == "start"
    ]
    assert struck, "a year at six times the base rates brings shocks"
    assert "## Shocks" in text
    for event in struck:
        assert event["text"] in text
    assert {s["shock"] for s in report.data["shocks"]} >= {e["shock"] for e in struck}
    assert "shock(s) struck" in text  # the key events point to the section


def test_shocks_in_force_are_named_at_the_end_of_the_turn(session):
    end = _turn(session)[-1]
    report = session.report(1).to_markdown()
    if end.shocks:
        assert f"In force at the end of {end.date}" in report
        for shock in end.shocks:
            assert shock.since <= end.date < shock.until


def test_a_quiet_turn_says_so():
    quiet = Session.new(None, _shock_world(0.0), seed=4, turn_months=3, until="2024-12")
    quiet.advance()
    assert "No shock struck this turn" in quiet.report(1).to_markdown()


def test_the_next_brief_carries_the_shocks_as_public_news(session):
    brief = session.brief("us", 2)
    struck = [
        e["text"]
        for m in _turn(session)
        for e in m.events
        if e["kind"] == "shock" and e["phase"] != "end"
    ]
    assert struck and all(any(text in line for line in brief.events) for text in struck)


def test_the_outlook_fan_is_wider_with_shocks():
    width = {}
    for rate_scale in (0.0, 1.0):
        world = _shock_world(rate_scale)
        fresh = Session.new(None, world, seed=4, turn_months=6, until="2026-12")
        band = fresh.outlook(seeds=6).bands["lead_months"].iloc[-1]
        width[rate_scale] = band["p90"] - band["p10"]
    assert width[1.0] > 5 * width[0.0] and width[1.0] > 1.0
