"""Animated replays for talks: a world map of AI-stack adoption over time, with the race beside it.

``chipwar replay DIR [DIR2] --out FILE.mp4|FILE.gif`` (or ``--frame YYYY-MM --out FILE.png``).

Why it is built this way: the figure (map polygons, panels, legend, titles) is built once; each
frame only recolours the map's PolyCollection, moves the panel cursors and swaps a few texts, and
the Agg canvas redraws just the screen regions that changed (blitting) before its RGBA buffer goes
to ffmpeg (H.264 through imageio-ffmpeg's bundled binary) or Pillow (GIF, PNG). The layout is
designed in inches on a 7.2-inch-tall canvas and the pixel size only sets the dpi, so 720p and
1080p look the same.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgba, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import Bbox
from tqdm import tqdm

from chipwar.viz.captions import MONTHS, Caption, caption_schedule, month_label
from chipwar.viz.worldmap import ATTRIBUTION, map_geometry
from chipwar.world.calendar import format_month, parse_month
from chipwar.world.countries import CountryTable, load_countries
from chipwar.world.errors import InputError

#: What a replay reads from a run directory (``summary.json`` is not needed).
RUN_FILES = ("scenario.toml", "series.parquet", "countries.parquet", "events.jsonl", "meta.json")
SERIES_COLUMNS = ("date", "compute_gap", "lead_months", "smuggled_h100e_cum")
COUNTRY_COLUMNS = ("date", "iso_a3", "official_stack", "cn_share")
STACK_CODES = {"us": 0, "hedged": 1, "cn": 2}

COLOR_MODES = ("share", "official")
HEIGHT_IN = 7.2  # the canvas is always 7.2 inches tall; --size sets the dpi
MIN_ASPECT, MAX_ASPECT = 1.6, 2.4  # 16:10 to 21:9
MIN_SIDE, MAX_SIDE = 128, 4320


@dataclass(frozen=True)
class Theme:
    """Colours for one background.

    Why these: the share ramps (yellow to dark red on light, dark purple to pale yellow on dark)
    change lightness monotonically (CIELAB L* 97 to 18, and 21 to 92), so they read without hue
    vision; the stack colours are the Okabe-Ito blue and vermillion, told apart by viewers with
    red-green colour blindness.
    """

    name: str
    bg: str
    fg: str
    muted: str
    ocean: str
    no_data: str
    border: str
    grid: str
    share_colors: tuple[str, ...]
    us: str
    hedged: str
    cn: str
    runs: tuple[str, str]
    runs_official: tuple[str, str]  # not the stack colours, so a line never reads as "US"
    policy: str
    bust: str


THEMES = {
    "light": Theme(
        name="light",
        bg="#FFFFFF",
        fg="#1B1B1B",
        muted="#5C5C5C",
        ocean="#DCE6EE",
        no_data="#B9B9B9",
        border="#FFFFFF",
        grid="#E3E3E3",
        share_colors=("#FFF7BC", "#FEC44F", "#FB8C3C", "#E2401C", "#A50026", "#5E0019"),
        us="#0072B2",
        hedged="#D9D2BF",
        cn="#D55E00",
        runs=("#0072B2", "#D55E00"),
        runs_official=("#009E73", "#CC79A7"),
        policy="#6A3D9A",
        bust="#B8860B",
    ),
    "dark": Theme(
        name="dark",
        bg="#121417",
        fg="#F2F2F2",
        muted="#A9ADB3",
        ocean="#1F2A36",
        no_data="#4A4F57",
        border="#121417",
        grid="#2C3138",
        share_colors=("#3B2A5C", "#6A2C70", "#A83B63", "#DE5A3C", "#F89A2A", "#FCE97C"),
        us="#3A9BDC",
        hedged="#8A857A",
        cn="#E8702A",
        runs=("#56B4E9", "#E69F00"),
        runs_official=("#2BC29A", "#E394C6"),
        policy="#C9A8E8",
        bust="#E6C35C",
    ),
}


@dataclass(frozen=True)
class ReplayOptions:
    """Validated rendering options (every bad value is an InputError naming the flag)."""

    fps: int = 3
    size: tuple[int, int] = (1280, 720)
    theme: str = "light"
    hold_last: float = 3.0
    every: int = 1
    color: str = "share"

    @classmethod
    def make(
        cls,
        fps: int = 3,
        size: str | tuple[int, int] = "1280x720",
        theme: str = "light",
        hold_last: float = 3.0,
        every: int = 1,
        color: str = "share",
    ) -> ReplayOptions:
        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
            raise InputError("--fps", "fps", fps, "a whole number of frames per second, 1-60")
        if theme not in THEMES:
            raise InputError("--theme", "theme", theme, "one of " + ", ".join(THEMES))
        if color not in COLOR_MODES:
            raise InputError("--color", "color", color, "one of " + ", ".join(COLOR_MODES))
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise InputError("--every", "every", every, "a whole number of months >= 1")
        if not isinstance(hold_last, int | float) or not 0 <= hold_last <= 60:
            raise InputError("--hold-last", "hold_last", hold_last, "seconds in [0, 60]")
        return cls(fps, parse_size(size), theme, float(hold_last), every, color)


def parse_size(size: str | tuple[int, int]) -> tuple[int, int]:
    """'1920x1080', '1280x720' or any 'WxH' from 16:10 to 21:9 (narrower cramps the layout)."""
    allowed = (
        f"1920x1080, 1280x720 or WxH in pixels ({MIN_SIDE}-{MAX_SIDE} a side, "
        f"width/height between {MIN_ASPECT} and {MAX_ASPECT})"
    )
    if isinstance(size, tuple):
        width, height = size
    else:
        match = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", str(size))
        if not match:
            raise InputError("--size", "size", size, allowed)
        width, height = int(match.group(1)), int(match.group(2))
    if not (MIN_SIDE <= width <= MAX_SIDE * 2 and MIN_SIDE <= height <= MAX_SIDE):
        raise InputError("--size", "size", f"{width}x{height}", allowed)
    if not MIN_ASPECT <= width / height <= MAX_ASPECT:
        raise InputError("--size", "size", f"{width}x{height}", allowed)
    return width, height


# --- reading runs -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RunTrack:
    """One run's tables arranged for drawing: row = month, column = country-table row."""

    path: Path
    name: str
    description: str
    seed: int
    scale: int | None
    version: str
    branch: int | None
    months: np.ndarray  # month numbers, increasing by one
    cn_share: np.ndarray  # (months, countries); NaN where the run has no row for a country
    official: np.ndarray  # (months, countries) int8: 0 us, 1 hedged, 2 cn, -1 no data
    gap: np.ndarray
    lead: np.ndarray
    smuggled: np.ndarray
    official_cn: np.ndarray  # countries whose official stack is Chinese
    pop_cn: np.ndarray  # people under those governments
    events: list[dict[str, Any]] = field(repr=False)

    def row_at(self, month: int) -> int:
        """The latest row at or before ``month`` (a run that ended stays on its last month)."""
        return int(np.searchsorted(self.months, month, side="right")) - 1


