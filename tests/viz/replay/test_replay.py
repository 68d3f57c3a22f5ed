"""Replays: what a viewer gets from the written files, and one-line errors for bad input.

Fast tests use a small synthetic run directory (written here, no model run); the slow ones
replay real short runs through the command line and read the videos back with ffmpeg.
"""

from __future__ import annotations

import json
import math

import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from PIL import Image

from chipwar.runs.cli.main import main
from chipwar.runs.core import run_folder
from chipwar.runs.core.replays import write_replay
from chipwar.viz.replay import (
    THEMES,
    Replay,
    ReplayFigure,
    ReplayOptions,
    frame_months,
    read_track,
)
from chipwar.world.calendar import format_month, parse_month
from chipwar.world.countries import load_countries
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

TINY = "320x180"


def write_fake_run(path, name="fake", months=8, start="2024-01", seed=3):
    """A run directory with the columns a replay reads, shares rising month by month."""
    table = load_countries()
    first = parse_month(start)
    dates = [format_month(first + i) for i in range(months)]
    path.mkdir(parents=True)
    series = pd.DataFrame(
        {
            "date": dates,
            "compute_gap": np.linspace(5.0, 2.0, months),
            "lead_months": np.linspace(9.0, 3.0, months),
            "smuggled_h100e_cum": np.linspace(0.0, 3e5, months),
            "countries_official_cn": np.arange(months) + 10,
            "pop_cn_stack": np.linspace(1e9, 2e9, months),
        }
    )
    rows = []
    for i, date in enumerate(dates):
        for j, iso in enumerate(table.iso):
            share = min(1.0, (j % 10) / 10 * (i + 1) / months)
            stack = "cn" if share > 0.6 else ("us" if share < 0.1 else "hedged")
            rows.append((date, str(iso), stack, 0.2, share, 0.8 - share))
    countries = pd.DataFrame(
        rows, columns=["date", "iso_a3", "official_stack", "us_share", "cn_share", "none_share"]
    )
    series.to_parquet(path / "series.parquet")
    countries.to_parquet(path / "countries.parquet")
    events = [
        {"date": dates[1], "kind": "policy", "text": "Export rule tightened", "origin": "x"},
        {"date": dates[2], "kind": "bust", "text": "b", "country": "SGP", "seized_h100e": 5e3},
        {"date": dates[2], "kind": "stack_flip", "text": "f", "country": "IND", "after": "cn"},
    ]
    (path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (path / "meta.json").write_text(json.dumps({"seed": seed, "chipwar_version": "test"}))
    (path / "scenario.toml").write_text(
        f'name = "{name}"\ndescription = "A made-up world."\nbranch = "{dates[3]}"\n'
    )
    (path / "summary.json").write_text("{}")
    return path


@pytest.fixture
def fake_run(tmp_path):
    return write_fake_run(tmp_path / "fake")


def _track(path, table=None):
    """A run folder as the command line reads it, arranged for drawing."""
    return read_track(run_folder.read(path, optional=("summary.json",)), table or load_countries())


def _figure(*paths, **options):
    table = load_countries()
    tracks = [_track(p, table) for p in paths]
    opts = ReplayOptions.make(size=TINY, **options)
    return ReplayFigure(tracks, opts, frame_months(tracks, opts.every))


# --- frames -------------------------------------------------------------------------------------


def test_frames_have_the_size_asked_for_and_change_month_to_month(fake_run):
    figure = _figure(fake_run)
    first = figure.render_rgb(0)
    later = figure.render_rgb(len(figure.months) - 1)
    assert first.shape == (180, 320, 3) and first.dtype == np.uint8
    assert first.std() > 10  # something is drawn
    assert np.abs(first.astype(int) - later).sum(axis=2).astype(bool).mean() > 0.01


def test_redrawing_only_what_changes_gives_the_same_pixels_as_a_fresh_figure(tmp_path):
    a = write_fake_run(tmp_path / "a", name="a", months=6)
    b = write_fake_run(tmp_path / "b", name="b", months=4)  # ends earlier: held on its last month
    figure = _figure(a, b, theme="dark", color="official")
    for index in range(len(figure.months)):
        stepped = figure.render_rgb(index)
    fresh = _figure(a, b, theme="dark", color="official").render_rgb(len(figure.months) - 1)
    assert np.array_equal(stepped, fresh)


def test_official_stacks_use_the_world_encoding_and_their_theme_colours(fake_run):
    table = load_countries()
    track = _track(fake_run, table)
    last = len(track.months) - 1
    # write_fake_run: share = (j % 10) / 10 at the last month; cn above 0.6, us below 0.1.
    codes = {j % 10: int(track.official[last, j]) for j in range(20)}
    assert codes[0] == STACK_US and codes[5] == STACK_NONE and codes[9] == STACK_CN
    figure = _figure(fake_run, color="official")
    rgba = figure.country_colours(track, int(track.months[last]))
    theme = THEMES["light"]
    for j, colour in ((0, theme.us), (5, theme.hedged), (9, theme.cn)):
        assert tuple(rgba[j]) == to_rgba(colour), j


def test_a_failed_encoding_leaves_the_old_file_and_no_temporary(fake_run, tmp_path, monkeypatch):
    out = tmp_path / "replay.gif"
    out.write_bytes(b"the previous replay")

    def half_then_fail(self, path, progress=False):
        path.write_bytes(b"GIF89a half a file")
        raise RuntimeError("encoder died")

    monkeypatch.setattr(Replay, "write", half_then_fail)
    with pytest.raises(RuntimeError, match="encoder died"):
        write_replay([fake_run], out, ReplayOptions.make(size=TINY))
    assert out.read_bytes() == b"the previous replay"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake", "replay.gif"]


def test_still_png_and_gif_from_the_command_line(fake_run, tmp_path, capsys):
    still = tmp_path / "still.png"
    args = ["--out", str(still), "--frame", "2024-05", "--size", "640x360"]
    assert main(["replay", str(fake_run), *args]) == 0
    assert Image.open(still).size == (640, 360)
    gif = tmp_path / "replay.gif"
    args = ["--size", TINY, "--every", "3", "--fps", "5", "--hold-last", "2"]
    assert main(["replay", str(fake_run), str(fake_run), "--out", str(gif), *args]) == 0
    with Image.open(gif) as image:
        assert image.size == (320, 180)
        assert image.n_frames == 4  # months 1, 4 and 7 of 8, and always the last one
    assert "wrote" in capsys.readouterr().out


def write_fake_bands(path, low=0.5, high=1.5):
    """bands.parquet for a fake run: its gap and lead times low and high as p10 and p90."""
    series = pd.read_parquet(path / "series.parquet")
    rows = []
    for metric in ("compute_gap", "lead_months"):
        for date, value in zip(series["date"], series[metric], strict=True):
            rows.append((date, metric, value * low, value, value * high))
    bands = pd.DataFrame(rows, columns=["date", "metric", "p10", "p50", "p90"])
    bands.to_parquet(path / "bands.parquet")
    return bands


def test_an_ensemble_run_draws_its_band_behind_the_gap_and_lead_lines(tmp_path):
    plain = write_fake_run(tmp_path / "plain")
    banded = write_fake_run(tmp_path / "banded")
    write_fake_bands(banded)
    track = _track(banded)
    assert set(track.bands) == {"gap", "lead"} and _track(plain).bands == {}
    assert np.allclose(track.bands["gap"][:, 0], track.gap * 0.5)
    assert np.allclose(track.bands["lead"][:, 1], track.lead * 1.5)
    without, with_band = _figure(plain).render_rgb(0), _figure(banded).render_rgb(0)
    differs = np.abs(without.astype(int) - with_band).sum(axis=2) > 30
    assert differs.mean() > 0.002  # the shaded bands, and the panels' wider axes
    for panel in _figure(banded).panels:
        shaded = [c for c in panel["ax"].collections if c.get_alpha() == 0.16]
        assert len(shaded) == (panel["panel"].column in ("gap", "lead"))


def test_a_bands_table_without_its_columns_is_refused_in_one_line(fake_run, tmp_path, capsys):
    write_fake_bands(fake_run).drop(columns=["p90"]).to_parquet(fake_run / "bands.parquet")
    assert main(["replay", str(fake_run), "--out", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert "bands.parquet" in err and "p90" in err and err.count("\n") == 1


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_args, needle",
    [
        (lambda run, tmp: [str(tmp / "missing"), "--out", str(tmp / "x.mp4")], "missing"),
        (lambda run, tmp: [str(tmp), "--out", str(tmp / "x.mp4")], "run directory"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.mp4"), "--size", "big"], "'big'"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.mp4"), "--size", "321x181"], "even"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.avi")], ".mp4 or .gif"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.png"), "--frame", "2029-01"], "2024-01"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.mp4"), "--frame", "2024-02"], ".png"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "no" / "x.mp4")], "existing folder"),
        (lambda run, tmp: [str(run), str(run), str(run), "--out", str(tmp / "x.mp4")], "two"),
        (lambda run, tmp: [str(run), "--out", str(tmp / "x.mp4"), "--color", "red"], "official"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(fake_run, tmp_path, capsys, make_args, needle):
    assert main(["replay", *make_args(fake_run, tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chipwar replay: error:"), err
    assert needle in err
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".x.*"))


def test_a_broken_table_is_an_input_error(fake_run, tmp_path, capsys):
    (fake_run / "series.parquet").write_text("not parquet")
    assert main(["replay", str(fake_run), "--out", str(tmp_path / "x.gif")]) == 2
    assert "series.parquet" in capsys.readouterr().err


# --- real runs, real videos (slow) --------------------------------------------------------------


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory):
    """Two short real runs (18 months, smallest adopter field) made with `chipwar run`."""
    root = tmp_path_factory.mktemp("runs")
    for preset in ("loopholes-closed", "porous"):
        args = ["--scale", "1000", "--until", "2025-06", "--out", str(root / preset)]
        assert main(["run", "--scenario", preset, *args]) == 0
    return root / "loopholes-closed", root / "porous"


def _read_video(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [
        np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader
    ]
    return meta, frames


@pytest.mark.slow
def test_side_by_side_mp4_has_the_frames_size_and_rate_asked_for(short_runs, tmp_path):
    out = tmp_path / "two.mp4"
    args = ["--size", TINY, "--fps", "6", "--every", "2", "--hold-last", "1"]
    assert main(["replay", *map(str, short_runs), "--out", str(out), *args]) == 0
    meta, frames = _read_video(out)
    months = 18
    shown = math.ceil(months / 2) + (1 if (months - 1) % 2 else 0)  # always ends on the last month
    assert meta["size"] == (320, 180)
    assert meta["fps"] == pytest.approx(6)
    assert meta["codec"].startswith("h264")
    assert len(frames) == shown + 6  # one second of the last frame held
    assert np.abs(frames[0].astype(int) - frames[shown - 1]).mean() > 1  # the months differ
    held = np.abs(frames[-1].astype(int) - frames[shown - 1]).mean()
    assert held < 0.5  # the hold repeats the last month (up to H.264's lossy coding)


@pytest.mark.slow
def test_single_run_gif_and_dark_official_still(short_runs, tmp_path):
    gif = tmp_path / "one.gif"
    assert main(["replay", str(short_runs[1]), "--out", str(gif), "--size", TINY]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 18
        image.seek(0)
        first = np.asarray(image.convert("RGB")).astype(int)
        image.seek(17)
        last = np.asarray(image.convert("RGB")).astype(int)
    assert np.abs(first - last).mean() > 1
    still = tmp_path / "still.png"
    args = ["--frame", "2025-03", "--theme", "dark", "--color", "official", "--size", "640x360"]
    assert main(["replay", str(short_runs[1]), "--out", str(still), *args]) == 0
    assert Image.open(still).size == (640, 360)
