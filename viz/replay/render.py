"""A replay from run tables to frames to one file: checked before anything is drawn.

:class:`Replay` turns one run (or two, side by side) into the months to show and checks every
request no run could satisfy (how many runs, an odd MP4 size, a still outside the runs) before
the figure is built; :meth:`Replay.write` then draws the frames and encodes them to the path it
is given. Choosing that path, and checking the disk, is the caller's job (runs/core/replays.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from chipwar.viz.replay.data import RunTables, frame_months, read_track
from chipwar.viz.replay.encoders import gif_palette, write_gif, write_mp4, write_png
from chipwar.viz.replay.figure import ReplayFigure
from chipwar.viz.replay.options import ReplayOptions
from chipwar.world.calendar import format_month, parse_month
from chipwar.world.countries import load_countries
from chipwar.world.errors import InputError

VIDEO_FORMATS = (".mp4", ".gif")
STILL_FORMAT = ".png"


def output_format(out: Path, frame: str | None) -> str:
    """The file type ``--out`` asks for: ``.mp4`` or ``.gif``, or ``.png`` for a ``--frame``."""
    suffix = Path(out).suffix.lower()
    if frame is not None and suffix != STILL_FORMAT:
        raise InputError("--out", "out", str(out), "a .png file when --frame is given")
    if frame is None and suffix not in VIDEO_FORMATS:
        allowed = "a file ending in .mp4 or .gif (or .png with --frame YYYY-MM)"
        raise InputError("--out", "out", str(out), allowed)
    return suffix


def check_request(runs: Sequence[object], options: ReplayOptions, fmt: str) -> None:
    """Refuse what no run folder could fix: other than one or two runs, or an odd MP4 size.

    ``runs`` are the runs as the user named them (shown in the message).
    """
    if not 1 <= len(runs) <= 2:
        shown = " ".join(str(run) for run in runs)
        raise InputError("DIR", "DIR", shown, "one run directory, or two to show side by side")
    if fmt == ".mp4" and (options.size[0] % 2 or options.size[1] % 2):
        allowed = "even width and height for MP4 (H.264 in yuv420p halves the colour resolution)"
        raise InputError("--size", "size", "x".join(map(str, options.size)), allowed)


class Replay:
    """One run, or two side by side, ready to render as ``fmt`` (``output_format``).

    ``frame`` (YYYY-MM) asks for a still of that month instead of a video.
    """

    def __init__(
        self,
        runs: Sequence[RunTables],
        options: ReplayOptions,
        fmt: str,
        frame: str | None = None,
    ) -> None:
        check_request([run.path for run in runs], options, fmt)
        table = load_countries()
        self.tracks = [read_track(run, table) for run in runs]
        self.options = options
        self.fmt = fmt
        months = frame_months(self.tracks, options.every)
        self.still: int | None = None
        if frame is not None:
            try:
                wanted = parse_month(frame)
            except ValueError:
                raise InputError("--frame", "frame", frame, "a month as YYYY-MM") from None
            first, last = months[0], max(int(t.months[-1]) for t in self.tracks)
            if not first <= wanted <= last:
                allowed = f"a month in the run, {format_month(first)} to {format_month(last)}"
                raise InputError("--frame", "frame", frame, allowed)
            # One frame per month for a still, so captions are those of that month's frame.
            months = list(range(first, last + 1))
            self.still = wanted - first
        self.months = months
        # MP4 repeats the last frame; a GIF holds it with a longer delay (encoders.py).
        self.hold = round(options.hold_last * options.fps) if fmt == ".mp4" else 0

    @property
    def frames(self) -> int:
        """Frames the file will hold."""
        return 1 if self.still is not None else len(self.months) + self.hold

    def write(self, path: Path, progress: bool = False) -> int:
        """Draw and encode to ``path`` (any name: the format is ``fmt``); returns frames written."""
        figure = ReplayFigure(self.tracks, self.options, self.months)
        if self.still is not None:
            write_png(figure.render_rgb(self.still), path)
            return 1
        options, count = self.options, len(self.months)
        bar = tqdm(
            total=self.frames, desc="replay", unit="frame", disable=not progress, leave=False
        )

        def frames() -> Iterator[np.ndarray]:
            image = None
            for index in range(count):
                image = figure.render(index)
                bar.update()
                yield image
            for _ in range(self.hold):
                bar.update()
                yield image

        try:
            if self.fmt == ".mp4":
                write_mp4(frames, path, options.size, options.fps)
                return self.frames
            # The palette sees the first, middle and last frames before the GIF is drawn.
            samples = [figure.render_rgb(i) for i in sorted({0, count // 2, count - 1})]
            palette = gif_palette(samples, figure.cmap)
            return write_gif(frames, path, options.fps, options.hold_last, palette)
        finally:
            bar.close()
