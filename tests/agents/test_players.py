"""Players: roles played by a doctrine inside plain runs, with the wargame bots' implementation."""

from __future__ import annotations

import math
import tomllib

import pytest
from helpers import assert_healthy, small_scenario
from hypothesis import given
from hypothesis import strategies as st
from reliability import assert_clean_refusal, run_cli

from chipwar.runs.core.single_run import run_scenario
from chipwar.runs.wargame.session import Session
from chipwar.world.doctrines import PERSONALITIES, RANGES, DoctrineData, resolve_player
from chipwar.world.errors import InputError
from chipwar.world.model import ChipWarModel
from chipwar.world.roles import ALL_ROLE_IDS
from chipwar.world.scenario import (
    load_scenario,
    scenario_from_dict,
    with_overrides,
    with_players,
)

UNTIL = "2025-06"  # 17 months of a history-free world: turns in 2024-02, -05, -08, ...
EVERY_SEAT = {"us": "hawk", "china": "hawk", "us-labs": "dove", "cn-labs": "pragmatist"}


def _moves(events: list[dict], origin: str) -> list[tuple[str, dict]]:
    """The lever changes players (or a session's moves) made: (month, settings), in order."""
    return [
        (e["date"], e["settings"])
        for e in events
        if e["kind"] == "policy" and e.get("origin") == origin
    ]


def _run(players: dict, seed: int = 3, **levers: float):
    return run_scenario(with_players(small_scenario(**levers), players, turn_months=3), seed, UNTIL)


def test_same_seed_same_bytes_with_players_and_the_seed_reaches_their_views():
    players = {"us": "hawk", "china": "hawk", "allies": "dove"}
    first, again = _run(players), _run(players)
    assert first.series.equals(again.series) and first.events == again.events
    other = _run(players, seed=4)
    notes = [e["text"] for e in first.events if e["kind"] == "player"]
    assert notes and notes != [e["text"] for e in other.events if e["kind"] == "player"]


def test_a_scenario_without_players_dumps_and_runs_as_before():
    porous = load_scenario("porous")
    assert {"players", "doctrines", "player_turn_months"}.isdisjoint(porous.model_dump())
    assert "players" not in porous.to_toml()
    model = ChipWarModel(small_scenario(), rng=1)
    assert model.players is None
    plain, none = _run({}), _run({"china": "none"})
    assert plain.series.equals(none.series) and not _moves(plain.events, "player")


def test_china_hawk_raises_smuggling_demand_when_the_gap_widens_and_outcomes_follow():
    exogenous, hawk = _run({}), _run({"china": "hawk"})
    first = next(e for e in hawk.events if "china.smuggling_demand" in e.get("settings", {}))
    assert first["kind"] == "player" and "compute gap widened" in first["text"]
    assert (
        first["settings"]["china.smuggling_demand"] > small_scenario().levers.china.smuggling_demand
    )
    assert "buying-spree" in first["actions"]  # the gap widens fast: a hawk acts too
    smuggled = "smuggled_h100e_cum"
    assert hawk.series[smuggled].iloc[-1] > exogenous.series[smuggled].iloc[-1]
    assert not hawk.series.equals(exogenous.series)


def test_a_dove_holds_back_where_a_hawk_acts():
    dove = _run({"china": "dove"})
    actions = [a for e in dove.events if e["kind"] == "player" for a in e["actions"]]
    assert actions == []  # boldness 0: a dove never takes a discrete action


def test_invariants_hold_every_month_with_players_on_every_seat():
    scenario = with_players(small_scenario(), {**EVERY_SEAT, "allies": "hawk"}, turn_months=2)
    model = ChipWarModel(scenario, rng=5, until=UNTIL)
    while model.running:
        model.step()
        assert_healthy(model)
        for key, value in model.observe().levers.items():
            assert 0.0 <= value <= 1.0 and math.isfinite(value), key


def test_wargame_bots_and_plain_run_players_are_one_implementation():
    """A bots-only session and a plain run whose every seat has that player: same moves."""
    session = Session.new(
        None,
        small_scenario(),
        seed=9,
        turn_months=3,
        until=UNTIL,
        personalities=EVERY_SEAT,
        keep_checkpoint=False,
    )
    while not session.finished:
        session.advance()
    seats = {role: seat.personality for role, seat in session.record.roles.items()}
    assert seats.keys() > EVERY_SEAT.keys()  # the blocs with levers sit at the table too
    played = run_scenario(with_players(small_scenario(), seats, turn_months=3), 9, UNTIL)
    session_run = session.run_result()
    assert _moves(session_run.events, "move") == _moves(played.events, "player")
    assert len(_moves(played.events, "player")) > 10
    assert session_run.series.equals(played.series)


def test_a_session_on_a_scenario_with_players_seats_them_as_bots():
    scenario = with_players(small_scenario(), {"china": "hawk", "us": "dove"})
    session = Session.new(None, scenario, seed=1, turn_months=3, until="2024-06", humans=["us"])
    assert session.record.roles["china"].personality == "hawk"
    assert session.record.roles["us"].player == "human"
    assert not session.record.scenario.players  # the session plays them, not the model
    custom = with_players(small_scenario(), {"china": {"like": "hawk", "step": 0.3}})
    with pytest.raises(InputError, match=r"players\.china"):
        Session.new(None, custom, seed=1, until="2024-06")


