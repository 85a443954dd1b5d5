"""Small signal helpers shared by the sound makers: shaped noise, filters, harmonics, levels.

Everything is numpy over whole sample arrays; noise is coloured in the frequency domain (one
inverse rFFT per layer) so a 10 s ambience costs about a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.fft
from scipy.signal import lfilter


def spectral_noise(
    rng: np.random.Generator, n: int, sample_rate: int, gain_fn: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Noise whose magnitude spectrum follows ``gain_fn``, unit RMS.

    Random phases under the exact magnitudes (a random-phase noise: Gaussian-like in time by the
    central limit theorem) cost a uniform draw per bin instead of two normals.

    Args:
        n: number of samples.
        gain_fn: frequencies in Hz [K] -> linear gains [K].

    Returns:
        float32 [n].
    """
    k = n // 2 + 1
    phase = rng.random(k, dtype=np.float32) * np.float32(2 * np.pi)
    gain = gain_fn(np.fft.rfftfreq(n, 1.0 / sample_rate).astype(np.float32)).astype(np.float32)
    spec = np.empty(k, np.complex64)
    spec.real, spec.imag = gain * np.cos(phase), gain * np.sin(phase)
    spec[0] = 0.0  # no DC offset
    out = scipy.fft.irfft(spec, n)
    return (out / (np.sqrt(np.mean(np.square(out))) + 1e-12)).astype(np.float32)


def band(f_hz: np.ndarray, lo_hz: float, hi_hz: float, order: int = 2) -> np.ndarray:
    """Smooth band-pass gain (Butterworth-like skirts of integer ``order``) over freqs [K]."""
    f = np.maximum(f_hz, 1.0).astype(np.float32)
    lo = np.minimum((np.float32(lo_hz) / f) ** 2, 1e4)  # capped: the gain is ~0 there anyway
    hi = np.minimum((f / np.float32(hi_hz)) ** 2, 1e4)
    lo_p, hi_p = lo, hi
    for _ in range(order - 1):
        lo_p, hi_p = lo_p * lo, hi_p * hi
    return 1.0 / np.sqrt((1.0 + lo_p) * (1.0 + hi_p))


def one_pole(x: np.ndarray, cutoff_hz: float, sample_rate: int, highpass: bool = False):
    """First-order low- (or high-) pass of ``x`` [N]; returns float32 [N]."""
    a = float(np.exp(-2 * np.pi * cutoff_hz / sample_rate))
    low = lfilter([1 - a], [1, -a], x)
    return (x - low if highpass else low).astype(np.float32)


def resonator(x: np.ndarray, freq_hz: float, decay_s: float, sample_rate: int) -> np.ndarray:
    """Two-pole resonance: each impulse in ``x`` [N] rings at ``freq_hz`` for ~``decay_s``."""
    r = float(np.exp(-1.0 / (decay_s * sample_rate)))
    w = 2 * np.pi * freq_hz / sample_rate
    return lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], x).astype(np.float32)


def harmonics(phase: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """sum_k amps[k] * sin((k + 1) * phase), by the Chebyshev recursion (one sin, one cos).

    Args:
        phase: radians [N].
        amps: [K] amplitude of harmonic k + 1.

    Returns:
        float32 [N].
    """
    phase = np.mod(phase, 2 * np.pi).astype(np.float32)  # small angles: float32 is exact enough
    s1 = np.sin(phase)
    c2 = 2 * np.cos(phase)
    out = amps[0] * s1
    prev, cur = np.zeros_like(s1), s1
    for a in amps[1:]:
        prev, cur = cur, c2 * cur - prev  # sin((k+1)x) = 2 cos(x) sin(kx) - sin((k-1)x)
        if a:
            out += a * cur
    return out


def to_rms(x: np.ndarray, rms: float) -> np.ndarray:
    """``x`` scaled to the given RMS (float32)."""
    return (x * (rms / (np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))).astype(
        np.float32
    )


def smooth_curve(rng: np.random.Generator, duration_s: float, rate_hz: float, n_points_per_s=4):
    """A slowly varying random curve in [0, 1]: a function of time in seconds.

    Random values every ``1 / n_points_per_s`` s smoothed with cosine interpolation, then a few
    sines of ``~rate_hz`` on top; the same curve drives what is seen and what is heard.
    """
    knots = int(np.ceil(duration_s * n_points_per_s)) + 3
    values = rng.uniform(0.0, 1.0, knots)
    freqs = rate_hz * rng.uniform(0.6, 1.4, 2)
    phases = rng.uniform(0, 2 * np.pi, 2)

    def curve(t_s: np.ndarray) -> np.ndarray:
        pos = np.asarray(t_s) * n_points_per_s
        i = np.clip(pos.astype(np.int64), 0, knots - 2)
        w = 0.5 - 0.5 * np.cos(np.pi * np.clip(pos - i, 0.0, 1.0))
        base = values[i] * (1 - w) + values[i + 1] * w
        wobble = sum(np.sin(2 * np.pi * f * t_s + p) for f, p in zip(freqs, phases, strict=True))
        return np.clip(0.7 * base + 0.15 * (1 + wobble / 2), 0.0, 1.0)

    return curve
