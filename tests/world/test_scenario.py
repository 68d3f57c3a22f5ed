"""Scenario files: presets, validation with clear errors, overrides, round trips."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability import assert_clean_refusal, run_cli

from chipwar.world.errors import InputError
from chipwar.world.levers import Levers, lever_keys
from chipwar.world.scenario import (
    levers_wait_warning,
    list_presets,
    load_scenario,
    parse_assignment,
    scenario_from_dict,
    with_overrides,
)
from chipwar.world.timeline import history_timeline


def test_the_three_presets_ship_with_descriptions():
    presets = dict(list_presets())
    assert {"current-policy", "loopholes-closed", "porous"} <= presets.keys()
    assert all(len(text) > 20 for text in presets.values())


def test_presets_differ_in_us_levers_only_where_intended():
    closed, porous = load_scenario("loopholes-closed"), load_scenario("porous")
    assert closed.levers.us.enforcement > porous.levers.us.enforcement
    assert closed.levers.us.kyc > porous.levers.us.kyc
    assert closed.levers.china == porous.levers.china  # same Chinese intent in both worlds


def test_resolved_scenario_round_trips_through_toml():
    scenario = with_overrides(load_scenario("porous"), {"us.enforcement": 0.42, "scale": 5000})
    again = scenario_from_dict(tomllib.loads(scenario.to_toml()), "round trip")
    assert again.levers == scenario.levers
    assert again.scale == 5000
    assert again.parameters() == scenario.parameters()


@pytest.mark.parametrize(
    "text, field",
    [
        ('name = "x"\nscale = 10\n', "scale"),
        ('name = "x"\nstart = "2024-13"\n', "start"),
        ('name = "x"\nbogus = 1\n', "bogus"),
        ("[levers.us]\nenforcement = 1.5\n", "levers.us.enforcement"),
        ("[levers.us]\nenforcment = 0.5\n", "levers.us.enforcment"),
        ("[levers.martians]\nx = 0.5\n", "levers.martians"),
        ("[params]\ndetection_base = 5.0\n", "params.detection_base"),
        ("[params]\nno_such = 1.0\n", "params.no_such"),
        ('[[events]]\ndate = "2027-01"\nset = { "us.nope" = 0.5 }\n', "events.0.set"),
        ('end = "2020-01"\n', "(top level)"),
        ("this is = = not toml", "TOML syntax"),
    ],
)
def test_bad_scenario_files_name_the_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert field in message
    assert "\n" not in message


def test_binary_and_missing_files_are_refused(tmp_path):
    junk = tmp_path / "junk.toml"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="UTF-8"):
        load_scenario(junk)
    with pytest.raises(InputError, match="preset"):
        load_scenario("no-such-preset")


@given(st.sampled_from(lever_keys()), st.floats(allow_nan=True, allow_infinity=True))
def test_any_lever_value_outside_unit_interval_is_refused(key, value):
    scenario = load_scenario("current-policy")
    if 0.0 <= value <= 1.0:
        assert with_overrides(scenario, {key: value}).levers.get(key) == value
    else:
        with pytest.raises(InputError):
            with_overrides(scenario, {key: value})


@pytest.mark.parametrize("text", ["us.enforcement", "=0.3", "us.enforcement=high", "x=nan"])
def test_bad_assignments_are_refused(text):
    with pytest.raises(InputError):
        parse_assignment(text)


def test_levers_reject_out_of_range_assignment():
    levers = Levers()
    with pytest.raises(InputError):
        levers.set("us.kyc", 2.0)
    levers.set("us.kyc", 0.7)
    assert levers.get("us.kyc") == 0.7


def test_history_timeline_is_ordered_and_uses_known_keys():
    timeline = history_timeline()
    months = [event.month for event in timeline.events]
    assert months == sorted(months)
    assert set(timeline.initial) == set(lever_keys())
    assert all(event.source for event in timeline.events)


def test_lever_defaults_are_the_policy_in_force_when_history_ends():
    timeline = history_timeline()
    in_force = dict(timeline.initial)
    for event in timeline.events:
        in_force.update({k: v for k, v in event.settings.items() if not k.startswith("hub.")})
    assert Levers().flat() == pytest.approx(in_force)


# Empty, blank (any Unicode whitespace) and comment-only files would mean "all defaults" and are
# refused: one line naming the file, exit status 2 (world/validation.py read_toml).
BLANK = st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2003\u3000", max_size=40)


@given(BLANK)
def test_a_blank_scenario_file_is_refused_in_one_line_naming_it(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("blank")
    path = folder / "blank.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["run", "--scenario", str(path), "--out", str(folder / "out")])
    assert_clean_refusal(code, err, f"chipwar run: error: {path}: file = ", "at least one setting")
    assert out == "" and not (folder / "out").exists()


def test_a_scenario_file_of_comments_only_is_refused(tmp_path):
    path = tmp_path / "comments.toml"
    path.write_text("# a scenario to be written\n\n# later\n", encoding="utf-8")
    with pytest.raises(InputError, match="'only comments': a TOML file with at least one setting"):
        load_scenario(path)


def test_levers_wait_for_the_branch_date_only_while_the_history_runs():
    porous = load_scenario("porous")  # branch 2026-06
    keys = ["us.kyc", "scale", "params.detection_base", "us.kyc"]
    warning = levers_wait_warning(porous, "2026-05", keys, "--until", "scenario porous") or ""
    assert "\n" not in warning
    assert warning.startswith(
        "--until 2026-05 is before the branch date 2026-06 of scenario porous"
    )
    assert warning.endswith("so us.kyc has no effect")  # named once; scale and params act at once
    assert levers_wait_warning(porous, "2026-06", keys, "--until", "x") is None  # acts that month
    assert levers_wait_warning(porous, "2026-05", ["scale"], "--until", "x") is None
    no_history = porous.model_copy(update={"history": False})
    assert levers_wait_warning(no_history, "2024-03", keys, "--until", "x") is None


def test_changed_levers_are_the_ones_a_scenario_moves_from_their_defaults():
    assert load_scenario("current-policy").changed_levers() == []
    assert "us.kyc" in load_scenario("loopholes-closed").changed_levers()
    moved = with_overrides(load_scenario("current-policy"), {"china.export_push": 0.9})
    assert moved.changed_levers() == ["china.export_push"]
