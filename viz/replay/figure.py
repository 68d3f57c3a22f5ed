"""The replay's figure: layout, map recolouring, side panels and captions, drawn frame by frame.

Why it is built this way: the figure (map polygons, panels, legend, titles) is built once; each
frame only recolours the map's PolyCollection, moves the panel cursors and swaps a few texts, and
the Agg canvas redraws just the screen regions that changed (blitting). The layout is designed
in inches on a 7.2-inch-tall canvas and the pixel size only sets the dpi, so 720p and 1080p look
the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgba, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import Bbox

from chipwar.viz.captions import MONTHS, Caption, caption_schedule, month_label
from chipwar.viz.replay.data import RunTrack, frame_events
from chipwar.viz.replay.options import THEMES, ReplayOptions
from chipwar.viz.replay.panels import PANELS, Panel, fmt_h100e, fmt_people, nice_locator
from chipwar.viz.worldmap import ATTRIBUTION, map_geometry
from chipwar.world.countries import load_countries
from chipwar.world.stacks import STACK_CODES, STACK_NAMES

HEIGHT_IN = 7.2  # the canvas is always 7.2 inches tall; --size sets the dpi


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
        by_name = {"us": theme.us, "hedged": theme.hedged, "cn": theme.cn}
        # Indexed by the stack code (world/stacks.py), as RunTrack.official holds it.
        self.stack_rgba = to_rgba_array([by_name[STACK_NAMES[code]] for code in STACK_CODES])

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
        shaded = any(t.bands for t in self.tracks)
        text = (
            (
                "Shaded: 10–90% of the calibrated members; lines: the member nearest the medians. "
                if shaded
                else ""
            )
            + f"Simulated with chipwar {version}: "
            + "; ".join(parts)
            + ". Model output, not a "
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
            "shock": ("▲", theme.shock),
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
    def _add_panel(self, rect: tuple[float, ...], panel: Panel) -> dict:
        theme = self.theme
        ax = self.fig.add_axes(rect)
        ax.set_facecolor(theme.bg)
        first = min(int(t.months[0]) for t in self.tracks)
        last = max(int(t.months[-1]) for t in self.tracks)
        ax.set_xlim(first - 0.5, last + 0.5)
        data = np.concatenate(
            [getattr(t, panel.column) for t in self.tracks]
            + [t.bands[panel.column].ravel() for t in self.tracks if panel.column in t.bands]
        )
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
            ax.yaxis.set_major_locator(nice_locator(max(hi, 1.0)))
            if panel.column == "smuggled":
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_h100e(v)))
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
            band = track.bands.get(panel.column)
            if band is not None:  # an ensemble run: its members' 10-90% range, drawn once
                ax.fill_between(
                    x, band[:, 0], band[:, 1], color=colours[i], alpha=0.16, lw=0, zorder=1.5
                )
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
                    f"{fmt_people(track.pop_cn[row])} people"
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