def _bad_file(path: Path, what: str, err: Exception | str) -> InputError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return InputError(str(path), "file", path.name, f"{what} ({reason[:120]})")


def read_track(path: str | Path, table: CountryTable) -> RunTrack:
    """Read what a replay needs from a run directory, with one-line errors for bad input.

    Reads the tables directly rather than through the scenario schema, so an old run directory
    still replays after the model's parameter ranges change.
    """
    from chipwar.world.validation import read_toml

    path = Path(path)
    written_by = "a run directory written by chipwar run or chipwar demo"
    if not path.exists():
        raise InputError(str(path), "DIR", str(path), f"an existing folder: {written_by}")
    if not path.is_dir():
        raise InputError(str(path), "DIR", str(path), f"a folder, not a file: {written_by}")
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise InputError(str(path), "run directory", f"no {missing[0]}", written_by)

    scenario = read_toml(path / "scenario.toml")
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        raise _bad_file(path / "meta.json", "a JSON object written by chipwar run", err) from None
    series = _read_parquet(path / "series.parquet", SERIES_COLUMNS)
    countries = _read_parquet(path / "countries.parquet", COUNTRY_COLUMNS)
    events = _read_events(path / "events.jsonl")
    if series.empty:
        raise InputError(str(path / "series.parquet"), "rows", 0, "at least one month")

    try:
        months = np.array([parse_month(d) for d in series["date"]], dtype=np.int64)
    except ValueError as err:
        raise _bad_file(path / "series.parquet", "dates as YYYY-MM", err) from None
    if np.any(np.diff(months) != 1):
        raise InputError(str(path / "series.parquet"), "date", "gaps", "consecutive months")

    n_months, n_countries = len(months), len(table)
    share = np.full((n_months, n_countries), np.nan)
    official = np.full((n_months, n_countries), -1, dtype=np.int8)
    known = countries["iso_a3"].isin(list(table.iso))
    rows = countries[known]
    if len(rows):
        month_of = {format_month(int(m)): i for i, m in enumerate(months)}
        mi = rows["date"].map(month_of)
        keep = mi.notna().to_numpy()
        mi = mi.to_numpy()[keep].astype(np.int64)
        ci = np.array([table.index(iso) for iso in rows["iso_a3"].to_numpy()[keep]], dtype=int)
        share[mi, ci] = rows["cn_share"].to_numpy(dtype=float)[keep]
        codes = rows["official_stack"].map(STACK_CODES).fillna(-1).to_numpy()[keep]
        official[mi, ci] = codes.astype(np.int8)

    def column(name: str) -> np.ndarray:
        if name in series:
            return series[name].to_numpy(dtype=float)
        return np.full(n_months, np.nan)

    branch = scenario.get("branch")
    try:
        branch_month = parse_month(branch) if branch and scenario.get("history", True) else None
    except ValueError:
        branch_month = None
    seed = meta.get("seed", 0)
    return RunTrack(
        path=path,
        name=str(scenario.get("name") or meta.get("scenario") or path.name),
        description=str(scenario.get("description") or ""),
        seed=int(seed) if isinstance(seed, int) else 0,
        scale=meta.get("adopters") or meta.get("scale") or scenario.get("scale"),
        version=str(meta.get("chipwar_version", "")),
        branch=branch_month,
        months=months,
        cn_share=share,
        official=official,
        gap=column("compute_gap"),
        lead=column("lead_months"),
        smuggled=column("smuggled_h100e_cum"),
        official_cn=column("countries_official_cn"),
        pop_cn=column("pop_cn_stack"),
        events=events,
    )


def _read_parquet(path: Path, required: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises its own types for junk files
        raise _bad_file(path, "a Parquet table written by chipwar run", err) from None
    for name in required:
        if name not in frame.columns:
            raise InputError(str(path), "columns", name, "a column written by chipwar run")
    return frame


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise _bad_file(path, "UTF-8 JSON lines", err) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("date"), str):
            raise InputError(
                f"{path} line {number}", "event", line, "a JSON object with a 'date' (YYYY-MM)"
            )
        try:
            parse_month(event["date"])
        except ValueError:
            raise InputError(f"{path} line {number}", "date", event["date"], "YYYY-MM") from None
        events.append(event)
    return events


