"""Background layers: visible ambiences (rain, water, wind) and prompt-only ones (music, hum).

Noise is shaped in the frequency domain (one rFFT per layer) so a 10 s layer costs milliseconds.
Each layer is float32 [S] at a fixed RMS below the foreground events.
"""

from __future__ import annotations

import numpy as np


def shaped_noise(rng, n, sample_rate, lo_hz, hi_hz, tilt=0.0):
    """White noise band-limited to [lo_hz, hi_hz] with a spectral tilt (dB per octave)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sample_rate)
    gain = ((f >= lo_hz) & (f <= hi_hz)).astype(np.float64)
    if tilt:
        gain *= (np.maximum(f, lo_hz) / max(lo_hz, 1.0)) ** (tilt / 6.02)
    return np.fft.irfft(spec * gain, n)


def _rms_to(x, rms):
    return (x * (rms / (np.sqrt(np.mean(x**2)) + 1e-12))).astype(np.float32)


def make_gust(rng):
    """A slow wind-strength curve, seconds [N] -> (0, 1], shared by the wind's sight and sound."""
    freqs, phases = rng.uniform(0.15, 0.6, 2), rng.uniform(0, 2 * np.pi, 2)

    def gust(t):
        s = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phases, strict=True))
        return 0.55 + 0.45 * s / 2

    return gust


def rain(rng, n, sample_rate):
    hiss = shaped_noise(rng, n, sample_rate, 1500, 7000, tilt=-2)
    drops = np.zeros(n)
    count = int(rng.uniform(60, 140) * n / sample_rate)
    idx = rng.integers(0, n - 200, count)
    tick = np.exp(-np.arange(200) / 25.0) * np.sin(2 * np.pi * 3000 * np.arange(200) / sample_rate)
    for i, a in zip(idx, rng.uniform(0.2, 1.0, count), strict=True):
        drops[i : i + 200] += a * tick
    return _rms_to(_rms_to(hiss, 1.0) + 0.6 * _rms_to(drops, 1.0), 0.035)


def water(rng, n, sample_rate):
    t = np.arange(n) / sample_rate
    body = shaped_noise(rng, n, sample_rate, 80, 900, tilt=-3)
    body *= 0.7 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * t + rng.uniform(0, 6))
    bubbles = np.zeros(n)
    length = int(0.03 * sample_rate)
    tb = np.arange(length) / sample_rate
    for i in rng.integers(0, n - length, int(8 * n / sample_rate)):
        f = rng.uniform(300, 900)
        bubbles[i : i + length] += np.sin(2 * np.pi * f * tb * (1 + 8 * tb)) * np.exp(-tb / 0.008)
    return _rms_to(_rms_to(body, 1.0) + 0.3 * _rms_to(bubbles, 1.0), 0.04)


def wind(rng, n, sample_rate, gust):
    t = np.arange(n) / sample_rate
    body = shaped_noise(rng, n, sample_rate, 250, 1600, tilt=-4)
    return _rms_to(body * gust(t) ** 2, 0.035)


def music(rng, n, sample_rate):
    """A melody in a pentatonic scale: triangle-ish notes with soft attacks (not event-like)."""
    root = rng.choice([220.0, 246.9, 261.6, 293.7])
    scale = root * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14]) / 12)
    out = np.zeros(n)
    start = 0
    while start < n:
        length = int(rng.choice([0.25, 0.375, 0.5]) * sample_rate)
        tt = np.arange(min(length, n - start)) / sample_rate
        f = rng.choice(scale)
        tone = np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(6 * np.pi * f * tt) / 3
        env = np.minimum(1.0, tt / 0.03) * np.exp(-tt / 0.35)
        out[start : start + len(tt)] += tone * env
        start += length
    return _rms_to(out, 0.04)


def hum(rng, n, sample_rate):
    t = np.arange(n) / sample_rate
    f0 = rng.choice([50.0, 60.0])
    amps = rng.uniform(0.3, 1.0, 6) * np.array([1.0, 0.8, 0.6, 0.5, 0.35, 0.25])
    out = sum(a * np.sin(2 * np.pi * f0 * (k + 1) * t) for k, a in enumerate(amps))
    return _rms_to(out, 0.03)
