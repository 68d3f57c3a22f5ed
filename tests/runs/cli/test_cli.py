"""The command line: run directories, determinism of the written bytes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ensemble_helpers import write_ensemble

from chipwar.runs.cli.main import main
from chipwar.runs.core import run_folder
from chipwar.runs.core.run_folder import RUN_FILES
from chipwar.world.reporters import COUNTRY_COLUMNS, MODEL_COLUMNS


def _run(tmp_path: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    argv = [
        "run",
        "--scenario",
        "porous",
        "--scale",
        "1000",
        "--until",
        "2025-06",
        "--out",
        str(out),
    ]
    assert main([*argv, *extra]) == 0
    return out


def test_run_writes_the_run_directory_with_contract_columns(tmp_path, capsys):
    out = _run(tmp_path, "a", "--seed", "4", "--set", "us.enforcement=0.6")
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    series = pd.read_parquet(out / "series.parquet")
    countries = pd.read_parquet(out / "countries.parquet")
    assert list(series.columns) == list(MODEL_COLUMNS)
    assert list(countries.columns) == list(COUNTRY_COLUMNS)
    assert len(series) == 18 and series["date"].iloc[-1] == "2025-06"
    assert set(countries["official_stack"]) <= {"us", "cn", "hedged"}
    assert countries[["us_share", "cn_share", "none_share"]].sum(axis=1).round(9).eq(1).all()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 4 and meta["months"] == 18
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "policy" for e in events)
    folder = run_folder.read(out)
    assert folder.scenario().levers.us.enforcement == 0.6  # the --set override is in scenario.toml
    assert "wrote" in capsys.readouterr().out


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path):
    first, again = _run(tmp_path, "a", "--seed", "7"), _run(tmp_path, "b", "--seed", "7")
    other = _run(tmp_path, "c", "--seed", "8")
    for name in ("series.parquet", "countries.parquet", "events.jsonl", "summary.json"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    assert (first / "series.parquet").read_bytes() != (other / "series.parquet").read_bytes()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["run", "--scenario", "nope", "--out", "X"], "scenario"),
        (["run", "--scenario", "porous", "--set", "us.enforcement=7", "--out", "X"], "enforcement"),
        (["run", "--scenario", "porous", "--set", "us.bogus=0.1", "--out", "X"], "us.bogus"),
        (["run", "--scenario", "porous", "--until", "2031-01", "--out", "X"], "until"),
        (["run", "--scenario", "porous", "--until", "soon", "--out", "X"], "until"),
        (["run", "--scenario", "porous", "--scale", "5", "--out", "X"], "scale"),
        (["run", "--scenario", "porous", "--seed", "-1", "--out", "X"], "seed"),
        (["run", "--scenario", "porous"], "--out"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_command_lines_give_one_line_and_status_2(tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        raise SystemExit(main(argv))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert not (tmp_path / "X").exists()  # nothing written for bad input


def test_bad_scenario_file_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[levers.us]\nenforcement = "lots"\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chipwar.runs.cli",
            "run",
            "--scenario",
            str(bad),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert str(bad) in done.stderr and "levers.us.enforcement" in done.stderr
    assert "lots" in done.stderr


def test_out_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["run", "--scenario", "porous", "--out", str(target)]) == 2
    assert target.read_text() == "keep me"


def test_scenarios_lists_presets_and_levers(capsys):
    assert main(["scenarios", "-v"]) == 0
    out = capsys.readouterr().out
    for name in ("current-policy", "loopholes-closed", "porous", "us.enforcement", "allies"):
        assert name in out
    for name in ("[players]", "hawk", "pragmatist", "dove", "bloc-southeast_asia", "boldness"):
        assert name in out


def test_run_takes_players_from_set_and_from_the_scenario_file(tmp_path, capsys):
    scenario = tmp_path / "players.toml"
    scenario.write_text(
        'name = "players"\nhistory = false\nscale = 1000\nplayer_turn_months = 3\n'
        '[players]\nus = "hawk"\n'
    )
    out = tmp_path / "run"
    argv = ["run", "--scenario", str(scenario), "--until", "2024-09", "--out", str(out)]
    assert main([*argv, "--set", "doctrine.china=dove"]) == 0
    assert "players: us=hawk, china=dove" in capsys.readouterr().out
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    moved = {(e["role"], e["doctrine"]) for e in events if e["kind"] == "player"}
    assert moved == {("us", "hawk"), ("china", "dove")}
    written = (out / "scenario.toml").read_text()
    assert 'us = "hawk"' in written and 'china = "dove"' in written


@pytest.mark.slow
def test_demo_writes_bands_table_and_charts(tmp_path, capsys):
    members = write_ensemble(tmp_path / "members.parquet", members=6)
    argv = ["demo", "--out", str(tmp_path / "demo"), "--scale", "5000", "--ensemble", "3"]
    assert main([*argv, "--ensemble-file", str(members), "--workers", "2"]) == 0
    out = tmp_path / "demo"
    names = ("comparison.md", "compute_gap.png", "lead_months.png", "cn_share_by_region.png")
    for name in (*names, "replay.mp4"):
        assert (out / name).stat().st_size > 1000, name
    for preset in ("loopholes-closed", "porous"):
        folder = run_folder.read(out / preset)
        assert folder.bands is not None and len(folder.members) == 3
        band = folder.summary["bands"]["2028-12"]["compute_gap"]
        assert band["p10"] < band["p90"]
    printed = capsys.readouterr().out
    assert "compute gap" in printed and "2028-12" in printed and "p90" in printed
    assert "porous p50" in (out / "comparison.md").read_text()


def test_demo_without_an_ensemble_file_says_how_to_make_one(tmp_path, capsys):
    argv = ["demo", "--out", str(tmp_path / "demo"), "--ensemble-file", str(tmp_path / "no")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "chipwar calibrate --ensemble" in err and err.count("\n") == 1
    assert not (tmp_path / "demo").exists()  # refused before any work


def test_run_folders_stay_readable_after_parameter_ranges_change(tmp_path):
    out = _run(tmp_path, "old")
    text = (out / "scenario.toml").read_text()
    old = text.replace("detection_base = ", "detection_base = 99.0 # was ", 1)
    (out / "scenario.toml").write_text(old)  # a value outside today's documented range
    folder = run_folder.read(out)
    assert folder.params["detection_base"] == 99.0
    assert folder.scenario().params == {}  # validated without the recorded parameters
    assert len(folder.series) == 18


def _short_run(tmp_path: Path, name: str, capsys, *extra: str) -> tuple[pd.DataFrame, str]:
    out = tmp_path / name
    argv = ["run", "--scenario", "current-policy", "--scale", "1000", "--until", "2024-03"]
    assert main([*argv, "--out", str(out), *extra]) == 0
    return pd.read_parquet(out / "series.parquet"), capsys.readouterr().err


def test_run_warns_in_one_line_when_a_lever_waits_beyond_until(tmp_path, capsys):
    plain, quiet = _short_run(tmp_path, "plain", capsys)
    assert quiet == ""  # current-policy keeps every lever at its default
    params, quiet = _short_run(tmp_path, "params", capsys, "--set", "params.detection_base=0.01")
    assert quiet == ""  # a parameter acts from the first month
    waited, warned = _short_run(tmp_path, "kyc", capsys, "--set", "us.kyc=0.9")
    assert warned.count("\n") == 1 and warned.startswith("chipwar run: warning: --until 2024-03")
    assert "branch date 2026-06" in warned and "us.kyc has no effect" in warned
    pd.testing.assert_frame_equal(waited, plain)  # what the warning says: the same run
    assert not params.equals(plain)