def frame_months(tracks: Sequence[RunTrack], every: int) -> list[int]:
    """Months shown, one frame each: every ``every`` months over all runs, always the last one."""
    first = min(int(t.months[0]) for t in tracks)
    last = max(int(t.months[-1]) for t in tracks)
    months = list(range(first, last + 1, every))
    if months[-1] != last:
        months.append(last)
    return months


def frame_events(track: RunTrack, months: Sequence[int]) -> list[list[dict[str, Any]]]:
    """The events each frame covers: those after the previous frame's month, up to its own."""
    out: list[list[dict[str, Any]]] = [[] for _ in months]
    edges = np.asarray(months)
    for event in track.events:
        k = int(np.searchsorted(edges, parse_month(event["date"]), side="left"))
        if k < len(out):
            out[k].append(event)
    return out


# --- the figure -----------------------------------------------------------------------------------


def _fmt_gap(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.1f}×"


def _fmt_lead(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.0f}"


def _fmt_h100e(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _fmt_people(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value >= 1e9:
        return f"{value / 1e9:.1f} bn"
    return f"{value / 1e6:.0f} m"


@dataclass(frozen=True)
class _Panel:
    column: str
    title: str
    short_title: str  # side by side, where two values share the title row
    fmt: Callable[[float], str]
    log: bool = False


PANELS = (
    _Panel("gap", "Compute gap, US ÷ China", "Compute, US ÷ China", _fmt_gap, log=True),
    _Panel("lead", "US lead in AI, months", "US lead in AI, months", _fmt_lead),
    _Panel("smuggled", "Smuggled to China, H100e", "Smuggled, H100e", _fmt_h100e),
)


class ReplayFigure:
    """The replay's figure, built once; :meth:`render` updates it to one frame and rasterises."""

    def __init__(
        self, tracks: Sequence[RunTrack], options: ReplayOptions, months: Sequence[int]
    ) -> None:
        self.tracks = list(tracks)
        self.options = options
        self.months = list(months)
        self.theme = THEMES[options.theme]
        self.table = load_countries()
        self.geometry = map_geometry()
        width, height = options.size
        dpi = height / HEIGHT_IN
        # A quarter pixel of slack: Agg truncates the canvas size to whole pixels.
        self.fig = Figure(figsize=((width + 0.25) / dpi, (height + 0.25) / dpi), dpi=dpi)
        self.fig.patch.set_facecolor(self.theme.bg)
        self.canvas = FigureCanvasAgg(self.fig)
        self.width_in = width / dpi
        self.side = len(self.tracks) == 2
        self._fit_cache: dict[tuple[str, float, float, str], str] = {}
        self._caption_boxes: list[tuple[float, float, float, float]] = []
        self._build_colours()
        self._build_captions()
        if self.side:
            self._build_side_by_side()
        else:
            self._build_single()
        self._animated_list = self._animated()
        self._background: Any = None
        self._zones: list[_Zone] = []
        self._canvas_h = 0

    # -- helpers
    def _fx(self, inches: float) -> float:
        """Inches from the left edge as a figure fraction."""
        return inches / self.width_in

    def _fy(self, inches: float) -> float:
        """Inches from the bottom edge as a figure fraction."""
        return inches / HEIGHT_IN

    def _text(self, x_in: float, y_in: float, text: str = "", **kwargs: Any) -> Any:
        kwargs.setdefault("color", self.theme.fg)
        return self.fig.text(self._fx(x_in), self._fy(y_in), text, **kwargs)

    def _fit(self, text: str, width_in: float, size: float, weight: str = "normal") -> str:
        """Cut ``text`` at a word boundary, with an ellipsis, so it fits ``width_in`` inches."""
        key = (text, width_in, size, weight)
        if key in self._fit_cache:
            return self._fit_cache[key]

        def width(s: str) -> float:
            return self._width(s, size, weight)

        fitted = text
        if width(text) > width_in:
            words = text.split(" ")
            while len(words) > 1 and width(" ".join(words) + "…") > width_in:
                words.pop()
            fitted = " ".join(words).rstrip(",;:") + "…"
        self._fit_cache[key] = fitted
        return fitted

    # -- colours
    def _build_colours(self) -> None:
        theme = self.theme
        self.cmap = LinearSegmentedColormap.from_list("chipwar_share", theme.share_colors)
        self.norm = Normalize(0.0, 1.0)
        self.no_data = np.array(to_rgba(theme.no_data))
        official = self.options.color == "official"
        self.run_colours = theme.runs_official if official else theme.runs
        self.stack_rgba = to_rgba_array([theme.us, theme.hedged, theme.cn])

    def country_colours(self, track: RunTrack, month: int) -> np.ndarray:
        """RGBA per country-table row, plus one last row (index -1) for 'no data'."""
        n = len(self.table)
        rgba = np.empty((n + 1, 4))
        rgba[:] = self.no_data
        row = track.row_at(month)
        if row < 0:
            return rgba
        if self.options.color == "share":
            values = track.cn_share[row]
            ok = np.isfinite(values)
            rgba[:n][ok] = self.cmap(self.norm(values[ok]))
        else:
            codes = track.official[row]
            ok = codes >= 0
            rgba[:n][ok] = self.stack_rgba[codes[ok]]
        return rgba

    # -- map
    def _add_map(self, rect: tuple[float, float, float, float]) -> dict[str, Any]:
        theme, geometry = self.theme, self.geometry
        ax = self.fig.add_axes(rect)
        ax.set_axis_off()
        ax.set_xlim(*geometry.xlim)
        ax.set_ylim(*geometry.ylim)
        ax.set_aspect("equal", adjustable="box", anchor="C")
        ax.add_patch(Polygon(geometry.outline, closed=True, facecolor=theme.ocean, lw=0, zorder=0))
        polys = PolyCollection(
            list(geometry.rings),
            facecolors=theme.no_data,
            edgecolors=theme.border,
            linewidths=0.36,  # points, so the same look at every size
            antialiased=True,
            zorder=1,
        )
        ax.add_collection(polys)
        markers = ax.scatter(
            geometry.marker_xy[:, 0],
            geometry.marker_xy[:, 1],
            s=30,
            c=[theme.no_data],
            edgecolors=theme.fg,
            linewidths=0.6,
            zorder=3,
        )
        return {"ax": ax, "polys": polys, "markers": markers}

    def _map_rect(self, left: float, bottom: float, width: float) -> tuple[float, ...]:
        height = self._map_height(width)
        return (self._fx(left), self._fy(bottom), self._fx(width), self._fy(height))

    def _map_height(self, width: float) -> float:
        xlim, ylim = self.geometry.xlim, self.geometry.ylim
        return width * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])

    def _map_width(self, column: float, max_height: float) -> float:
        """The map's width in a column: all of it, unless that would make the map too tall
        (wide screens), in which case the map is narrower and centred in the column."""
        return min(column, column * max_height / self._map_height(column))

    # -- header: title and legend on the left, date and phase on the right
    def _build_header(self, title: str) -> None:
        theme, top = self.theme, HEIGHT_IN
        right = self.width_in - 0.3
        self._text(
            0.3,
            top - 0.2,
            self._fit(title, self.width_in - 3.3, 22, "bold"),
            fontsize=22,
            weight="bold",
            va="top",
        )
        self.date_text = self._text(
            right, top - 0.14, "", fontsize=30, weight="bold", ha="right", va="top"
        )
        self.phase_text = self._text(
            right, top - 0.74, "", fontsize=12, ha="right", va="top", color=theme.muted
        )
        self._build_legend(0.3, top - 0.95)

    def _build_legend(self, x: float, y: float) -> None:
        """One row: what the colours mean, the colour bar (or swatches), and 'no data'."""
        theme, box = self.theme, 0.19
        share = self.options.color == "share"
        label = "Adopters on the Chinese AI stack" if share else "Official AI stack:"
        self._text(x, y + box / 2, label, fontsize=12.5, va="center_baseline")
        x += self._width(label, 12.5) + 0.2
        if share:
            bar_w = 2.5
            ax = self.fig.add_axes((self._fx(x), self._fy(y), self._fx(bar_w), self._fy(box)))
            gradient = np.linspace(0, 1, 256)[None, :]
            ax.imshow(gradient, aspect="auto", cmap=self.cmap, norm=self.norm, extent=(0, 1, 0, 1))
            ax.set_yticks([])
            ax.xaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
            ax.tick_params(axis="x", labelsize=10.5, colors=theme.fg, length=3, pad=2)
            for spine in ax.spines.values():
                spine.set_visible(False)
            x += bar_w + 0.45
        else:
            for name, colour in (("US", theme.us), ("hedged", theme.hedged), ("Chinese", theme.cn)):
                self._swatch(x, y, box, colour)
                self._text(x + box + 0.08, y + box / 2, name, fontsize=12.5, va="center_baseline")
                x += box + 0.08 + self._width(name, 12.5) + 0.3
        self._swatch(x, y, box, theme.no_data)
        self._text(
            x + box + 0.08,
            y + box / 2,
            "no data",
            fontsize=11,
            va="center_baseline",
            color=theme.muted,
        )

    def _width(self, text: str, size: float, weight: str = "normal") -> float:
        """Width of a line of text in inches."""
        renderer = self.canvas.get_renderer()
        prop = FontProperties(size=size, weight=weight)
        return renderer.get_text_width_height_descent(text, prop, ismath=False)[0] / self.fig.dpi

    def _swatch(self, x: float, y: float, size: float, colour: str) -> None:
        self.fig.patches.append(
            Rectangle(
                (self._fx(x), self._fy(y)),
                self._fx(size),
                self._fy(size),
                transform=self.fig.transFigure,
                facecolor=colour,
                edgecolor=self.theme.muted,
                linewidth=0.5,
            )
        )

    def _build_source(self) -> None:
        parts = []
        for t in self.tracks:
            adopters = f", {int(t.scale):,} adopters" if t.scale else ""
            parts.append(f"'{t.name}' seed {t.seed}{adopters}")
        version = self.tracks[0].version
        text = (
            f"Simulated with chipwar {version}: " + "; ".join(parts) + ". Model output, not a "
            f"forecast. {ATTRIBUTION}."
        )
        self._text(
            0.3,
            0.14,
            self._fit(text, self.width_in - 0.6, 9.5),
            fontsize=9.5,
            color=self.theme.muted,
            va="bottom",
        )

    # -- captions
    def _build_captions(self) -> None:
        theme = self.theme
        self.caption_style = {
            "policy": ("◆", theme.policy),
            "bust": ("■", theme.bust),
            "flip_cn": ("●", theme.cn),
            "flip_us": ("●", theme.us),
            "flip_hedged": ("●", theme.muted),
        }
        names = {c.iso_a3: c.name for c in self.table}
        population = {c.iso_a3: c.population for c in self.table}
        slots = 3 if self.side else 4
        self.schedules = [
            caption_schedule(
                frame_events(t, self.months), names, population, slots, self.options.fps
            )
            for t in self.tracks
        ]

    def _add_caption_slots(
        self, x: float, top: float, width: float, slots: int, size: float, line: float
    ) -> list[tuple[Any, Any, Any, float]]:
        out = []
        icon_w = self._width("●", size) + 0.1
        date_w = max(self._width(f"{m} 2028", size, "bold") for m in MONTHS) + 0.2
        for i in range(slots):
            y = top - i * line
            icon = self._text(x, y, "", fontsize=size, va="top")
            date = self._text(x + icon_w, y, "", fontsize=size, va="top", weight="bold")
            body = self._text(x + icon_w + date_w, y, "", fontsize=size, va="top")
            out.append((icon, date, body, width - icon_w - date_w))
        # Where these captions may draw, in inches (x0, y0, x1, y1): redrawn only on change.
        bottom = top - (slots - 1) * line - 1.45 * size / 72  # the last line's descenders
        self._caption_boxes.append((x - 0.05, bottom, x + width + 0.05, top + 0.04))
        return out

    def _show_captions(self, slots: list, captions: Sequence[Caption | None], size: float) -> None:
        for (icon, date, body, width), caption in zip(slots, captions, strict=True):
            if caption is None:
                icon.set_text("")
                date.set_text("")
                body.set_text("")
                continue
            glyph, colour = self.caption_style.get(caption.kind, ("●", self.theme.muted))
            icon.set_text(glyph)
            icon.set_color(colour)
            date.set_text(month_label(caption.month))
            date.set_color(self.theme.muted)
            body.set_text(self._fit(caption.text, width, size))

    # -- panels
    def _add_panel(self, rect: tuple[float, ...], panel: _Panel) -> dict:
        theme = self.theme
        ax = self.fig.add_axes(rect)
        ax.set_facecolor(theme.bg)
        first = min(int(t.months[0]) for t in self.tracks)
        last = max(int(t.months[-1]) for t in self.tracks)
        ax.set_xlim(first - 0.5, last + 0.5)
        data = np.concatenate([getattr(t, panel.column) for t in self.tracks])
        data = data[np.isfinite(data)]
        hi = float(data.max()) if data.size else 1.0
        if panel.log:
            lo = float(data[data > 0].min()) if np.any(data > 0) else 1.0
            ax.set_yscale("log")
            ax.set_ylim(min(lo, 1.0) / 1.15, max(hi, 2.0) * 1.35)
            ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200) if lo / 1.2 <= t <= hi * 1.35]
            ax.yaxis.set_major_locator(FixedLocator(ticks or [1]))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
            ax.axhline(1.0, color=theme.muted, lw=0.8, ls=":", zorder=1)
            ax.text(first + 1, 1.0, "parity", fontsize=9, color=theme.muted, va="bottom")
        else:
            ax.set_ylim(0, max(hi, 1.0) * 1.18)
            ax.yaxis.set_major_locator(_nice_locator(max(hi, 1.0)))
            if panel.column == "smuggled":
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_h100e(v)))
        years = [m for m in range(first, last + 1) if m % 12 == 0]
        if len(years) > 4:
            years = [m for m in years if (m // 12) % 2 == 0]
        ax.xaxis.set_major_locator(FixedLocator(years))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v) // 12}"))
        ax.tick_params(colors=theme.muted, labelsize=10, length=0, pad=3)
        ax.tick_params(axis="y", labelcolor=theme.fg)
        ax.tick_params(axis="x", labelcolor=theme.fg, pad=6)  # clear of the y axis "0"
        ax.grid(axis="y", color=theme.grid, lw=0.8)
        for name, spine in ax.spines.items():
            spine.set_visible(name == "bottom")
            spine.set_color(theme.muted)
        ax.set_axisbelow(True)
        branches = sorted({t.branch for t in self.tracks if t.branch is not None})
        for b in branches:
            ax.axvline(b, color=theme.muted, lw=0.9, ls=(0, (3, 3)), zorder=1)
        single = len(self.tracks) == 1
        title = panel.title if single else panel.short_title
        value_size = 16 if single else 12.5
        # Leave room on the title row for the widest values this panel will show.
        values_w = sum(
            max(self._width(panel.fmt(v), value_size, "bold") for v in getattr(t, panel.column))
            for t in self.tracks
        ) + 0.15 * len(self.tracks)
        title_size = 12.0 if single else 11.5
        axes_w = rect[2] * self.width_in
        while title_size > 9 and self._width(title, title_size) + values_w > axes_w:
            title_size -= 0.5
        ax.text(0.0, 1.07, title, transform=ax.transAxes, fontsize=title_size, color=theme.fg)
        lines = []
        colours = self.run_colours
        for i, track in enumerate(self.tracks):
            x = track.months.astype(float)
            y = getattr(track, panel.column)
            ax.plot(x, y, color=colours[i], lw=1.6, alpha=0.25, zorder=2)
            (past,) = ax.plot([], [], color=colours[i], lw=2.6, zorder=3, solid_capstyle="round")
            (dot,) = ax.plot([], [], "o", color=colours[i], ms=6.5, zorder=4, clip_on=False)
            lines.append((track, past, dot, y))
        cursor = ax.axvline(first, color=theme.fg, lw=1.0, alpha=0.55, zorder=2)
        # Current values above the panel's right end, the last run rightmost.
        values: list[Any] = []
        size = value_size
        anchor: Any = None
        for i in reversed(range(len(self.tracks))):
            style = {"ha": "right", "va": "baseline", "fontsize": size, "weight": "bold"}
            if anchor is None:
                text = ax.text(1.0, 1.07, "", transform=ax.transAxes, color=colours[i], **style)
            else:
                text = ax.annotate(
                    "",
                    xy=(0, 0),
                    xycoords=anchor,
                    xytext=(-0.6 * size, 0),
                    textcoords="offset points",
                    color=colours[i],
                    **style,
                )
            values.insert(0, text)
            anchor = text
        return {"ax": ax, "panel": panel, "lines": lines, "cursor": cursor, "values": values}

    def _update_panel(self, panel: dict, month: int) -> None:
        panel["cursor"].set_xdata([month, month])
        shown = []
        for track, past, dot, y in panel["lines"]:
            row = track.row_at(month)
            if row < 0:
                past.set_data([], [])
                dot.set_data([], [])
                shown.append(math.nan)
                continue
            x = track.months[: row + 1].astype(float)
            past.set_data(x, y[: row + 1])
            dot.set_data([x[-1]], [y[row]])
            shown.append(float(y[row]))
        for text, value in zip(panel["values"], shown, strict=True):
            text.set_text(panel["panel"].fmt(value))

    # -- layouts
    def _run_label(self, i: int, x: float, y: float, width: float, with_description: bool) -> None:
        """The scenario's name in its line colour (and, alone on screen, its description)."""
        track = self.tracks[i]
        name = self._fit(track.name, width, 15, "bold")
        self._text(x, y, name, fontsize=15, weight="bold", color=self.run_colours[i], va="baseline")
        if with_description and track.description:
            x_desc = x + self._width(name, 15, "bold") + 0.2
            self._text(
                x_desc,
                y,
                self._fit(track.description, width - (x_desc - x), 11.5),
                fontsize=11.5,
                color=self.theme.muted,
                va="baseline",
            )

    def _add_stats(self, drawn: dict, size: float) -> Any:
        ax = drawn["ax"]
        return ax.text(
            0.015,
            0.03,
            "",
            transform=ax.transAxes,
            fontsize=size,
            color=self.theme.fg,
            va="bottom",
            linespacing=1.35,
        )

    def _build_single(self) -> None:
        self._build_header("Who adopts the Chinese AI stack?")
        panels_w = 3.75
        column = self.width_in - panels_w - 0.25 - 0.45
        map_w = self._map_width(column, 3.7)
        map_top = HEIGHT_IN - 1.52
        # The label row is free across the whole width: the panels start lower down.
        self._run_label(0, 0.3, map_top + 0.1, self.width_in - 0.6, with_description=True)
        map_h = self._map_height(map_w)
        left = 0.15 + (column - map_w) / 2
        self.maps = [self._add_map(self._map_rect(left, map_top - map_h, map_w))]
        self.stats = [self._add_stats(self.maps[0], 12.5)]
        self.caption_size = 13.0
        self.slots = [
            self._add_caption_slots(0.35, map_top - map_h - 0.1, map_w - 0.25, 4, 13.0, 0.3)
        ]
        px = self.width_in - panels_w - 0.25
        top, bottom, gap = HEIGHT_IN - 1.9, 0.72, 0.66
        h = (top - bottom - 2 * gap) / 3
        self.panels = []
        for i, panel in enumerate(PANELS):
            y = top - (i + 1) * h - i * gap
            rect = (self._fx(px + 0.5), self._fy(y), self._fx(panels_w - 0.5), self._fy(h))
            self.panels.append(self._add_panel(rect, panel))
        self._build_source()

    def _build_side_by_side(self) -> None:
        self._build_header("Two worlds: who adopts the Chinese AI stack?")
        margin, between = 0.2, 0.3
        column = (self.width_in - 2 * margin - between) / 2
        map_w = self._map_width(column, 2.7)
        map_h = self._map_height(map_w)
        map_top = HEIGHT_IN - 1.52
        self.maps, self.stats, self.slots = [], [], []
        self.caption_size = 11.5
        for i in range(2):
            left = margin + i * (column + between)
            self._run_label(i, left + 0.1, map_top + 0.1, column - 0.2, with_description=False)
            map_left = left + (column - map_w) / 2
            self.maps.append(self._add_map(self._map_rect(map_left, map_top - map_h, map_w)))
            self.stats.append(self._add_stats(self.maps[-1], 11))
            self.slots.append(
                self._add_caption_slots(
                    left + 0.15, map_top - map_h - 0.06, column - 0.2, 3, 11.5, 0.25
                )
            )
        panel_gap = 0.6
        panel_w = (self.width_in - 2 * margin - 2 * panel_gap) / 3
        top, bottom = 1.86, 0.64
        self.panels = []
        for i, panel in enumerate(PANELS):
            x = margin + 0.45 + i * (panel_w + panel_gap)
            rect = (self._fx(x), self._fy(bottom), self._fx(panel_w - 0.45), self._fy(top - bottom))
            self.panels.append(self._add_panel(rect, panel))
        self._build_source()

    # -- per frame
    def update(self, index: int) -> None:
        """Set every changing artist to frame ``index`` (nothing is rebuilt)."""
        month = self.months[index]
        self.date_text.set_text(month_label(month))
        branch = self.tracks[0].branch
        if branch is not None:
            self.phase_text.set_text(
                "real policy timeline" if month < branch else "scenario levers in force"
            )
        for track, drawn, stats, slots, schedule in zip(
            self.tracks, self.maps, self.stats, self.slots, self.schedules, strict=True
        ):
            rgba = self.country_colours(track, month)
            drawn["polys"].set_facecolor(rgba[self.geometry.ring_country])
            drawn["markers"].set_facecolor(rgba[self.geometry.marker_country])
            row = track.row_at(month)
            if row >= 0:
                n = track.official_cn[row]
                count = f"{n:.0f}" if math.isfinite(n) else "–"
                ended = " (run ended)" if month > track.months[-1] else ""
                stats.set_text(
                    f"Official Chinese stack{ended}\n{count} countries\n"
                    f"{_fmt_people(track.pop_cn[row])} people"
                )
            else:
                stats.set_text("")
            self._show_captions(slots, schedule[index], self.caption_size)
        for panel in self.panels:
            self._update_panel(panel, month)

    def _animated(self) -> list[Any]:
        """Every artist that changes between frames, in drawing order."""
        artists: list[Any] = [self.date_text, self.phase_text]
        for drawn, stats, slots in zip(self.maps, self.stats, self.slots, strict=True):
            artists += [drawn["polys"], drawn["markers"], stats]
            for icon, date, body, _ in slots:
                artists += [icon, date, body]
        for panel in self.panels:
            artists.append(panel["cursor"])
            for _, past, dot, _ in panel["lines"]:
                artists += [past, dot]
            artists += panel["values"][::-1]  # the anchor text first
        return artists

    def _build_zones(self) -> list[_Zone]:
        """Screen regions redrawn per frame (maps, panels) or only when their text changes.

        Called after the first full draw, when the axes have their final positions.
        """
        dpi = self.fig.dpi
        pad = 0.08 * dpi  # panel dots may overhang the axes (clip_on=False)
        zones = [
            _Zone(
                _inches_bbox(self.width_in - 3.3, HEIGHT_IN - 1.08, self.width_in, HEIGHT_IN, dpi),
                [self.date_text, self.phase_text],
                lambda: (self.date_text.get_text(), self.phase_text.get_text()),
            )
        ]
        for drawn, stats in zip(self.maps, self.stats, strict=True):
            zones.append(_Zone(drawn["ax"].bbox, [drawn["polys"], drawn["markers"], stats]))
        for panel in self.panels:
            box = panel["ax"].bbox
            region = Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + 0.3 * dpi)
            artists = [panel["cursor"]]
            for _, past, dot, _ in panel["lines"]:
                artists += [past, dot]
            zones.append(_Zone(region, artists + panel["values"][::-1]))
        for slots, box in zip(self.slots, self._caption_boxes, strict=True):
            texts = [t for icon, date, body, _ in slots for t in (icon, date, body)]
            zones.append(
                _Zone(
                    _inches_bbox(*box, dpi),
                    texts,
                    lambda texts=texts: tuple(t.get_text() for t in texts),
                )
            )
        # A region redrawn only on change must not be wiped by one redrawn every frame.
        always = [z.region for z in zones if z.key is None]
        for zone in zones:
            if zone.key is not None and any(zone.region.overlaps(r) for r in always):
                zone.key = None
        return zones

    def render(self, index: int) -> np.ndarray:
        """Frame ``index`` as an (H, W, 4) RGBA view of the canvas (valid until the next call).

        The static parts (ocean, axes, ticks, faint full lines, titles, legend, source line) are
        drawn once and kept as a background. Each frame restores only the regions that change and
        draws their artists again (blitting); caption regions are redrawn only when their text
        changes, since text is the slowest thing Agg draws.
        """
        self.update(index)
        first = self._background is None
        if first:
            for artist in self._animated_list:
                artist.set_animated(True)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._zones = self._build_zones()
            self._canvas_h = self.canvas.get_width_height(physical=True)[1]
        for zone in self._zones:
            key = zone.key() if zone.key is not None else None
            if not first and zone.key is not None and key == zone.last:
                continue
            # Agg counts rows from the top, and ``xy`` is an offset from where the saved region
            # came from (here the whole canvas, so none); widen the box to whole pixels.
            x0, y0, x1, y1 = zone.region.extents
            top, bottom = self._canvas_h - math.ceil(y1), self._canvas_h - math.floor(y0)
            box = (max(0, math.floor(x0)), max(0, top), math.ceil(x1), bottom)
            self.canvas.restore_region(self._background, bbox=box, xy=(0, 0))
            for artist in zone.artists:
                self.fig.draw_artist(artist)
            zone.last = key
        width, height = self.options.size
        return np.asarray(self.canvas.buffer_rgba())[:height, :width]

    def render_rgb(self, index: int) -> np.ndarray:
        """Frame ``index`` as a fresh (H, W, 3) uint8 array."""
        return np.ascontiguousarray(self.render(index)[..., :3])


