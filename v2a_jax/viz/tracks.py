"""One soundtrack's media for a page: wav, spectrogram PNG, the clip's video muxed with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2a_jax.io.audio import write_wav
from v2a_jax.io.video_write import write_video
from v2a_jax.viz.compare_page import Track
from v2a_jax.viz.spectrogram import save_spectrogram


def write_track(
    page_dir: str | Path,
    stem: str,
    label: str,
    wave_s: np.ndarray,
    sample_rate: int,
    frames_fhwc: np.ndarray,
    fps: float,
    metrics: dict | None = None,
) -> Track:
    """Writes ``<page_dir>/<stem>.wav|.png|.mp4`` (each atomically) and returns their ``Track``.

    Args:
        page_dir: the folder of the page that will show the track (paths are relative to it).
        stem: file path without suffix, relative to ``page_dir`` (e.g. ``media/clip/ar``).
        label: the track's title on the page.
        wave_s: float32 [S] audio.
        sample_rate: of ``wave_s``.
        frames_fhwc: uint8 [F, H, W, 3] video frames the audio goes with.
        fps: their frame rate.
        metrics: numbers shown under the track.
    """
    page_dir = Path(page_dir)
    wav, png, mp4 = (page_dir / f"{stem}{ext}" for ext in (".wav", ".png", ".mp4"))
    write_wav(wav, wave_s, sample_rate)
    save_spectrogram(png, wave_s, sample_rate, title=label)
    write_video(mp4, frames_fhwc, float(fps), audio=wave_s, sample_rate=sample_rate)
    rel = lambda p: p.relative_to(page_dir).as_posix()  # noqa: E731
    return Track(label, rel(wav), rel(png), rel(mp4), dict(metrics or {}))
