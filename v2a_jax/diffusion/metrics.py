"""Multi-scale mel distance: how far a decoded waveform is from the ground-truth audio.

Legend: S samples, M mel bands, N frames.

The refiner is judged by it (issue 7): decode(refined latent) against decode(z_q), both measured
against the clip's real audio. Numpy only, so it runs anywhere the comparison runs.
"""

from __future__ import annotations

import functools

import numpy as np

DEFAULT_SCALES = (64, 128, 256, 512, 1024, 2048)


@functools.lru_cache(maxsize=32)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular HTK-mel filters [M, n_fft // 2 + 1] (area-normalised, as Slaney)."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    inv = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    hz = inv(np.linspace(mel(0.0), mel(sample_rate / 2), n_mels + 2))
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    up = (bins[None] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - bins[None]) / np.maximum(hi - mid, 1e-9)
    fb = np.maximum(0.0, np.minimum(up, down))
    return (fb * (2.0 / (hi - lo))).astype(np.float32)


def log_mel(wave_s: np.ndarray, sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """log10 mel magnitude [M, N] with a Hann window and hop ``n_fft // 4``."""
    hop = n_fft // 4
    x = np.pad(np.asarray(wave_s, np.float32), (n_fft // 2, n_fft // 2), mode="reflect")
    n_frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None] + hop * np.arange(n_frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft + 1)[:-1].astype(np.float32), axis=-1))
    mel_mn = mel_filterbank(sample_rate, n_fft, n_mels) @ spec.T
    return np.log10(np.maximum(mel_mn, 1e-5))


def multiscale_mel_distance(
    pred_s: np.ndarray, target_s: np.ndarray, sample_rate: int, scales=DEFAULT_SCALES
) -> float:
    """Mean over STFT sizes of the L1 distance between log10 mel spectrograms (DAC's mel loss).

    Args:
        pred_s: float [S] waveform.
        target_s: float [S'] ground truth; both are cut to the shorter length.
        sample_rate: Hz (both).
        scales: STFT sizes; ``n_mels = min(80, n_fft // 4)`` each (small windows have few bins).

    Raises:
        ValueError: a waveform is not 1-D or is shorter than the largest scale.
    """
    pred_s, target_s = np.asarray(pred_s), np.asarray(target_s)
    if pred_s.ndim != 1 or target_s.ndim != 1:
        raise ValueError(f"waveforms must be 1-D, got {pred_s.shape} and {target_s.shape}")
    n = min(len(pred_s), len(target_s))
    if n < max(scales):
        raise ValueError(f"waveforms of {n} samples are shorter than the STFT size {max(scales)}")
    dists = [
        float(
            np.mean(
                np.abs(
                    log_mel(pred_s[:n], sample_rate, s, min(80, s // 4))
                    - log_mel(target_s[:n], sample_rate, s, min(80, s // 4))
                )
            )
        )
        for s in scales
    ]
    return float(np.mean(dists))