@dataclass(eq=False)
class _Zone:
    """A screen region, the animated artists inside it, and what decides if it changed."""

    region: Bbox
    artists: list[Any]
    key: Callable[[], Any] | None = None  # None: redraw every frame
    last: Any = None


def _inches_bbox(x0: float, y0: float, x1: float, y1: float, dpi: float) -> Bbox:
    return Bbox.from_extents(x0 * dpi, y0 * dpi, x1 * dpi, y1 * dpi)


def _nice_locator(hi: float) -> FixedLocator:
    """Three or four round ticks from 0 up to about ``hi``."""
    raw = hi / 3
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return FixedLocator(list(np.arange(0, hi * 1.18 + 1e-9, step)))


# --- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    """What was written: the file, its frames, the render time and its size."""

    path: Path
    frames: int
    seconds: float
    bytes: int


def _check_out(out: Path, frame: str | None) -> str:
    suffix = out.suffix.lower()
    if frame is not None and suffix != ".png":
        raise InputError("--out", "out", str(out), "a .png file when --frame is given")
    if frame is None and suffix not in (".mp4", ".gif"):
        allowed = "a file ending in .mp4 or .gif (or .png with --frame YYYY-MM)"
        raise InputError("--out", "out", str(out), allowed)
    if out.is_dir():
        raise InputError("--out", "out", str(out), "a file path (this is a folder)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError("--out", "out", str(out), "a path in an existing folder")
    if not os.access(parent, os.W_OK):
        raise InputError("--out", "out", str(out), "a path in a writable folder")
    return suffix


def _atomic_target(out: Path) -> Path:
    """A temporary name beside ``out`` with the same extension (ffmpeg picks the format by it)."""
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=out.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
    return Path(tmp)


def _write_mp4(frames: Callable[[], Any], path: Path, size: tuple[int, int], fps: int) -> None:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        size,
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgba",  # the Agg buffer as is: no copy per frame
        pix_fmt_out="yuv420p",
        quality=None,
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=[
            "-crf",
            "20",
            "-preset",
            "fast",
            "-tune",
            "animation",
            "-movflags",
            "+faststart",
        ],
    )
    writer.send(None)
    try:
        for image in frames():
            writer.send(np.ascontiguousarray(image))
    finally:
        writer.close()