def test_a_doctrine_as_data_plays_like_the_personality_it_copies():
    same = {"china": {"like": "hawk"}, "us": "mirror"}
    copied = with_players(small_scenario(), same, doctrines={"mirror": {"like": "dove"}})
    copies = run_scenario(copied.model_copy(update={"player_turn_months": 3}), 3, UNTIL)
    originals = _run({"china": "hawk", "us": "dove"})
    assert copies.series.equals(originals.series)
    bolder = _run({"china": {"like": "dove", "boldness": 1.0, "step": 0.3}})
    assert not bolder.series.equals(_run({"china": "dove"}).series)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "like": st.sampled_from(list(PERSONALITIES)),
            "step": st.floats(-1, 2, allow_nan=False),
            "lead_target": st.floats(-10, 100, allow_nan=False),
            "intel": st.floats(-1, 2, allow_nan=False),
            "boldness": st.floats(-1, 2, allow_nan=False),
            "stance": st.integers(-2, 2),
        },
    )
)
def test_doctrine_values_inside_their_ranges_are_accepted_and_round_trip(table):
    inside = all(
        key == "like" or RANGES[key][0] <= value <= RANGES[key][1] for key, value in table.items()
    )
    data = {"players": {"china": table}}
    if not inside:
        with pytest.raises(InputError, match=r"players\.china\."):
            scenario_from_dict(data, "f.toml")
        return
    scenario = scenario_from_dict(data, "f.toml")
    again = scenario_from_dict(tomllib.loads(scenario.to_toml()), "round trip")
    assert again.players == scenario.players
    played = resolve_player(again.players["china"], again.doctrines)
    base = PERSONALITIES[table.get("like", "pragmatist")]
    assert played.step == table.get("step", base.step) and played.name == "custom"


@pytest.mark.parametrize(
    "text, field, value",
    [
        ('[players]\nchina = "hawkish"\n', "players.china", "hawkish"),
        ('[players]\nmars = "hawk"\n', "players", "mars"),
        ("[players.us]\nstep = 0.9\n", "players.us.step", "0.9"),
        ("[players.us]\nstance = 0.5\n", "players.us.stance", "0.5"),
        ('[players.us]\nlike = "owl"\n', "players.us.like", "owl"),
        ("[doctrines.tough]\nzeal = 1.0\n", "doctrines.tough.zeal", "1.0"),
        ("[doctrines.hawk]\nstep = 0.2\n", "doctrines", "hawk"),
        ("player_turn_months = 0\n", "player_turn_months", "0"),
    ],
)
def test_bad_players_are_refused_in_one_line_naming_file_field_and_value(
    tmp_path, text, field, value
):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n' + text)
    code, _out, err = run_cli(["run", "--scenario", str(path), "--out", str(tmp_path / "o")])
    assert_clean_refusal(code, err, str(path), f"{field} = ", value)
    assert not (tmp_path / "o").exists()


def test_doctrine_overrides_name_role_and_personality():
    scenario = small_scenario()
    assert with_overrides(scenario, {"doctrine.china": "hawk"}).players == {"china": "hawk"}
    with pytest.raises(InputError, match=r"doctrine\.ROLE"):
        with_overrides(scenario, {"doctrine.mars": "hawk"})
    with pytest.raises(InputError, match="hawk, pragmatist, dove"):
        with_overrides(scenario, {"doctrine.china": "owl"})
    assert set(ALL_ROLE_IDS) >= {"us", "china", "bloc-southeast_asia"}
    assert isinstance(DoctrineData(like="dove").personality("x").stance, int)


def test_players_seated_in_a_copy_of_a_live_session_play_the_bots_next_turn():
    """``seat_players`` (the outlook's way to keep bots reacting) continues a session exactly."""
    session = Session.new(
        None, small_scenario(), seed=4, turn_months=3, until=UNTIL, personalities=EVERY_SEAT
    )
    session.advance()
    session.advance()
    copy = session.model.clone()
    bots = {role: seat.personality for role, seat in session.record.roles.items()}
    copy.seat_players(
        bots,
        session.month_records,
        session.record.turn_months,
        first_turn=session.turn,
        table=list(session.roles),
        intel={role: session.intel(role) for role in bots},
    )
    months = session.record.turn_months
    ahead = []
    for _ in range(months):
        copy.step()
        ahead.append(dict(copy.observe().metrics))
    session.advance()
    played = [dict(record.metrics) for record in session.month_records[-months:]]
    assert ahead == played
    moved = [e for e in copy.event_log() if e["kind"] == "player"]
    assert {e["role"] for e in moved} == set(bots) and {e["turn"] for e in moved} == {3}


def test_seat_players_refuses_unknown_roles_and_personalities():
    model = ChipWarModel(small_scenario(), rng=1)
    with pytest.raises(InputError, match="role"):
        model.seat_players({"mars": "hawk"}, [], 6)
    with pytest.raises(InputError, match="hawk, pragmatist, dove"):
        model.seat_players({"china": "owl"}, [], 6)
    assert model.players is None
