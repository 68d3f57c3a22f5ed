"""Fuzzed experiment specs through `chipwar sweep`: one line naming the spec and the field, exit
status 2, and the sweep folder the command points at is left byte for byte as it was.

(tests/runs/test_experiment.py fuzzes the spec as parsed data; these go through the command line.)
The output folder holds a sweep, so a spec that turns out valid is refused for ``--out`` (no
``--resume``) before any executor starts: nothing runs, and the example is cheap.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reliability import assert_clean_refusal, folder_hashes, run_cli, tally
from sweep_helpers import SCENARIO

from chipwar.runs.experiments.spec import load_experiment, plan_experiment
from chipwar.world.errors import InputError

BASE = {
    "name": "fuzz",
    "scenario": "tiny-world.toml",
    "horizon": "2024-05",
    "seed": 11,
    "replications": 2,
    "design": {"kind": "grid"},
    "factors": {
        "us.enforcement": {"values": [0.1, 0.9]},
        "params.detection_base": {"range": [0.002, 0.02], "levels": 2},
    },
    "outputs": {"metrics": ["lead_months", "compute_gap"], "countries": False},
}
BAD_DATES = ["2031-13", "2024-00", "2024-1", "soon", "", "2031-01", "2023-12", 202405]
NON_FINITE = [math.nan, math.inf, -math.inf]

# (where, bad values, a word the refusal must name)
BREAKS: list[tuple[tuple[str, ...], list, str]] = [
    (("name",), ["", "a/b", "x" * 81, 5, True], "name"),
    (("scenario",), ["nowhere", "../missing.toml", "", "x" * 600, 5, "a\x00b"], "scenario"),
    (("scale",), [999, 50_000_001, "1000", 1000.5, True, *NON_FINITE], "scale"),
    (("horizon",), BAD_DATES, "horizon"),
    (("seed",), [-1, 2**63, 1.5, "1", True], "seed"),
    (("replications",), [0, 10_001, 1.5, "2", -3], "replications"),
    (("seeds",), ["random", 1, ""], "seeds"),
    (("set",), [{"us.kyc": 2.0}, {"us.kyc": math.nan}, {"us.kyc": "0.5"}], "us.kyc"),
    (("set",), [{"us.bogus": 0.5}, {"hub.MYS": 0.5}, {"hub.ZZZ": 0.5}], "set."),
    (("set",), [{"scale": 1500.5}, {"scale": 10}], "scale"),
    (
        ("factors", "us.enforcement", "values"),
        [[0.1, math.nan], [0.1, 2.0], [], [0.1, 0.1]],
        "us.enforcement",
    ),
    (("factors", "us.enforcement", "values"), [["a"], [True], 0.5], "us.enforcement"),
    (
        ("factors", "params.detection_base", "range"),
        [[0, 9], [0.02, 0.002], [0.002, math.inf], [1]],
        "params.detection_base",
    ),
    (("factors", "params.detection_base", "levels"), [1, 1001, 2.5, "2"], "levels"),
    (("factors", "hub.ZZZ"), [{"values": [0.1]}], "hub.ZZZ"),
    (("factors", "us.warp_drive"), [{"values": [0.1]}], "us.warp_drive"),
    (("factors", "scenario"), [{"values": ["nowhere.toml"]}, {"values": [1, 2]}], "scenario"),
    (("factors", "us.enforcement", "colour"), ["red"], "colour"),
    (("design", "kind"), ["magic", "", 3], "design.kind"),
    (("design", "samples"), [8, 0], "design.samples"),
    (("design", "levels"), [1, "3"], "design.levels"),
    (("design", "second_order"), [True, "yes"], "design.second_order"),
    (("design", "points"), [[{"us.kyc": 0.5}]], "design.points"),
    (("outputs", "metrics"), [["happiness"], [], "lead_months", [1]], "outputs.metrics"),
    (("outputs", "dates"), [["2024-13"], ["2031-01"], ["2024-06"], []], "outputs.dates"),
    (("outputs", "countries"), ["yes", 1], "outputs.countries"),
    (("colour",), ["red", 1], "colour"),
]


@st.composite
def broken_specs(draw: st.DrawFn) -> tuple[dict, str]:
    where, values, needle = draw(st.sampled_from(BREAKS))
    data = copy.deepcopy(BASE)
    target = data
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = draw(st.sampled_from(values))
    return data, needle


def _folder(tmp_path_factory) -> tuple[Path, Path]:
    """A folder with the tiny scenario and a sweep folder (a manifest and a finished row)."""
    folder = tmp_path_factory.mktemp("spec")
    (folder / "tiny-world.toml").write_text(SCENARIO)
    out = folder / "sweep"
    (out / "rows").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"layout": 1, "fingerprint": "0" * 64}))
    (out / "rows" / "run-000000.parquet").write_bytes(b"PAR1 a finished run PAR1")
    return folder, out


def _sweep_refused(path: Path, out: Path) -> str:
    before = folder_hashes(path.parent)
    code, _, err = run_cli(["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert folder_hashes(path.parent) == before, "a refused command changed a file"
    assert_clean_refusal(code, err)
    return err


@settings(max_examples=100)
@given(case=broken_specs())
def test_a_spec_broken_in_one_field_is_refused_naming_file_and_field(tmp_path_factory, case):
    data, needle = case
    folder, out = _folder(tmp_path_factory)
    path = folder / "spec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    err = _sweep_refused(path, out)
    assert err.startswith(f"chipwar sweep: error: {path}"), err
    assert needle in err, f"{needle!r} not named: {err}"
    tally("experiment spec TOML (one field broken)", "refused")


SCALAR = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
VALUES = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([*BASE, "set", "scale", "seeds", "zz"])


@settings(max_examples=80)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.dictionaries(KEYS, VALUES, max_size=4).map(
            lambda d: tomli_w.dumps(d).encode("utf-8", "surrogatepass")
        ),
    )
)
@example(content=b"")
@example(content=b"\x00\x01\x02\x03" * 50)
@example(content=b"[design]\npoints = " + b"[" * 3000)
@example(content=b"name = \xc3\x28")  # invalid UTF-8 sequence
def test_any_spec_file_is_planned_or_refused_naming_the_file(tmp_path_factory, content):
    folder, out = _folder(tmp_path_factory)
    path = folder / "spec.toml"
    path.write_bytes(content)
    err = _sweep_refused(path, out)
    try:
        plan_experiment(load_experiment(path), str(path), folder)
    except InputError as expected:
        assert str(expected).split(":")[0] in err, err
        tally("experiment spec TOML (random bytes, text, tables)", "refused")
    else:  # valid: refused only because the folder holds a sweep and --resume is missing
        assert "add --resume" in err, err
        tally("experiment spec TOML (random bytes, text, tables)", "accepted")


def test_huge_and_special_spec_files_are_refused_at_once(tmp_path_factory):
    folder, out = _folder(tmp_path_factory)
    huge = folder / "huge.toml"
    with open(huge, "wb") as handle:
        handle.truncate(50_000_000)
    for path, needle in {huge: "at most", Path("/dev/zero"): "a regular file"}.items():
        code, _, err = run_cli(["sweep", str(path), "--out", str(out), "--workers", "1"])
        assert_clean_refusal(code, err, str(path), needle)
        tally("experiment spec TOML (huge, device)", "refused")
