"""`chipwar wargame`: the scripted end-to-end game, and one-line refusals that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability import assert_clean_refusal, folder_hashes, run_cli

from chipwar.runs.cli.main import main

SMALL = 'name = "small"\nhistory = false\nscale = 1000\n'


def _ok(capsys, *argv: str) -> str:
    code = main(["wargame", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _refused(capsys, *argv: str) -> str:
    code = main(["wargame", *argv])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def _small_game(tmp_path: Path, capsys) -> Path:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    game = tmp_path / "game.json"
    _ok(
        capsys,
        "new",
        str(game),
        "--scenario",
        str(scenario),
        "--seed",
        "3",
        "--turn-months",
        "3",
        "--until",
        "2024-07",
        "--human",
        "us,china",
    )
    return game


@pytest.fixture
def small_game(tmp_path, capsys) -> Path:
    return _small_game(tmp_path, capsys)


@pytest.fixture(scope="module")
def shared_game(tmp_path_factory) -> Path:
    """One game for the refusals (a refused move changes nothing)."""
    folder = tmp_path_factory.mktemp("shared")
    (folder / "small.toml").write_text(SMALL)
    game = folder / "game.json"
    argv = ["new", str(game), "--scenario", str(folder / "small.toml"), "--seed", "3"]
    assert main(["wargame", *argv, "--until", "2024-07", "--human", "us,china"]) == 0
    return game


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--role", "us", "--set", "enforcement=2"], "a number in [0, 1]"),
        (["--role", "us", "--set", "enforcement=lots"], "a number"),
        (["--role", "us", "--set", "nonsense=0.5"], "us's levers"),
        (["--role", "china", "--set", "us.kyc=0.5"], "belongs to role us"),
        (["--role", "us", "--action", "teleport"], "an action of role us"),
        (["--role", "us", "--action", "raid:XXX"], "raid:<HUB>"),
        (["--role", "spectre"], "a role of this session"),
    ],
)
def test_bad_moves_are_refused_with_one_line_and_the_file_unchanged(
    shared_game, capsys, argv, needle
):
    capsys.readouterr()
    before = shared_game.read_bytes()
    err = _refused(capsys, "move", str(shared_game), *argv)
    assert needle in err
    assert shared_game.read_bytes() == before


def test_moves_file_for_another_role_and_advance_without_moves_are_refused(
    small_game, tmp_path, capsys
):
    moves = tmp_path / "moves.toml"
    moves.write_text('role = "china"\nset = { smuggling_demand = 0.9 }\n')
    before = small_game.read_bytes()
    assert "cannot move for another" in _refused(
        capsys, "move", str(small_game), "--role", "us", "--file", str(moves)
    )
    assert "a move from every human role" in _refused(capsys, "advance", str(small_game))
    moves.write_text("set = { smuggling_demand = 0.9 }\nbogus = 1\n")
    assert "bogus" in _refused(
        capsys, "move", str(small_game), "--role", "china", "--file", str(moves)
    )
    assert small_game.read_bytes() == before
    assert "it exists" in _refused(capsys, "new", str(small_game), "--scenario", "porous")


def test_a_move_after_the_end_is_refused(small_game, capsys):
    _ok(capsys, "advance", str(small_game), "--force", "--turns", "5", "--no-files")
    assert "finished" in _ok(capsys, "status", str(small_game))
    before = small_game.read_bytes()
    assert "ended at 2024-07" in _refused(
        capsys, "move", str(small_game), "--role", "us", "--set", "kyc=0.5"
    )
    assert "ended" in _refused(capsys, "advance", str(small_game))
    assert small_game.read_bytes() == before


@pytest.mark.slow
def test_scripted_game_four_turns_two_teams_bots_undo_and_fork(tmp_path, capsys):
    """The end-to-end game: us and china are teams, the other roles bots; undo and fork."""
    game, out = tmp_path / "game.json", tmp_path / "game.d"
    text = _ok(
        capsys,
        "new",
        str(game),
        "--scenario",
        "current-policy",
        "--seed",
        "7",
        "--scale",
        "1000",
        "--human",
        "us,china",
        "--doctrine",
        "cn-labs=hawk",
        "--until",
        "2028-05",
    )
    assert "turn 1 of 4 open: 2026-06..2026-11" in text
    assert {p.name for p in (out / "briefs").iterdir()} == {
        "us",
        "china",
        "us-labs",
        "cn-labs",
        "allies",
        "bloc-southeast_asia",
    }
    moves = tmp_path / "china.toml"
    moves.write_text(
        'role = "china"\nset = { smuggling_demand = 0.8, domestic_investment = 0.8 }\n'
        'actions = ["buying-spree"]\nnote = "buy while the doors are open"\n'
    )
    # Turn 1
    _ok(
        capsys,
        "move",
        str(game),
        "--role",
        "us",
        "--set",
        "enforcement=0.7",
        "--action",
        "raid:MYS",
    )
    assert "ready to advance" in _ok(
        capsys, "move", str(game), "--role", "china", "--file", str(moves)
    )
    assert "turn 1 played" in _ok(capsys, "advance", str(game))
    # Turn 2
    _ok(
        capsys,
        "move",
        str(game),
        "--role",
        "us",
        "--set",
        "kyc=0.6",
        "--set",
        "stack_promotion=0.6",
        "--action",
        "finance-drive",
        "--set",
        "intel=0.8",
    )
    _ok(
        capsys,
        "move",
        str(game),
        "--role",
        "china",
        "--set",
        "export_push=0.7",
        "--action",
        "export-offensive",
    )
    _ok(capsys, "advance", str(game))
    report2 = (out / "turn-02" / "report.md").read_text()
    assert report2.startswith("# Turn 2: 2026-12 to 2027-05")
    for section in (
        "Headlines",
        "Moves",
        "Why China's effective compute changed",
        "Why the lead changed",
        "Smuggling and enforcement by hub",
        "Key events",
    ):
        assert f"## {section}" in report2
    assert "action `finance-drive`" in report2 and "`us.kyc` 0.00 -> 0.60" in report2
    assert "china.smuggling_demand" not in report2.split("## Why")[0]  # covert stays hidden
    for name in ("report.html", "china_compute.png", "lead_gap.png", "adoption.png"):
        assert (out / "turn-02" / name).stat().st_size > 500, name
    (tmp_path / "turn2-report.md").write_text(report2)
    # Turn 3: china forgets to move; the facilitator refuses, then undoes a forced turn.
    _ok(capsys, "move", str(game), "--role", "us", "--set", "enforcement=0.9")
    before = game.read_bytes()
    assert "china" in _refused(capsys, "advance", str(game))
    assert game.read_bytes() == before
    _ok(capsys, "advance", str(game), "--force")
    forced = json.loads(game.read_text())["turns"][2]
    assert forced["carried"] == ["china"]
    assert "undid turn 3" in _ok(capsys, "undo", str(game))
    assert not (out / "turn-03").exists()
    _ok(capsys, "move", str(game), "--role", "us", "--set", "enforcement=0.9")
    _ok(capsys, "move", str(game), "--role", "china", "--set", "smuggling_demand=0.5")
    _ok(capsys, "advance", str(game))
    # Turn 4, then the end.
    _ok(capsys, "move", str(game), "--role", "us", "--action", "kyc-rule")
    _ok(capsys, "move", str(game), "--role", "china", "--set", "surveillance_bundle=0.7")
    assert "session has ended" in _ok(capsys, "advance", str(game))
    record = json.loads(game.read_text())
    assert [t["number"] for t in record["turns"]] == [1, 2, 3, 4]
    assert all(m["by"].startswith("bot:") for m in record["turns"][0]["moves"][2:])
    assert record["turns"][0]["moves"][3]["by"] == "bot:hawk"
    # Briefs: each role's own file; the US brief shows China's covert levers as estimates.
    brief = _ok(capsys, "brief", str(game), "--role", "us", "--turn", "3")
    assert "Brief for US government" in brief and "~" in brief
    data = json.loads(_ok(capsys, "brief", str(game), "--role", "china", "--json"))
    assert data["role"] == "china" and data["period"] is None
    # Fork at turn 2 and look ahead from there.
    _ok(capsys, "fork", str(game), str(tmp_path / "fork.json"), "--at-turn", "2")
    fork = json.loads((tmp_path / "fork.json").read_text())
    assert fork["turns"] == record["turns"][:2] and fork["pending"] == {}
    text = _ok(capsys, "outlook", str(tmp_path / "fork.json"), "--seeds", "3")
    assert "Outlook from 2027-05" in text and "median" in text
    assert (tmp_path / "fork.d" / "outlook-turn-02" / "outlook.png").exists()
    # Report and export.
    assert "# Turn 2" in _ok(capsys, "report", str(game), "--turn", "2")
    _ok(capsys, "export", str(game), "--out", str(tmp_path / "run"))
    series = pd.read_parquet(tmp_path / "run" / "series.parquet")
    assert series["date"].iloc[-1] == "2028-05"


@pytest.mark.slow
def test_cli_session_equals_chipwar_run_of_a_scenario_file(tmp_path, capsys):
    """Moves at turn starts == the same settings as dated events in a scenario file."""
    scenario = tmp_path / "plan.toml"
    scenario.write_text(
        'name = "plan"\nscale = 1000\n\n[[events]]\ndate = "2026-12"\n'
        'set = { "us.enforcement" = 0.8, "china.distillation_effort" = 0.2 }\n'
    )
    assert (
        main(
            [
                "run",
                "--scenario",
                str(scenario),
                "--seed",
                "5",
                "--until",
                "2027-05",
                "--out",
                str(tmp_path / "ran"),
            ]
        )
        == 0
    )
    game = tmp_path / "game.json"
    all_roles = "us,china,us-labs,cn-labs,allies,bloc-southeast_asia"
    _ok(
        capsys,
        "new",
        str(game),
        "--scenario",
        "current-policy",
        "--seed",
        "5",
        "--scale",
        "1000",
        "--human",
        all_roles,
        "--until",
        "2027-05",
    )
    _ok(capsys, "advance", str(game), "--force")
    _ok(capsys, "move", str(game), "--role", "us", "--set", "enforcement=0.8")
    _ok(capsys, "move", str(game), "--role", "cn-labs", "--set", "distillation_effort=0.2")
    _ok(capsys, "advance", str(game), "--force")
    _ok(capsys, "export", str(game), "--out", str(tmp_path / "played"))
    for name in ("series.parquet", "countries.parquet"):
        ran = pd.read_parquet(tmp_path / "ran" / name)
        played = pd.read_parquet(tmp_path / "played" / name)
        pd.testing.assert_frame_equal(played, ran, check_exact=True)


@given(st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2003\u3000", max_size=40))
def test_a_blank_moves_file_is_refused_in_one_line_naming_it(shared_game, tmp_path_factory, text):
    moves = tmp_path_factory.mktemp("moves") / "moves.toml"
    moves.write_text(text, encoding="utf-8")
    before = folder_hashes(shared_game.parent)
    code, out, err = run_cli(
        ["wargame", "move", str(shared_game), "--role", "us", "--file", str(moves)]
    )
    assert_clean_refusal(code, err, f"chipwar wargame: error: {moves}: file = ", "one setting")
    assert out == "" and folder_hashes(shared_game.parent) == before
