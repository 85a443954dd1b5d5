"""Spectrogram PNGs (matplotlib, headless) with a shared colour scale for side-by-side viewing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2a_jax.diffusion.metrics import log_mel
from v2a_jax.io.atomic import atomic_path


def save_spectrogram(
    path: str | Path,
    wave_s: np.ndarray,
    sample_rate: int,
    title: str = "",
    n_fft: int = 1024,
    n_mels: int = 80,
    vmin: float = -5.0,
    vmax: float = 1.0,
) -> Path:
    """Writes a log-mel spectrogram of ``wave_s`` [S] as a PNG, atomically.

    The colour range is fixed (``vmin``/``vmax`` in log10 magnitude) rather than per image, so
    two soundtracks of one clip compare by eye: the same colour is the same loudness.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mel_mn = log_mel(np.asarray(wave_s, np.float32), sample_rate, n_fft, n_mels)
    duration = len(wave_s) / sample_rate
    fig, ax = plt.subplots(figsize=(5.0, 2.2), dpi=100)
    try:
        ax.imshow(
            mel_mn,
            origin="lower",
            aspect="auto",
            extent=(0.0, duration, 0, n_mels),
            vmin=vmin,
            vmax=vmax,
            cmap="magma",
        )
        ax.set_xlabel("time (s)")
        ax.set_ylabel("mel band")
        if title:
            ax.set_title(title, fontsize=9)
        fig.tight_layout()
        final = Path(path)
        with atomic_path(final) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return final
