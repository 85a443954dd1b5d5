"""Log-mel features of the SyncBench classifier (numpy; the same for training and scoring).

Legend: S samples, T frames (16 ms hop), M mel bands.
"""

from __future__ import annotations

import functools

import numpy as np

from v2a_jax.io.audio import resample

SAMPLE_RATE = 16000  # the classifier's rate; other rates are resampled to it
N_FFT = 512
HOP = 256
N_MELS = 64
FMIN, FMAX = 30.0, 8000.0


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


@functools.cache
def mel_filterbank() -> np.ndarray:
    """Triangular HTK-style filters: float32 [N_FFT // 2 + 1, M]."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    up = (freqs[:, None] - lo[None]) / (mid - lo)[None]
    down = (hi[None] - freqs[:, None]) / (hi - mid)[None]
    return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


def log_mel(wave: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Log-mel power of mono audio.

    Args:
        wave: float audio [S].
        sr: its sample rate (resampled to 16 kHz when different).

    Returns:
        float32 [T, M], ``T = 1 + S16 // HOP`` (S16: samples at 16 kHz), natural log of power.
    """
    x = np.asarray(wave, np.float32)
    if x.ndim != 1:
        raise ValueError(f"log_mel expects mono audio [S], got shape {x.shape}")
    if sr != SAMPLE_RATE:
        x = resample(x, sr, SAMPLE_RATE)
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2))
    n = 1 + len(x) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    frames_tn = padded[idx] * np.hanning(N_FFT).astype(np.float32)
    power_tk = np.square(np.abs(np.fft.rfft(frames_tn, axis=1))).astype(np.float32)
    return np.log(power_tk @ mel_filterbank() + 1e-6).astype(np.float32)
