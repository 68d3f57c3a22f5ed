"""Fuzzed wargame session files and moves: one line naming the file and the field, exit status 2,
and the session, its good copy and everything beside them left byte for byte as they were.

Session files are damaged the ways disks and people damage them (truncated, bits flipped, bytes
inserted, binary junk, empty, huge, not UTF-8, deeply nested) and also crafted: a wrong value in
one field with the checksum recomputed, so that the schema and the replay must catch it.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability import assert_clean_refusal, folder_hashes, run_cli, tally

from chipwar.runs.wargame.session import (
    MAX_SESSION_BYTES,
    Session,
    checksum_of,
    good_copy_path,
    load_record,
)
from chipwar.world.errors import InputError
from chipwar.world.levers import lever_keys


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A folder with a session one turn in, a pending move, its good copy and its lock file."""
    folder = tmp_path_factory.mktemp("template")
    session = Session.new(
        folder / "game.json",
        small_scenario(),
        seed=5,
        turn_months=3,
        until="2024-10",
        humans=["us", "china"],
        keep_checkpoint=False,
    )
    session.submit("us", {"enforcement": 0.7}, ["raid:MYS"])
    session.submit("china", {"smuggling_demand": 0.9}, ["buying-spree"])
    session.advance()
    session.submit("us", {"kyc": 0.4})
    return folder


def _copy(template: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("game")
    for path in template.iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    return folder / "game.json"


def _status_refused(path: Path) -> tuple[int, str]:
    before = folder_hashes(path.parent)
    code, _, err = run_cli(["wargame", "status", str(path)])
    assert folder_hashes(path.parent) == before, "a command on a bad session changed a file"
    return code, err


# --- damaged bytes ----------------------------------------------------------------------------
@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "insert", "overwrite", "junk", "text"]))
    data = bytearray(good)
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 3))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if how == "insert":
        position = draw(st.integers(0, len(data)))
        return bytes(data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:])
    if how == "overwrite":
        start = draw(st.integers(0, len(data) - 1))
        junk = draw(st.binary(min_size=1, max_size=16))
        return bytes(data[:start] + junk + data[start + len(junk) :])
    if how == "junk":
        return draw(st.binary(max_size=400))
    return draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")


@settings(max_examples=100)
@given(data=st.data())
def test_a_damaged_session_file_is_refused_and_nothing_changes(template, tmp_path_factory, data):
    good = (template / "game.json").read_bytes()
    path = _copy(template, tmp_path_factory)
    content = data.draw(damaged(good))
    path.write_bytes(content)
    code, err = _status_refused(path)
    try:
        load_record(path)
    except InputError:
        assert_clean_refusal(code, err, f"error: {path}: ", str(good_copy_path(path)))
        tally("session JSON (damaged bytes)", "refused")
    else:  # the damage left a valid file (say, only the final newline cut off)
        assert code == 0, err
        tally("session JSON (damaged bytes)", "accepted")


