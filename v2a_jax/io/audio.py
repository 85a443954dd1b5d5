"""Waveform helpers: resampling, mono, exact lengths, wav files (soundfile).

Legend: C channels, S samples. Multichannel audio is channel-first, ``[C, S]``, everywhere in the
project; every function here works along the last axis.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from v2a_jax.io.atomic import atomic_path


def _rate(sr: float, what: str) -> int:
    if sr <= 0 or int(sr) != sr:
        raise ValueError(f"{what} sample rate must be a positive integer, got {sr}")
    return int(sr)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resamples along the last axis with a polyphase filter (exact rational factor).

    Args:
        x: float audio ``[..., S]``.
        sr_in: its sample rate.
        sr_out: the sample rate wanted.

    Returns:
        float32 ``[..., ceil(S * sr_out / sr_in)]``.
    """
    sr_in, sr_out = _rate(sr_in, "input"), _rate(sr_out, "output")
    x = np.asarray(x, np.float32)
    if sr_in == sr_out:
        return x
    ratio = Fraction(sr_out, sr_in)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """Averages channels: ``[S]`` stays, ``[C, S]`` becomes ``[S]`` (float32)."""
    x = np.asarray(x, np.float32)
    if x.ndim == 1:
        return x
    if x.ndim == 2:
        return x.mean(axis=0)
    raise ValueError(f"expected audio [S] or [C, S], got shape {x.shape}")


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Pads with zeros at the end or trims along the last axis to exactly ``n`` samples."""
    if n < 0:
        raise ValueError(f"length must be >= 0, got {n}")
    have = x.shape[-1]
    if have >= n:
        return x[..., :n]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n - have)]
    return np.pad(x, pad)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Reads an audio file (wav, flac, ogg: what libsndfile reads) as mono.

    Returns:
        ``(audio_s, sample_rate)``: float32 ``[S]`` in [-1, 1], channels averaged.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not audio libsndfile can read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    try:
        data_sc, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise ValueError(f"cannot read audio {path}: {err}") from None
    return to_mono(data_sc.T), int(sr)


def write_wav(path: str | Path, x: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Writes float audio ``[S]`` or ``[C, S]`` as a wav file, atomically.

    Args:
        path: where to write.
        x: float audio in [-1, 1]; clipped there for the PCM subtypes (a float wav keeps it all).
        sample_rate: in Hz.
        subtype: a soundfile subtype: ``PCM_16`` (default), ``PCM_24`` or ``FLOAT``.

    Raises:
        ValueError: NaN or inf in ``x`` (a wav of noise would hide the bug), or a bad shape.
    """
    x = np.asarray(x, np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"expected audio [S] or [C, S], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"refusing to write {path}: audio has NaN or inf")
    data = x.T if x.ndim == 2 else x  # soundfile wants [S, C]
    if subtype.startswith("PCM"):
        data = np.clip(data, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, _rate(sample_rate, "wav"), subtype=subtype, format="WAV")
