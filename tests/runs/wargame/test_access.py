"""Join links: one unguessable token per role plus the facilitator's, kept beside the session."""

from __future__ import annotations

import json
import stat

import pytest

from chipwar.runs.wargame.access import (
    AccessTokens,
    Grant,
    access_path,
    ensure_access,
    read_access,
)
from chipwar.world.errors import InputError

ROLES = ["us", "china", "us-labs"]


def test_each_token_grants_exactly_its_seat():
    tokens = AccessTokens.issue("game", ROLES)
    assert tokens.grant(tokens.facilitator) == Grant("facilitator")
    for role in ROLES:
        grant = tokens.grant(tokens.roles[role])
        assert grant == Grant("team", role)
        assert grant.may_act_as(role)
        assert not grant.may_act_as("china" if role != "china" else "us")
    assert Grant("facilitator").may_act_as("china")
    for bad in ("", None, "x", tokens.facilitator[:-1], tokens.facilitator + "x", " " * 43):
        assert tokens.grant(bad) is None


def test_tokens_are_long_random_and_distinct():
    a, b = AccessTokens.issue("game", ROLES), AccessTokens.issue("game", ROLES)
    values = [a.facilitator, *a.roles.values(), b.facilitator, *b.roles.values()]
    assert len(set(values)) == len(values)
    assert all(len(v) >= 43 for v in values)  # 32 random bytes, URL-safe base64


def test_links_carry_the_token_in_the_query():
    tokens = AccessTokens.issue("game", ROLES)
    links = tokens.links("http://127.0.0.1:8765")
    assert list(links) == ["facilitator", *ROLES]
    assert links["us"] == f"http://127.0.0.1:8765/?token={tokens.roles['us']}"


def test_sidecar_file_is_private_reused_extended_and_renewed(tmp_path):
    session = tmp_path / "game.json"
    assert access_path(session) == tmp_path / "game.access.json"
    first, written = ensure_access(session, "game", ["us", "china"])
    assert written
    path = access_path(session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, written = ensure_access(session, "game", ["us", "china"])
    assert not written and again == first  # links handed out keep working
    more, written = ensure_access(session, "game", ["us", "china", "allies"])
    assert written and more.roles["us"] == first.roles["us"] and "allies" in more.roles
    assert read_access(path).roles == more.roles
    renewed, _ = ensure_access(session, "game", ["us"], renew=True)
    assert renewed.facilitator != first.facilitator
    assert renewed.grant(first.roles["us"]) is None  # old links stop working
    assert not list(tmp_path.glob(".game.access.json.*"))  # no temporary files left


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"format": "other"}),
        json.dumps({"format": "chipwar-wargame-access", "facilitator": "short", "roles": {}}),
        json.dumps(
            {"format": "chipwar-wargame-access", "facilitator": "f" * 43, "roles": {"us": 1}}
        ),
    ],
)
def test_a_bad_sidecar_is_refused_with_one_line(tmp_path, content):
    path = tmp_path / "game.access.json"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_access(path)
    assert "\n" not in str(err.value) and "game.access.json" in str(err.value)
