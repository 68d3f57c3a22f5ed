"""Wargame sessions: event-sourced replay, determinism, undo and fork, and refusing bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import small_scenario

from chipwar.runs.core.single_run import run_scenario
from chipwar.runs.wargame.roles import ACTIONS, ALL_ROLE_IDS, build_roles, lever_owner
from chipwar.runs.wargame.session import Session, load_record, outcome_digest
from chipwar.world.errors import InputError
from chipwar.world.levers import lever_keys
from chipwar.world.model import ChipWarModel
from chipwar.world.scenario import Scenario

CORE = ["us", "china", "us-labs", "cn-labs", "allies", "bloc-southeast_asia"]


def _new(tmp_path: Path, name: str = "game.json", **kw) -> Session:
    options = {"seed": 5, "turn_months": 3, "until": "2025-01", "humans": ["us", "china"]}
    options.update(kw)
    return Session.new(tmp_path / name, small_scenario(), **options)


def _table(session: Session) -> pd.DataFrame:
    return session.model.series_table()


def test_every_lever_has_exactly_one_owner():
    model = ChipWarModel(small_scenario(), rng=0)
    roles = build_roles(model)
    owners = {key: [r for r, role in roles.items() if key in role.levers] for key in lever_keys()}
    assert all(len(found) == 1 for found in owners.values()), owners
    assert all(owners[key] == [lever_owner(key)] for key in lever_keys())
    hubs = [k for role in roles.values() for k in role.levers if k.startswith("hub.")]
    assert len(hubs) == len(set(hubs)) and "hub.MYS" in roles["bloc-southeast_asia"].levers
    assert list(roles) == list(ALL_ROLE_IDS)


def test_the_facilitators_guide_lists_every_lever_and_action():
    guide = (Path(__file__).parents[3] / "docs" / "wargame.md").read_text()
    for key in lever_keys():
        assert f"`{key}`" in guide, key
    for specs in ACTIONS.values():
        for spec in specs:
            assert f"`{spec.usage()}`" in guide, spec.name


def test_session_moves_equal_a_scenario_with_the_same_dated_events():
    """The same levers at the same dates give the same series as a scenario run."""
    events = [
        {"date": "2024-05", "set": {"us.enforcement": 0.8, "china.smuggling_demand": 0.9}},
        {"date": "2024-08", "set": {"us.kyc": 0.5, "hub.MYS": 0.7}},
    ]
    base = small_scenario()
    with_events = Scenario.model_validate({**base.model_dump(), "events": events})
    expected = run_scenario(with_events, seed=11, until="2024-10")

    session = Session.new(None, base, seed=11, turn_months=3, until="2024-10", humans=CORE)
    session.advance(force=True)  # 2024-02..04: nobody moves
    session.submit("us", {"enforcement": 0.8})
    session.submit("china", {"china.smuggling_demand": 0.9})
    session.advance(force=True)
    session.submit("us", {"kyc": 0.5})
    session.submit("bloc-southeast_asia", {"hub.MYS": 0.7})
    session.advance(force=True)
    assert session.finished
    pd.testing.assert_frame_equal(_table(session), expected.series, check_exact=True)
    run = session.run_result()
    pd.testing.assert_frame_equal(run.countries, expected.countries, check_exact=True)


def test_replaying_the_log_gives_the_live_state_and_export_reproduces_it(tmp_path):
    live = _new(tmp_path)
    live.submit("us", {"enforcement": 0.7}, ["raid:MYS", "kyc-rule"])
    live.submit("china", {"smuggling_demand": 0.9, "intel": 0.8}, ["buying-spree"])
    live.advance()
    live.advance(force=True)
    replayed = Session.open(live.path)
    assert not replayed.warnings
    pd.testing.assert_frame_equal(_table(replayed), _table(live), check_exact=True)
    assert [t.digest for t in replayed.record.turns] == [t.digest for t in live.record.turns]
    assert replayed.brief("us").to_dict() == live.brief("us").to_dict()
    assert replayed.model.levers.flat() == live.model.levers.flat()
    # The exported scenario (moves as dated events) reruns to the same series.
    result = live.run_result()
    rerun = run_scenario(result.scenario, live.record.seed, until=live.month_records[-1].date)
    pd.testing.assert_frame_equal(rerun.series, result.series, check_exact=True)


def test_actions_are_scheduled_lever_changes_that_end_inside_the_turn():
    session = Session.new(None, small_scenario(), seed=2, turn_months=3, until="2024-07")
    start = session.opening_levers(1)["hub.MYS"]
    session.submit("us", {}, ["raid:MYS"])
    session.submit("cn-labs", {"distillation_effort": 0.5}, ["distill-campaign"])
    trace = session.advance(force=True)
    months = session.month_records[trace.first : trace.last + 1]
    assert [m.hubs["MYS"].regime for m in months] == [0.95, start, start]
    assert [m.levers["china.distillation_effort"] for m in months] == [1.0, 1.0, 1.0]
    assert session.opening_levers(2)["china.distillation_effort"] == 0.5  # back to the move


def test_undo_then_the_same_moves_gives_the_same_state(tmp_path):
    session = _new(tmp_path)
    session.submit("us", {"enforcement": 0.6})
    session.submit("china", {"export_push": 0.8})
    session.advance()
    before_table, before_turns = _table(session), session.record.turns[-1]
    session.undo()  # from the in-memory checkpoint
    assert session.turns_played == 0 and len(_table(session)) == 1
    session.submit("us", {"enforcement": 0.6})
    session.submit("china", {"export_push": 0.8})
    session.advance()
    pd.testing.assert_frame_equal(_table(session), before_table, check_exact=True)
    assert session.record.turns[-1] == before_turns
    # Undo without a checkpoint replays the log instead: the same state again.
    reopened = Session.open(session.path)
    reopened.undo()
    assert reopened.turns_played == 0
    pd.testing.assert_frame_equal(_table(reopened), before_table.iloc[:1], check_exact=True)


def test_fork_keeps_the_first_turns_and_leaves_the_source_alone(tmp_path):
    session = _new(tmp_path, humans=[])
    for _ in range(3):
        session.advance()
    source_bytes = session.path.read_bytes()
    fork = session.fork(tmp_path / "fork.json", at_turn=2, humans=["cn-labs"])
    assert fork.turns_played == 2 and fork.humans() == ["cn-labs"]
    assert [t.digest for t in fork.record.turns] == [t.digest for t in session.record.turns[:2]]
    assert session.path.read_bytes() == source_bytes
    first = session.traces[1].last
    assert outcome_digest(fork.month_records) == outcome_digest(session.month_records[: first + 1])
    with pytest.raises(InputError, match="at_turn"):
        session.fork(tmp_path / "other.json", at_turn=4)


def test_a_session_with_only_bots_is_a_valid_run():
    session = Session.new(None, small_scenario(), seed=3, turn_months=4, until="2025-06")
    while not session.finished:
        session.advance()
    final = session.brief("china")  # the last turn is shorter; the final brief is at the end
    assert final.period is None and final.as_of == "2025-06"
    table = _table(session)
    assert table["date"].iloc[-1] == "2025-06" and table.notna().all().all()
    assert all(m.by.startswith("bot:") for t in session.record.turns for m in t.moves)
    with pytest.raises(InputError, match="ended"):
        session.advance()


def test_advance_waits_for_human_moves_unless_forced(tmp_path):
    session = _new(tmp_path)
    before = session.path.read_bytes()
    with pytest.raises(InputError, match="us, china"):
        session.advance()
    assert session.path.read_bytes() == before
    session.submit("us", {"enforcement": 0.5})
    trace = session.advance(force=True)
    assert trace.carried == ["china"] and session.record.pending == {}


@pytest.fixture(scope="module")
def shared_session(tmp_path_factory) -> Session:
    """One session for the refusals: a refused move changes nothing, so they can share it."""
    session = _new(tmp_path_factory.mktemp("shared"))
    session.submit("us", {"enforcement": 0.4})
    return session


@pytest.mark.parametrize(
    "role, settings, actions, needle",
    [
        ("us", {"enforcement": 1.5}, [], "a number in [0, 1]"),
        ("us", {"enforcement": float("nan")}, [], "a number in [0, 1]"),
        ("us", {"warp_drive": 0.5}, [], "us's levers"),
        ("china", {"us.enforcement": 0.1}, [], "belongs to role us"),
        ("us-labs", {"enforcement": 0.1}, [], "us-labs"),
        ("us", {}, ["nuke"], "an action of role us"),
        ("us", {}, ["raid:FRA"], "raid:<HUB>"),
        ("us", {}, ["raid:MYS", "raid:MYS"], "at most once"),
        ("allies", {}, ["raid:MYS"], "an action of role allies"),
        ("mars", {}, [], "a role of this session"),
        ("bloc-europe", {}, [], "a role of this session"),
    ],
)
def test_bad_moves_are_refused_and_leave_the_file_unchanged(
    shared_session, role, settings, actions, needle
):
    session = shared_session
    before = session.path.read_bytes()
    with pytest.raises(InputError) as caught:
        session.submit(role, settings, actions)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert session.path.read_bytes() == before
    assert session.record.pending["us"].set == {"us.enforcement": 0.4}


def test_a_move_after_the_end_is_refused(tmp_path):
    session = _new(tmp_path, until="2024-04", humans=[])
    session.advance()
    assert session.finished
    before = session.path.read_bytes()
    with pytest.raises(InputError, match="ended at 2024-04"):
        session.submit("us", {"enforcement": 0.5})
    assert session.path.read_bytes() == before


def test_corrupt_or_hand_edited_files_are_refused_and_the_good_copy_kept(tmp_path):
    session = _new(tmp_path)
    session.submit("us", {"enforcement": 0.6})
    path, good = session.path, session.path.with_name("game.json.good")
    assert good.read_bytes() == path.read_bytes()
    data = json.loads(path.read_text())
    data["seed"] = 6  # a hand edit that still passes the schema
    cases = {
        "checksum": json.dumps(data),
        "JSON": "{not json",
        "format": json.dumps({"format": "something else"}),
        "schema_version": json.dumps({**data, "schema_version": 99}),
    }
    for needle, text in cases.items():
        path.write_text(text)
        with pytest.raises(InputError) as caught:
            Session.open(path)
        message = str(caught.value)
        assert needle in message and "game.json.good" in message and "\n" not in message
        assert path.read_text() == text  # never overwritten
    path.write_bytes(good.read_bytes())
    assert Session.open(path).record.pending["us"].set == {"us.enforcement": 0.6}


def test_writes_are_atomic(tmp_path, monkeypatch):
    session = _new(tmp_path)
    before = session.path.read_bytes()

    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        session.submit("us", {"enforcement": 0.9})
    assert session.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".game.json.")) == [
        ".game.json.lock"
    ]


def test_the_next_save_removes_what_a_killed_writer_left(tmp_path):
    session = _new(tmp_path)
    stale = [tmp_path / ".game.json.k1ll3d.tmp", tmp_path / ".game.json.good.x9.tmp"]
    other = tmp_path / ".other.json.abc.tmp"  # another session's: not ours to remove
    for path in [*stale, other]:
        path.write_bytes(b'{"half": ')
    session.submit("us", {"enforcement": 0.9})
    assert not any(path.exists() for path in stale)
    assert other.exists()
    assert load_record(session.path).pending["us"]


def test_two_processes_on_one_file_see_each_others_moves(tmp_path):
    room = _new(tmp_path)
    laptop = Session.open(room.path)
    laptop.submit("china", {"smuggling_demand": 0.2})
    room.submit("us", {"enforcement": 0.9})  # catches up with the laptop's move first
    assert set(load_record(room.path).pending) == {"us", "china"}
    room.advance()
    assert laptop.sync() and laptop.turns_played == 1
    pd.testing.assert_frame_equal(_table(laptop), _table(room), check_exact=True)


def test_flips_in_reports_are_explained_by_their_terms():
    session = Session.new(None, small_scenario(), seed=9, turn_months=6, until="2024-12")
    session.advance()
    report = session.report()
    flips = report.data["flips"]
    assert flips, "a year of reviews flips some governments"
    for flip in flips:
        assert abs(sum(flip["terms"].values()) - flip["lean_cn"]) < 1e-9
    china = report.data["china"]
    parts = (
        china["compute_log10"],
        china["algorithms_log10"],
        china["distillation_log10"],
        china["other_log10"],
    )
    assert abs(sum(parts) - china["capability_change"]) < 1e-12
    assert abs(sum(china["net_h100e"].values()) - china["total_h100e"]) < 1e-6 * abs(
        china["total_h100e"]
    )
    text = report.to_markdown()
    for heading in ("Why China's effective compute changed", "Governments that changed"):
        assert heading in text
    assert "<table>" in report.to_html()
