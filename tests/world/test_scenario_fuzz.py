"""Fuzzed scenario files through `chipwar run`: every bad file is refused with one line naming the
file and the field, exit status 2, and no existing file changes.

Each example goes through the real command line in this process. ``--until 2023-12`` lies before
every scenario's start, so a file that turns out valid is refused for ``--until`` instead and no
model is ever built: the examples stay cheap and a valid file is recognised by that message.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import pytest
import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reliability import assert_clean_refusal, folder_hashes, run_cli, tally

from chipwar.world.errors import InputError
from chipwar.world.levers import lever_keys
from chipwar.world.parameters import parameter_table
from chipwar.world.scenario import load_scenario
from chipwar.world.validation import MAX_INPUT_BYTES

BASE = {
    "name": "fuzz",
    "description": "a valid scenario that each example breaks in one place",
    "history": False,
    "branch": "2024-01",
    "scale": 1000,
    "levers": {"us": {"enforcement": 0.5}, "china": {"smuggling_demand": 0.7}},
    "params": {"detection_base": parameter_table()["detection_base"].value},
    "events": [{"date": "2027-01", "set": {"us.kyc": 0.5, "hub.MYS": 0.6}, "label": "x"}],
}

NON_FINITE = [math.nan, math.inf, -math.inf]
WRONG_TYPES = ["0.5", True, [0.5], {"a": 1}, "", "nan"]
BAD_DATES = ["2031-13", "2024-00", "2024-1", "24-01", "soon", "", "1899-12", "2024-13-01", 202401]
PARAMS = sorted(parameter_table())


def _param_out_of_range(name: str) -> list[float]:
    spec = parameter_table()[name]
    width = max(spec.max - spec.min, 1.0)
    return [spec.min - width, spec.max + width, -1e308, 1e308]


@st.composite
def broken_scenarios(draw: st.DrawFn) -> tuple[dict, str]:
    """A valid scenario broken in one field; (data, a word the refusal must name)."""
    data = copy.deepcopy(BASE)
    kind = draw(
        st.sampled_from(
            [
                "lever",
                "unknown_lever",
                "unknown_actor",
                "param",
                "unknown_param",
                "scale",
                "date",
                "event_date",
                "event_value",
                "event_key",
                "unknown_key",
                "name",
                "history",
                "dates_order",
            ]
        )
    )
    if kind == "lever":
        key = draw(st.sampled_from(lever_keys()))
        actor, name = key.split(".")
        value = draw(
            st.one_of(
                st.sampled_from(NON_FINITE + WRONG_TYPES),
                st.floats(1.0, 1e300, exclude_min=True),
                st.floats(-1e300, 0.0, exclude_max=True),
            )
        )
        data["levers"].setdefault(actor, {})[name] = value
        return data, name
    if kind == "unknown_lever":
        actor = draw(st.sampled_from(["us", "china", "allies"]))
        name = draw(st.from_regex(r"\A[a-z_]{3,12}\Z")).strip("_") or "zz"
        if f"{actor}.{name}" in lever_keys():
            name += "_x"
        data["levers"].setdefault(actor, {})[name] = 0.5
        return data, name
    if kind == "unknown_actor":
        actor = draw(st.sampled_from(["martians", "eu", "US", "russia"]))
        data["levers"][actor] = {"enforcement": 0.5}
        return data, actor
    if kind == "param":
        name = draw(st.sampled_from(PARAMS))
        value = draw(st.sampled_from(_param_out_of_range(name) + NON_FINITE + WRONG_TYPES))
        data["params"][name] = value
        return data, name
    if kind == "unknown_param":
        name = draw(st.from_regex(r"\A[a-z][a-z_]{2,15}\Z"))
        if name in PARAMS:
            name += "_x"
        data["params"][name] = 1.0
        return data, name
    if kind == "scale":
        data["scale"] = draw(
            st.sampled_from([0, -5, 999, 50_000_001, 2**62, 1000.5, "1000", True, *NON_FINITE])
        )
        return data, "scale"
    if kind == "date":
        field = draw(st.sampled_from(["start", "end", "branch"]))
        data[field] = draw(st.sampled_from(BAD_DATES))
        return data, field
    if kind == "event_date":
        data["events"][0]["date"] = draw(st.sampled_from([*BAD_DATES, "2031-01", "2023-12"]))
        return data, "date"
    if kind == "event_value":
        data["events"][0]["set"]["us.kyc"] = draw(
            st.sampled_from([1.5, -0.1, *NON_FINITE, "0.5", True])
        )
        return data, "set"
    if kind == "event_key":
        key = draw(st.sampled_from(["hub.ZZZ", "hub.XXX", "hub.mys", "hub.M", "us.warp", "x"]))
        data["events"][0]["set"][key] = 0.5
        return data, "set"
    if kind == "unknown_key":
        key = draw(st.from_regex(r"\A[a-z][a-z_]{1,12}\Z"))
        if key in BASE or key in ("start", "end", "branch"):
            key += "_x"
        data[key] = draw(st.sampled_from([1, "x", 0.5, [1]]))
        return data, key
    if kind == "name":
        data["name"] = draw(st.sampled_from(["", "x" * 81, 5, 0.5, ["a"], True]))
        return data, "name"
    if kind == "history":
        data["history"] = draw(st.sampled_from(["yes", 1, 0.0, "true"]))
        return data, "history"
    data["end"] = draw(st.sampled_from(["2023-06", "2020-01"]))  # dates_order: end before start
    return data, "end"


def _existing_output(folder: Path) -> Path:
    """An output folder holding an earlier run's files (which must survive every refusal)."""
    out = folder / "out"
    out.mkdir(exist_ok=True)
    for name in ("series.parquet", "meta.json", "scenario.toml"):
        (out / name).write_bytes(os.urandom(64))
    return out


