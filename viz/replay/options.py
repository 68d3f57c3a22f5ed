"""How a replay looks: colour themes, and the rendering options checked before any work starts.

Every bad option is an InputError naming its command-line flag, so ``chipwar replay`` refuses it
in one line before a run folder is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chipwar.world.errors import InputError

COLOR_MODES = ("share", "official")
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
    shock: str


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
        shock="#117733",
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
        shock="#44BB99",
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
