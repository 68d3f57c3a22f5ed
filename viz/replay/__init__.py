"""Animated replays for talks: a world map of AI-stack adoption over time, with the race beside it.

``chipwar replay DIR [DIR2] --out FILE.mp4|FILE.gif`` (or ``--frame YYYY-MM --out FILE.png``).

The package draws from a run's tables, already read, and writes to the path it is given; it
imports the model's world only. Reading the run folders, checking the disk and writing the file
atomically is the command line's (runs/core/replays.py). Its parts, one job each:

- ``options.py``: themes and the rendering options, checked before any work starts;
- ``data.py``: a run's tables arranged for drawing (month by country), and the frames' months;
- ``figure.py``: the figure (layout, map recolouring, side panels, captions), built once and
  redrawn frame by frame; ``panels.py`` what each side panel shows;
- ``encoders.py``: frames to MP4 (ffmpeg), GIF and PNG (Pillow);
- ``render.py``: :class:`Replay`, which ties them together for one output file.
"""

from __future__ import annotations

from chipwar.viz.replay.data import (
    COUNTRY_COLUMNS,
    SERIES_COLUMNS,
    RunTables,
    RunTrack,
    frame_events,
    frame_months,
    read_track,
)
from chipwar.viz.replay.figure import ReplayFigure
from chipwar.viz.replay.options import COLOR_MODES, THEMES, ReplayOptions, Theme, parse_size
from chipwar.viz.replay.render import Replay, check_request, output_format

__all__ = [
    "COLOR_MODES",
    "COUNTRY_COLUMNS",
    "SERIES_COLUMNS",
    "THEMES",
    "Replay",
    "ReplayFigure",
    "ReplayOptions",
    "RunTables",
    "RunTrack",
    "Theme",
    "check_request",
    "frame_events",
    "frame_months",
    "output_format",
    "parse_size",
    "read_track",
]
