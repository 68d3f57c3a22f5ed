"""The one lever-key parser: every spelling of every key means the same lever, anything else is
refused in one line."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chipwar.world.countries import load_countries
from chipwar.world.errors import InputError
from chipwar.world.levers import (
    ACTORS,
    HUB,
    LeverKey,
    Levers,
    hub_key,
    lever_keys,
    parse_lever_key,
)
from chipwar.world.model import resolve_scenario
from chipwar.world.scenario import load_scenario, with_overrides

LEVERS = [LeverKey(actor, name) for actor, group in ACTORS.items() for name in group.model_fields]
HUBS = [LeverKey(HUB, str(iso)) for iso in load_countries().iso]
levers = st.sampled_from(LEVERS)
any_key = st.sampled_from(LEVERS + HUBS)


@given(any_key)
def test_canonical_and_keyword_spellings_round_trip(key: LeverKey) -> None:
    assert parse_lever_key(key.text) == key and str(key) == key.text
    assert parse_lever_key(key.kwarg, spelling="kwarg") == key
    assert key.kwarg == key.text.replace(".", "_", 1)


@given(levers, st.floats(0.0, 1.0))
def test_a_model_keyword_sets_the_lever_its_canonical_key_names(key: LeverKey, value: float):
    base = load_scenario("porous")
    by_keyword = resolve_scenario(base, None, {key.kwarg: value})
    assert by_keyword == with_overrides(base, {key.text: value})
    assert by_keyword.levers.get(key.text) == value


@given(st.sets(any_key, min_size=1, max_size=6), st.data())
def test_a_short_name_means_the_one_lever_of_the_role_so_named(keys, data) -> None:
    role = [k.text for k in keys]
    key = data.draw(st.sampled_from(sorted(keys)))
    same_name = [k for k in keys if k.name == key.name]
    if len(same_name) == 1:
        assert parse_lever_key(key.name, role=role) == key
    else:  # two actors with a lever so named: the short name is ambiguous
        with pytest.raises(InputError):
            parse_lever_key(key.name, role=role)
    assert parse_lever_key(key.text, role=role) == key  # full keys need no role


@given(st.text(max_size=40))
def test_anything_else_is_refused_in_one_line_naming_it(text: str) -> None:
    valid = {k.text for k in LEVERS + HUBS}
    assume(text not in valid)
    with pytest.raises(InputError) as caught:
        parse_lever_key(text, source="--set")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--set: lever = ")
    assert repr(text)[:60] in message


@given(levers)
def test_the_wrong_spelling_or_a_hub_where_none_is_allowed_is_refused(key: LeverKey) -> None:
    with pytest.raises(InputError):
        parse_lever_key(key.kwarg)  # keyword spelling where the dotted one is expected
    with pytest.raises(InputError):
        parse_lever_key(key.text, spelling="kwarg")
    with pytest.raises(InputError, match="a lever key, one of"):
        parse_lever_key(hub_key("MYS"), hubs=False)


@pytest.mark.parametrize("text", ["hub.ZZZ", "hub.mys", "hub.M", "hub.", "hub_MYS", "us.warp"])
def test_hub_codes_come_from_the_country_table(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_lever_key(text)
    assert text in str(caught.value) and "\n" not in str(caught.value)
    assert parse_lever_key("hub.MYS") == LeverKey(HUB, "MYS") and hub_key("MYS") == "hub.MYS"


def test_levers_read_and_write_through_the_parser() -> None:
    state = Levers()
    state.set("us.kyc", 0.7, source="test")
    assert state.get("us.kyc") == 0.7 and state.flat()["us.kyc"] == 0.7
    assert list(state.flat()) == lever_keys() == [k.text for k in LEVERS]
    with pytest.raises(InputError, match="hub"):
        state.set("hub.MYS", 0.5)
    with pytest.raises(InputError, match=r"a number in \[0, 1\]"):
        state.set("us.kyc", 1.5)
