"""The run folder: written all or none, read back whole, bad folders refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import small_scenario

from chipwar.runs.core import run_folder
from chipwar.runs.core.run_folder import RUN_FILES, SUMMARY_DATES, branch_of
from chipwar.runs.core.single_run import RunResult, run_scenario
from chipwar.world.errors import InputError


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run_scenario(small_scenario(us_kyc=0.4), seed=5, until="2024-04")


@pytest.fixture
def folder(tmp_path: Path, result: RunResult) -> Path:
    return run_folder.write(result, tmp_path / "run")


def test_what_is_written_is_what_is_read(folder: Path, result: RunResult) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(RUN_FILES)
    back = run_folder.read(folder)
    pd.testing.assert_frame_equal(back.series, result.series)
    pd.testing.assert_frame_equal(back.countries, result.countries)
    assert back.events == json.loads(json.dumps(result.events))
    assert back.summary == result.summary and back.meta == result.meta
    assert back.scenario_text == result.scenario.to_toml()
    assert back.scenario() == result.scenario.model_copy(update={"params": {}})
    assert back.params == dict(result.scenario.parameters())
    assert back.name == "test" and back.branch is None  # history = false: no branch


def test_the_summary_holds_the_headline_dates_the_run_reached(tmp_path: Path) -> None:
    assert SUMMARY_DATES == ("2028-12", "2030-12")
    short = run_scenario(small_scenario(), seed=1, until="2024-02")
    assert set(run_folder.read(run_folder.write(short, tmp_path / "s")).summary) == {
        "scenario",
        "seed",
    }


def test_a_rewrite_that_fails_leaves_the_earlier_run(
    folder: Path, result: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def unencodable(_frame: pd.DataFrame) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_folder, "parquet_bytes", unencodable)
    with pytest.raises(OSError):
        run_folder.write(result, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_replay_may_do_without_the_summary(folder: Path) -> None:
    (folder / "summary.json").unlink()
    with pytest.raises(InputError, match=r"no summary\.json"):
        run_folder.read(folder)
    assert run_folder.read(folder, optional=("summary.json",)).summary == {}


@pytest.mark.parametrize(
    "spoil, needle",
    [
        (lambda f: (f / "meta.json").write_text("[1, 2]"), "meta.json"),
        (lambda f: (f / "summary.json").write_bytes(b"\xff\xfe"), "summary.json"),
        (lambda f: (f / "series.parquet").write_text("not parquet"), "series.parquet"),
        (lambda f: (f / "events.jsonl").write_text('{"kind": "x"}\n'), "line 1"),
        (lambda f: (f / "events.jsonl").write_text('{"date": "2024-13"}\n'), "YYYY-MM"),
        (lambda f: (f / "scenario.toml").write_text("name = "), "scenario.toml"),
        (lambda f: (f / "countries.parquet").unlink(), "no countries.parquet"),
    ],
)
def test_a_spoilt_folder_is_one_line_naming_the_file(folder: Path, spoil, needle: str) -> None:
    spoil(folder)
    with pytest.raises(InputError) as caught:
        run_folder.read(folder)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_not_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="an existing folder"):
        run_folder.read(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="a folder, not a file"):
        run_folder.read(tmp_path / "file")


def test_the_branch_counts_only_with_a_history_phase() -> None:
    assert branch_of({"branch": "2026-06"}) == "2026-06"
    assert branch_of({"branch": "2026-06", "history": False}) is None
    assert branch_of({"branch": "June"}) is None and branch_of({}) is None
