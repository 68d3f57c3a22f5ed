"""Frames to files: MP4 through imageio-ffmpeg's bundled ffmpeg, GIF and PNG through Pillow.

Each encoder writes to the path it is given and nothing else: the caller chooses the path (the
command line hands over a temporary beside the target, renamed into place when the encoder
returns; runs/core/atomic.py ``atomic_path``). The MP4 path must end in ``.mp4``: ffmpeg picks
the container by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: ffmpeg's H.264 settings: visually lossless for flat map colours, small files, playable in
#: browsers and presentation software (yuv420p; the index at the front for streaming).
MP4_OPTIONS = ["-crf", "20", "-preset", "fast", "-tune", "animation", "-movflags", "+faststart"]


def write_mp4(
    frames: Callable[[], Iterable[np.ndarray]], path: Path, size: tuple[int, int], fps: int
) -> None:
    """Encode RGBA frames (H, W, 4) of ``size`` to H.264 in an MP4 at ``path``."""
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
        output_params=list(MP4_OPTIONS),
    )
    writer.send(None)
    try:
        for image in frames():
            writer.send(np.ascontiguousarray(image))
    finally:
        writer.close()


def gif_palette(samples: Sequence[np.ndarray], cmap: Callable[[np.ndarray], np.ndarray]) -> Any:
    """One palette for the whole GIF (no flicker), from sample frames (RGB) plus every colour of
    the share colour bar, so late, darker frames are not forced into an early palette."""
    from PIL import Image

    halves = [sample[::2, ::2] for sample in samples]
    width = halves[0].shape[1]
    bar = cmap(np.linspace(0.0, 1.0, width))[:, :3]
    strip = np.repeat((bar * 255).astype(np.uint8)[None], 16, axis=0)
    sample = np.vstack([*halves, strip])
    return Image.fromarray(sample).quantize(colors=256, method=Image.Quantize.MEDIANCUT)


def write_gif(
    frames: Callable[[], Iterable[np.ndarray]],
    path: Path,
    fps: int,
    hold_last: float,
    palette: Any,
) -> int:
    """Write the frames (RGB or RGBA) as a looping GIF on ``palette``; returns the frame count.

    The last frame is held ``hold_last`` seconds longer instead of being repeated.
    """
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
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=0,
        optimize=False,
    )
    return len(images)


def write_png(image: np.ndarray, path: Path) -> None:
    """One RGB frame as a PNG still."""
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG")
