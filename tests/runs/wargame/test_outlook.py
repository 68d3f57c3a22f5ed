"""The outlook from a wargame turn: over calibrated members its fan has width, it is the same for
the same session, and the session itself is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from ensemble_helpers import write_ensemble
from helpers import small_scenario

from chipwar.runs.cli.main import main
from chipwar.runs.core.executors import serial
from chipwar.runs.wargame.session import Session
from chipwar.world.ensemble import load_ensemble


@pytest.fixture
def session() -> Session:
    game = Session.new(None, small_scenario(), seed=4, turn_months=3, until="2025-06")
    game.advance()
    return game


@pytest.fixture
def ensemble_path(tmp_path: Path) -> Path:
    return write_ensemble(tmp_path / "members.parquet", members=10)


def test_the_outlook_over_members_has_width_and_is_reproducible(session, ensemble_path):
    ensemble = load_ensemble(ensemble_path)
    before = session.model.observe().metrics
    first = session.outlook(5, ensemble=ensemble, info=serial())
    again = session.outlook(5, ensemble=ensemble, info=serial())
    assert session.model.observe().metrics == before  # the session is not touched
    gap = first.bands["compute_gap"]
    assert first.from_date == "2024-04" and gap["date"].iloc[0] == "2024-05"  # after the turn
    assert (gap["p10"] <= gap["p50"]).all() and (gap["p50"] <= gap["p90"]).all()
    assert (gap["p90"] > gap["p10"]).all()  # members differ: the fan has width
    assert first.finals.equals(again.finals)
    assert first.finals["member"].nunique() > 1
    assert "calibrated parameter sets" in first.to_markdown()


def test_bots_keep_reacting_in_the_futures_and_humans_hold(session, ensemble_path):
    """The same members and seeds with every seat human (levers held) give other futures: the
    bots' moves are part of the fan."""
    ensemble = load_ensemble(ensemble_path)
    humans = session.fork(None, session.turns_played, humans=list(session.record.roles))
    with_bots = session.outlook(3, ensemble=ensemble, info=serial()).finals
    held = humans.outlook(3, ensemble=ensemble, info=serial()).finals
    assert list(with_bots["member"]) == list(held["member"])
    assert not with_bots.equals(held)


def test_the_seeds_only_outlook_still_runs_from_the_live_state(session):
    result = session.outlook(3)
    assert result.bands["compute_gap"]["date"].iloc[0] == "2024-05"
    assert "add --ensemble N" in result.to_markdown()


def test_the_command_line_outlook_takes_an_ensemble(tmp_path, capsys, ensemble_path):
    game = tmp_path / "g.json"
    Session.new(game, small_scenario(), seed=4, turn_months=3, until="2024-09").advance()
    argv = ["wargame", "outlook", str(game), "--ensemble", "3", "--workers", "1"]
    assert main([*argv, "--ensemble-file", str(ensemble_path)]) == 0
    assert "calibrated parameter sets" in capsys.readouterr().out
    assert (tmp_path / "g.d" / "outlook-turn-01" / "outlook.png").exists()
    assert main([*argv[:3], "--seeds", "2", "--ensemble", "2"]) == 2
    assert "only without --ensemble N" in capsys.readouterr().err