# --- crafted: one field wrong, checksum recomputed --------------------------------------------
def _resealed(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(record: dict[str, Any]) -> None:
        change(record)
        record.pop("checksum", None)
        record["checksum"] = checksum_of(record)

    return apply


def _set(*where: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        target = record
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value

    return change


CRAFTED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("seed negative", _resealed(_set("seed", value=-1)), "seed"),
    ("seed too big", _resealed(_set("seed", value=2**63)), "seed"),
    ("seed as text", _resealed(_set("seed", value="5")), "seed"),
    ("seed as float", _resealed(_set("seed", value=5.0)), "seed"),
    ("turn_months 0", _resealed(_set("turn_months", value=0)), "turn_months"),
    ("turn_months 25", _resealed(_set("turn_months", value=25)), "turn_months"),
    ("start bad date", _resealed(_set("start", value="2024-13")), "start"),
    ("end before start", _resealed(_set("end", value="2024-01")), "end"),
    ("end after scenario", _resealed(_set("end", value="2031-01")), "end"),
    ("unknown role", _resealed(_set("roles", "mars", value={"player": "bot"})), "mars"),
    ("no roles", _resealed(_set("roles", value={})), "roles"),
    ("alien player", _resealed(_set("roles", "us", "player", value="alien")), "player"),
    (
        "mad personality",
        _resealed(_set("roles", "allies", "personality", value="mad")),
        "personality",
    ),
    ("turn number", _resealed(_set("turns", 0, "number", value=2)), "turn 1"),
    ("turn digest", _resealed(_set("turns", 0, "digest", value="xyz")), "digest"),
    ("turn months", _resealed(_set("turns", 0, "months", value=99)), "months"),
    ("move role", _resealed(_set("turns", 0, "moves", 0, "role", value="mars")), "mars"),
    (
        "move lever value",
        _resealed(_set("turns", 0, "moves", 0, "set", value={"us.enforcement": 5.0})),
        "us.enforcement",
    ),
    (
        "move lever nan",
        _resealed(_set("turns", 0, "moves", 0, "set", value={"us.enforcement": "NaN"})),
        "us.enforcement",
    ),
    (
        "move foreign lever",
        _resealed(_set("turns", 0, "moves", 0, "set", value={"china.smuggling_demand": 0.5})),
        "china.smuggling_demand",
    ),
    ("move action", _resealed(_set("turns", 0, "moves", 0, "actions", value=["nuke"])), "nuke"),
    (
        "move raid unknown hub",
        _resealed(_set("turns", 0, "moves", 0, "actions", value=["raid:ZZZ"])),
        "raid:ZZZ",
    ),
    (
        "pending of another role",
        _resealed(_set("pending", "china", value={"role": "us"})),
        "pending",
    ),
    (
        "scenario lever",
        _resealed(_set("scenario", "levers", "us", "enforcement", value=2.0)),
        "enforcement",
    ),
    ("scenario lever bool", _resealed(_set("scenario", "levers", "us", "kyc", value=True)), "kyc"),
    ("scenario scale", _resealed(_set("scenario", "scale", value=5)), "scale"),
    (
        "scenario param",
        _resealed(_set("scenario", "params", "detection_base", value=99.0)),
        "detection_base",
    ),
    (
        "scenario hub event",
        _resealed(_set("scenario", "events", value=[{"date": "2025-01", "set": {"hub.ZZZ": 0.5}}])),
        "hub.ZZZ",
    ),
    ("extra key", _resealed(_set("hack", value=1)), "hack"),
    ("name empty", _resealed(_set("name", value="")), "name"),
    ("revision negative", _resealed(_set("revision", value=-1)), "revision"),
    ("schema version", _resealed(_set("schema_version", value=2)), "schema_version"),
    ("format", _resealed(_set("format", value="something-else")), "format"),
    ("checksum only", _set("seed", value=6), "checksum"),
    ("checksum removed", lambda r: r.pop("checksum"), "checksum"),
]


@pytest.mark.parametrize("change, needle", [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_a_crafted_session_file_is_refused_naming_the_field(
    template, tmp_path_factory, change, needle
):
    path = _copy(template, tmp_path_factory)
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    code, err = _status_refused(path)
    assert_clean_refusal(code, err, str(path), needle)
    tally("session JSON (one field wrong, checksum resealed)", "refused")


def test_empty_huge_nested_and_non_utf8_session_files(template, tmp_path_factory):
    path = _copy(template, tmp_path_factory)
    good = path.read_bytes()
    cases: dict[str, Callable[[Path], None]] = {
        "JSON": lambda p: p.write_bytes(b""),
        f"at most {MAX_SESSION_BYTES} bytes": lambda p: _sparse(p, 60_000_000),
        "schema_version": lambda p: p.write_bytes(
            b'{"format": "chipwar-wargame-session", "pad": "'
            + b"x" * (MAX_SESSION_BYTES - 100)
            + b'"}'
        ),  # just under the cap: read and parsed, quickly
        "nested less deeply": lambda p: p.write_bytes(b"[" * 100_000),
        "UTF-8": lambda p: p.write_bytes(good.replace(b'"name": "game"', b'"name": "g\xe9me"')),
        "format": lambda p: p.write_bytes(b"[1, 2, 3]"),
    }
    for needle, write in cases.items():
        write(path)
        code, err = _status_refused(path)
        assert_clean_refusal(code, err, str(path), needle)
        tally("session JSON (empty, huge, nested, not UTF-8)", "refused")
    for special in (Path("/dev/zero"), path.parent):
        code, _, err = run_cli(["wargame", "status", str(special)])
        assert_clean_refusal(code, err, str(special), "an existing session file")
        tally("session JSON (empty, huge, nested, not UTF-8)", "refused")


def _sparse(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        handle.truncate(size)


# --- moves -----------------------------------------------------------------------------------
ROLES = ["us", "china", "us-labs", "cn-labs", "allies", "bloc-southeast_asia", "mars", "US", ""]
KEYS = [
    "enforcement",
    "us.enforcement",
    "kyc",
    "smuggling_demand",
    "china.smuggling_demand",
    "intel",
    "hub.MYS",
    "hub.ZZZ",
    "warp_drive",
    "us.",
    "",
    *lever_keys(),
]
VALUES = ["0.5", "0", "1", "-0", "1.0000001", "-0.1", "nan", "inf", "-inf", "1e999", "", "0x1"]
ACTIONS = ["raid:MYS", "raid:ZZZ", "raid", "kyc-rule", "finance-drive", "buying-spree", "nuke"]
MOVES = st.tuples(
    st.sampled_from(ROLES),
    st.lists(
        st.tuples(st.sampled_from(KEYS), st.one_of(st.sampled_from(VALUES), st.text(max_size=5))),
        max_size=3,
    ),
    st.lists(st.one_of(st.sampled_from(ACTIONS), st.text(max_size=8)), max_size=4),
)


def _move_argv(path: Path, role: str, settings_: list, actions: list) -> list[str]:
    argv = ["wargame", "move", str(path), "--role", role]
    for key, value in settings_:
        argv += ["--set", f"{key}={value}"]
    for action in actions:
        argv += [f"--action={action}"]
    return argv


@settings(max_examples=40)
@given(move=MOVES)
def test_any_move_is_recorded_or_refused_leaving_the_files_alone(template, tmp_path_factory, move):
    """Moves from the command line: a refused one names what was wrong and changes no file."""
    role, settings_, actions = move
    path = _copy(template, tmp_path_factory)
    before = folder_hashes(path.parent)
    code, _, err = run_cli(_move_argv(path, role, settings_, actions))
    if code == 0:
        assert err == ""
        tally("wargame moves (command line)", "accepted")
        return
    assert folder_hashes(path.parent) == before, "a refused move changed a file"
    assert_clean_refusal(code, err)
    if "--set" in err:  # refused while parsing KEY=VALUE, before the session is opened
        assert any(f"{k}" in err for k, _ in settings_), err
    else:  # the session file, and the field: the role, a lever key or an action
        prefix = f"chipwar wargame: error: {path} move --role {role}: "
        assert err.startswith(prefix), err
        field = err.removeprefix(prefix).split(" = ")[0]
        assert field in ("role", "lever", "action", "actions") or field in KEYS, err
    tally("wargame moves (command line)", "refused")


@pytest.fixture(scope="module")
def live(template, tmp_path_factory) -> Session:
    path = _copy(template, tmp_path_factory)
    return Session.open(path, keep_checkpoint=False)


@settings(max_examples=200)
@given(
    role=st.sampled_from(ROLES),
    values=st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-5, 5),
            st.booleans(),
            st.text(max_size=4),
            st.none(),
        ),
        max_size=3,
    ),
    actions=st.lists(st.one_of(st.sampled_from(ACTIONS), st.text(max_size=8)), max_size=5),
)
def test_any_move_through_the_session_api_is_checked_before_it_is_written(
    live, role, values, actions
):
    """The API the dashboard drives: the same rules, many more moves (no replay per example)."""
    before = live.path.read_bytes()
    try:
        move = live.submit(role, values, actions)
    except InputError as err:
        assert "\n" not in str(err)
        assert live.path.read_bytes() == before
        tally("wargame moves (session API)", "refused")
        return
    assert all(0.0 <= v <= 1.0 and math.isfinite(v) for v in move.set.values())
    assert load_record(live.path).pending[role] == move
    tally("wargame moves (session API)", "accepted")


@pytest.mark.parametrize(
    "text, needle",
    [
        ('set = { enforcement = "0.8" }\n', "set.enforcement"),
        ("set = { enforcement = true }\n", "set.enforcement"),
        ("set = { enforcement = nan }\n", "us.enforcement"),
        ("set = { enforcement = inf }\n", "us.enforcement"),
        ("set = { enforcement = 2 }\n", "us.enforcement"),
        ('actions = "raid:MYS"\n', "actions"),
        ("actions = [1]\n", "actions.0"),
        ('role = "china"\n', "role"),
        ("note = 5\n", "note"),
        ("colour = 1\n", "colour"),
        ("set = [", "TOML syntax"),
        ("\udcff", "UTF-8"),
    ],
)
def test_bad_moves_files_are_refused_naming_file_and_field(
    template, tmp_path_factory, text, needle
):
    path = _copy(template, tmp_path_factory)
    moves = path.parent / "moves.toml"
    moves.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = folder_hashes(path.parent)
    code, _, err = run_cli(["wargame", "move", str(path), "--role", "us", "--file", str(moves)])
    assert_clean_refusal(code, err, str(moves), needle)
    assert folder_hashes(path.parent) == before
    tally("wargame moves file TOML", "refused")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--human", "mars"], "mars"),
        (["--human", "us,bloc-atlantis"], "bloc-atlantis"),
        (["--bots", "berserk"], "berserk"),
        (["--doctrine", "china"], "ROLE=PERSONALITY"),
        (["--doctrine", "china=mad"], "mad"),
        (["--blocs", "atlantis"], "atlantis"),
        (["--start", "2031-13"], "start"),
        (["--until", "2031-13"], "until"),
        (["--until", "2023-01"], "until"),
        (["--turn-months", "0"], "turn_months"),
        (["--turn-months", "25"], "turn_months"),
        (["--scale", "5"], "scale"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_bad_new_session_options_are_refused_and_no_file_is_written(tmp_path, argv, needle):
    game = tmp_path / "new.json"
    scenario = tmp_path / "small.toml"
    scenario.write_text('name = "small"\nhistory = false\nscale = 1000\n')
    before = folder_hashes(tmp_path)
    code, _, err = run_cli(["wargame", "new", str(game), "--scenario", str(scenario), *argv])
    assert_clean_refusal(code, err, needle)
    assert folder_hashes(tmp_path) == before and not game.exists()
    tally("wargame new options", "refused")