def _run_refused(path: Path, out: Path) -> str:
    before = folder_hashes(path.parent)
    code, _, err = run_cli(
        ["run", "--scenario", str(path), "--until", "2023-12", "--out", str(out)]
    )
    assert folder_hashes(path.parent) == before, "a refused command changed a file"
    assert_clean_refusal(code, err)
    return err


@settings(max_examples=100)
@given(case=broken_scenarios())
def test_a_scenario_broken_in_one_field_is_refused_naming_file_and_field(tmp_path_factory, case):
    data, field = case
    folder = tmp_path_factory.mktemp("scenario")
    out = _existing_output(folder)
    path = folder / "broken.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    err = _run_refused(path, out)
    assert err.startswith(f"chipwar run: error: {path}: "), err
    assert field in err, f"field {field!r} not named: {err}"
    tally("scenario TOML (one field broken)", "refused")


SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
TOML_VALUES = st.recursive(
    SCALAR.filter(lambda v: v is not None),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(
    ["name", "scale", "start", "end", "branch", "history", "levers", "params", "events", "zz"]
)


@settings(max_examples=100)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.dictionaries(KEYS, TOML_VALUES, max_size=4).map(
            lambda d: tomli_w.dumps(d).encode("utf-8", "surrogatepass")
        ),
    )
)
@example(content=b"")
@example(content=b"\xff\xfe\x00\x00binary")
@example(content=b"a = " + b"[" * 3000)
@example(content=b"name = 'caf\xe9'")  # Latin-1, not UTF-8
def test_any_file_is_run_or_refused_naming_the_file(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("scenario")
    out = _existing_output(folder)
    path = folder / "fuzz.toml"
    path.write_bytes(content)
    err = _run_refused(path, out)
    try:
        load_scenario(path)
    except InputError:
        assert err.startswith(f"chipwar run: error: {path}: "), err
        tally("scenario TOML (random bytes, text, tables)", "refused")
    else:  # a valid scenario: refused only for --until, having built nothing
        assert err.startswith("chipwar run: error: --until: "), err
        tally("scenario TOML (random bytes, text, tables)", "accepted")


def test_huge_files_devices_and_folders_are_refused_at_once(tmp_path):
    """A 50 MB file is refused by its size without being read; /dev/zero and FIFOs never hang."""
    out = _existing_output(tmp_path)
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as handle:
        handle.truncate(50_000_000)  # sparse: instant to make, 50 MB to read
    near = tmp_path / "near.toml"
    near.write_bytes(b'name = "near"\n' + b"# padding\n" * ((MAX_INPUT_BYTES - 100) // 10))
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    cases = {
        huge: f"at most {MAX_INPUT_BYTES} bytes",
        fifo: "a regular file",
        tmp_path: "a regular file",
        Path("/dev/zero"): "a regular file",
    }
    for path, needle in cases.items():
        code, _, err = run_cli(
            ["run", "--scenario", str(path), "--until", "2023-12", "--out", str(out)]
        )
        assert_clean_refusal(code, err, str(path), needle)
        tally("scenario TOML (huge, device, folder)", "refused")
    code, _, err = run_cli(
        ["run", "--scenario", str(near), "--until", "2023-12", "--out", str(out)]
    )
    assert_clean_refusal(code, err, "--until")  # just under the cap: read, valid
    tally("scenario TOML (huge, device, folder)", "accepted")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--until", "2031-13"], "until = '2031-13': a month as YYYY-MM"),
        (["--until", "2031-01"], "a month between 2024-01 and 2030-12"),
        (["--until", "2024-00"], "until"),
        (["--set", "us.enforcement=nan"], "a finite number"),
        (["--set", "us.enforcement=inf"], "a finite number"),
        (["--set", "us.enforcement=1e999"], "a finite number"),
        (["--set", "us.enforcement=-0.01"], "us.enforcement"),
        (["--set", "us.enforcement=0x1"], "a number"),
        (["--set", "hub.ZZZ=0.5"], "hub.ZZZ"),
        (["--set", "params.detection_base=1e9"], "params.detection_base"),
        (["--set", "params.no_such=1"], "params.no_such"),
        (["--set", "scale=1000.5"], "scale"),
        (["--set", "=0.5"], "assignment"),
        (["--scale", "50000001"], "scale"),
        (["--seed", "99999999999999999999"], "seed"),
        (["--seed", "1.5"], "seed"),
    ],
)
def test_bad_command_line_values_are_refused_before_any_work(tmp_path, argv, needle):
    out = _existing_output(tmp_path)
    before = folder_hashes(tmp_path)
    code, _, err = run_cli(["run", "--scenario", "porous", *argv, "--out", str(out)])
    assert_clean_refusal(code, err, needle)
    assert folder_hashes(tmp_path) == before
    tally("--set / --until / --seed values", "refused")


SET_KEYS = st.one_of(
    st.sampled_from([*lever_keys(), *(f"params.{n}" for n in PARAMS), "scale", "hub.MYS"]),
    st.text(max_size=12),
)
SET_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**400), 10**400).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "1_000", " 0.5 ", "½", "", "0.5.5"]),
    st.text(max_size=8),
)


@settings(max_examples=100)
@given(key=SET_KEYS, value=SET_VALUES)
def test_any_set_value_is_applied_or_refused_naming_it(tmp_path_factory, key, value):
    out = _existing_output(tmp_path_factory.mktemp("set"))
    before = folder_hashes(out)
    argv = ["run", "--scenario", "porous", "--set", f"{key}={value}", "--until", "2023-12"]
    code, _, err = run_cli([*argv, "--out", str(out)])
    assert_clean_refusal(code, err)
    assert folder_hashes(out) == before
    if err.startswith("chipwar run: error: --until: "):
        tally("--set KEY=VALUE (random)", "accepted")
    else:
        # argparse itself refuses a value that looks like an option ("--set -=0"), naming --set
        assert err.startswith(
            ("chipwar run: error: --set: ", "chipwar run: error: argument --set: ")
        ), err
        tally("--set KEY=VALUE (random)", "refused")
