"""A clip with its ground-truth soundtrack, as an mp4 a person can watch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2a_jax.data.loaders import open_split
from v2a_jax.io.video import write_video


def upscale_nearest(frames_fhwc: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling ``[F, H, W, C] -> [F, H*factor, W*factor, C]``."""
    if factor < 1:
        raise ValueError(f"scale must be >= 1, got {factor}")
    return frames_fhwc.repeat(factor, axis=1).repeat(factor, axis=2)


def write_preview(
    data_dir: str | Path,
    split: str,
    index: int,
    out_path: str | Path,
    scale: int = 4,
    name: str | None = None,
) -> dict:
    """Writes clip ``index`` of ``split`` with its audio to ``out_path`` (mp4, h264 + aac).

    Frames are upscaled by ``scale`` (64x64 is too small to watch). Returns the clip's record
    without the arrays, for printing.
    """
    clip = open_split(data_dir, split, name)[index]
    write_video(
        out_path,
        upscale_nearest(clip["frames"], scale),
        clip["fps"],
        audio=clip["audio"],
        sample_rate=clip["sample_rate"],
    )
    return {k: v for k, v in clip.items() if k not in ("frames", "audio", "stems")}
