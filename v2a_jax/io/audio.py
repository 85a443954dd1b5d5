"""Waveform helpers: resampling, mono, exact lengths, wav files (soundfile)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from v2a_jax.io.atomic import atomic_path


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resamples along the last axis with a polyphase filter; float32 out."""
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_in} -> {sr_out}")
    x = np.asarray(x, np.float32)
    if sr_in == sr_out:
        return x
    ratio = Fraction(int(sr_out), int(sr_in))
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """[S] stays; [C, S] is averaged over channels into [S]."""
    x = np.asarray(x, np.float32)
    if x.ndim == 1:
        return x
    if x.ndim == 2:
        return x.mean(axis=0)
    raise ValueError(f"expected audio [S] or [C, S], got shape {x.shape}")


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Pads with zeros or trims along the last axis to exactly ``n`` samples."""
    if n < 0:
        raise ValueError(f"length must be >= 0, got {n}")
    have = x.shape[-1]
    if have >= n:
        return x[..., :n]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n - have)]
    return np.pad(x, pad)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Reads an audio file into float32 [S] mono and its sample rate."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise ValueError(f"cannot read audio {path}: {err}") from None
    return to_mono(data.T), int(sr)


def write_wav(path: str | Path, x: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Writes float audio [S] or [C, S] atomically (clipped to [-1, 1] for PCM)."""
    x = np.asarray(x, np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"refusing to write {path}: audio has NaN or inf")
    data = x.T if x.ndim == 2 else x
    if subtype.startswith("PCM"):
        data = np.clip(data, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, int(sample_rate), subtype=subtype, format="WAV")