def _gif_palette(figure: ReplayFigure, count: int) -> Any:
    """One palette for the whole GIF (no flicker): the first, middle and last frames, plus every
    colour of the colour bar, so late, darker frames are not forced into an early palette."""
    from PIL import Image

    samples = [figure.render_rgb(i)[::2, ::2] for i in sorted({0, count // 2, count - 1})]
    width = samples[0].shape[1]
    bar = figure.cmap(np.linspace(0.0, 1.0, width))[:, :3]
    strip = np.repeat((bar * 255).astype(np.uint8)[None], 16, axis=0)
    sample = np.vstack([*samples, strip])
    return Image.fromarray(sample).quantize(colors=256, method=Image.Quantize.MEDIANCUT)


def _write_gif(
    frames: Callable[[], Any], path: Path, fps: int, hold_last: float, palette: Any
) -> int:
    from PIL import Image

    images = [
        Image.fromarray(np.ascontiguousarray(image[..., :3])).quantize(
            palette=palette, dither=Image.Dither.NONE
        )
        for image in frames()
    ]
    # GIF delays are in hundredths of a second; the last frame is held instead of repeated.
    duration = [round(1000 / fps)] * len(images)
    duration[-1] += round(1000 * hold_last)
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=duration, loop=0, optimize=False
    )
    return len(images)


def render_replay(
    run_dirs: Sequence[str | Path],
    out: str | Path,
    *,
    fps: int = 3,
    size: str | tuple[int, int] = "1280x720",
    theme: str = "light",
    hold_last: float = 3.0,
    every: int = 1,
    color: str = "share",
    frame: str | None = None,
    progress: bool = False,
) -> ReplayResult:
    """Render one run, or two side by side, to an MP4, a GIF or (with ``frame``) a PNG still."""
    options = ReplayOptions.make(fps, size, theme, hold_last, every, color)
    if not 1 <= len(run_dirs) <= 2:
        shown = " ".join(str(d) for d in run_dirs)
        raise InputError("DIR", "DIR", shown, "one run directory, or two to show side by side")
    out = Path(out)
    suffix = _check_out(out, frame)
    if suffix == ".mp4" and (options.size[0] % 2 or options.size[1] % 2):
        allowed = "even width and height for MP4 (H.264 in yuv420p halves the colour resolution)"
        raise InputError("--size", "size", "x".join(map(str, options.size)), allowed)
    table = load_countries()
    tracks = [read_track(path, table) for path in run_dirs]
    months = frame_months(tracks, options.every)
    started = time.perf_counter()
    if frame is not None:
        try:
            wanted = parse_month(frame)
        except ValueError:
            raise InputError("--frame", "frame", frame, "a month as YYYY-MM") from None
        first, last = months[0], max(int(t.months[-1]) for t in tracks)
        if not first <= wanted <= last:
            allowed = f"a month in the run, {format_month(first)} to {format_month(last)}"
            raise InputError("--frame", "frame", frame, allowed)
        # One frame per month for a still, so captions are those of that month's frame.
        figure = ReplayFigure(tracks, options, list(range(first, last + 1)))
        return _save_png(figure.render_rgb(wanted - first), out, started)

    hold = round(options.hold_last * options.fps) if suffix == ".mp4" else 0
    total = len(months) + hold
    from chipwar.runs.core.preflight import check_output_folder, replay_bytes

    check_output_folder(out.parent, replay_bytes(suffix, total, options.size))  # before rendering
    figure = ReplayFigure(tracks, options, months)
    target = _atomic_target(out)
    bar = tqdm(total=total, desc="replay", unit="frame", disable=not progress, leave=False)

    def frames() -> Any:
        image = None
        for index in range(len(months)):
            image = figure.render(index)
            bar.update()
            yield image
        for _ in range(hold):
            bar.update()
            yield image

    try:
        if suffix == ".mp4":
            _write_mp4(frames, target, options.size, options.fps)
            count = total
        else:
            palette = _gif_palette(figure, len(months))
            count = _write_gif(frames, target, options.fps, options.hold_last, palette)
        os.replace(target, out)
    finally:
        bar.close()
        target.unlink(missing_ok=True)
    return ReplayResult(out, count, time.perf_counter() - started, out.stat().st_size)


def _save_png(image: np.ndarray, out: Path, started: float) -> ReplayResult:
    from PIL import Image

    target = _atomic_target(out)
    try:
        Image.fromarray(image).save(target, format="PNG")
        os.replace(target, out)
    finally:
        target.unlink(missing_ok=True)
    return ReplayResult(out, 1, time.perf_counter() - started, out.stat().st_size)
