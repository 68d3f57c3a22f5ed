"""`chipwar compare` and the sweep commands from the command line."""

from __future__ import annotations

import pandas as pd
import pytest
from sweep_helpers import write_spec

from chipwar.runs.cli.main import main
from chipwar.runs.experiments.compare import compare_plan
from chipwar.world.errors import InputError


def test_compare_is_a_scenario_factor_over_common_seeds():
    plan = compare_plan(["porous", "loopholes-closed"], seeds=3, scale=1000, until="2024-03")
    assert list(plan.design["scenario"]) == ["porous", "loopholes-closed"]
    assert len(plan.runs) == 6 and plan.runs.groupby("replication")["seed"].nunique().eq(1).all()
    assert plan.horizon == "2024-03"
    with pytest.raises(InputError, match="two or more"):
        compare_plan(["porous"], seeds=2)
    with pytest.raises(InputError, match="distinct"):
        compare_plan(["porous", "porous"], seeds=2)
    with pytest.raises(InputError, match="preset"):
        compare_plan(["porous", "atlantis"], seeds=2)


@pytest.mark.slow
def test_compare_writes_table_fans_and_report(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "porous", "loopholes-closed", "--seeds", "2", "--scale", "1000"]
    argv += ["--until", "2024-04", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "porous" in printed and "loopholes-closed" in printed and "4 of 4 runs" in printed
    text = (out / "report.md").read_text()
    assert "## Headline metrics" in text and "US lead (months) @ 2024-04" in text
    assert (out / "fan_lead_months.png").stat().st_size > 5000
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["scenario"]) == ["porous", "porous", "loopholes-closed", "loopholes-closed"]


@pytest.mark.slow
def test_sweep_and_analyze_commands_end_to_end(tmp_path, capsys):
    spec = write_spec(tmp_path, replications=1, horizon="2024-02")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1"]) == 0
    assert "4 of 4 runs done (4 now, 0 failed)" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1"]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--resume"]) == 0
    assert "4 of 4 runs done (0 now" in capsys.readouterr().out
    assert main(["analyze", str(out), "--heatmap", "us.enforcement", "params.detection_base"]) == 0
    assert (out / "analysis" / "report.md").exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["sweep", "{spec}", "--out", "X", "--workers", "0"], "--workers"),
        (["sweep", "{missing}", "--out", "X"], "missing.toml"),
        (["sweep", "{bad}", "--out", "X"], "factors.us.kyc.range"),
        (["sweep", "{spec}", "--out", "X", "--dask", "tcp://127.0.0.1:1", "--workers", "2"], "lo"),
        (["analyze", "{tmp}"], "chipwar sweep"),
        (["analyze", "{tmp}/nowhere"], "chipwar sweep"),
        (["compare", "porous", "--out", "X"], "two or more"),
        (["compare", "porous", "atlantis", "--out", "X"], "atlantis"),
    ],
)
def test_bad_sweep_input_gives_one_line_and_status_2(tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path / "spec")
    bad = tmp_path / "bad.toml"
    bad.write_text('[factors."us.kyc"]\nrange = [0.0, 7.0]\n[design]\nkind = "lhs"\nsamples = 4\n')
    names = {"spec": spec, "missing": tmp_path / "missing.toml", "bad": bad, "tmp": tmp_path}
    argv = [a.format(**names) for a in argv]
    with pytest.raises(SystemExit) as caught:
        raise SystemExit(main(argv))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err
    assert not (tmp_path / "X").exists()
