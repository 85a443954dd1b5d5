"""Visible ambiences: what the weather is (shared by picture and sound) and how it sounds.

``Weather`` holds the few numbers both sides use: rain intensity (streak density and loudness),
the wind's gust curve (particle speed and loudness follow it at every moment) and the water's flow
(wave speed and gurgle rate). Sounds are float32 [S] at an RMS well below the foreground events:

- rain: bright noise plus droplet ticks (impulses through short high resonances);
- water: low-passed noise, modulated by a gurgle curve, plus rising-pitch bubbles;
- wind: band-passed noise whose loudness and whistle follow the gusts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from v2a_jax.data.syncscenes.dsp import band, resonator, smooth_curve, spectral_noise, to_rms

CURVE_RATE_HZ = 200  # slow curves are evaluated at this rate, then interpolated to audio rate


@dataclasses.dataclass
class Weather:
    """Ambience parameters shared by the sound and the picture."""

    rain: float  # intensity in [0.3, 1]
    gust: Callable[[np.ndarray], np.ndarray]  # seconds [N] -> wind strength [N] in [0, 1]
    flow: float  # water flow speed factor in [0.5, 1.3]
    wind_dir: float  # +1 blows to the right, -1 to the left


def sample_weather(rng: np.random.Generator, duration_s: float) -> Weather:
    """Draws the weather; always the same draws, whichever ambiences the clip shows."""
    rain = float(rng.uniform(0.3, 1.0))
    gust = smooth_curve(rng, duration_s + 1.0, rate_hz=0.3, n_points_per_s=1.5)
    flow = float(rng.uniform(0.5, 1.3))
    return Weather(rain, gust, flow, float(rng.choice([-1.0, 1.0])))


def _slow(curve: Callable[[np.ndarray], np.ndarray], n: int, sample_rate: int) -> np.ndarray:
    """A slow curve at audio rate [n], evaluated coarsely and interpolated (it has no highs)."""
    t = np.arange(n) / sample_rate
    grid = np.arange(int(n / sample_rate * CURVE_RATE_HZ) + 2) / CURVE_RATE_HZ
    return np.interp(t, grid, curve(grid)).astype(np.float32)


def rain_sound(rng: np.random.Generator, n: int, sample_rate: int, weather: Weather) -> np.ndarray:
    """Rain: bright hiss and droplet ticks, louder and denser with intensity. float32 [n]."""
    nyq = sample_rate / 2
    hiss = spectral_noise(
        rng, n, sample_rate, lambda f: band(f, 900.0, min(7000.0, 0.8 * nyq), 2) / (1 + f / 8000)
    )
    rate = 40 + 120 * weather.rain  # droplets per second
    count = rng.poisson(rate * n / sample_rate)
    where = rng.integers(0, n, count)
    amps = rng.uniform(0.1, 1.0, count) ** 2
    ticks = np.zeros(n, np.float32)
    for group in range(3):  # three droplet sizes, each ringing at its own pitch
        imp = np.zeros(n, np.float32)
        sel = where[group::3]
        np.add.at(imp, sel, amps[group::3])
        freq = min(rng.uniform(1800.0, 5500.0), 0.4 * sample_rate)
        ticks += resonator(imp, freq, rng.uniform(0.002, 0.005), sample_rate)
    mix = hiss + 0.8 * to_rms(ticks, 1.0)
    return to_rms(mix, 0.02 + 0.03 * weather.rain)


def water_sound(rng: np.random.Generator, n: int, sample_rate: int, weather: Weather) -> np.ndarray:
    """Flowing water: low-passed noise under a gurgle curve, with bubbles. float32 [n]."""
    body = spectral_noise(rng, n, sample_rate, lambda f: band(f, 60.0, 650.0, 2))
    gurgle = smooth_curve(rng, n / sample_rate + 1, rate_hz=2.5 * weather.flow, n_points_per_s=8)
    body *= 0.45 + 0.55 * _slow(gurgle, n, sample_rate)
    bubbles = np.zeros(n, np.float32)
    length = int(0.04 * sample_rate)
    t = np.arange(length, dtype=np.float32) / sample_rate
    kernels = []
    for _ in range(6):  # a few bubble sizes, reused: a bubble's pitch rises as it closes
        f0, tau, sweep = rng.uniform(350, 1300), rng.uniform(0.004, 0.012), rng.uniform(20, 80)
        kernels.append(np.sin(2 * np.pi * f0 * (t + 0.5 * sweep * t * t)) * np.exp(-t / tau))
    count = rng.poisson((8 + 14 * weather.flow) * n / sample_rate)
    for start, k, a in zip(
        rng.integers(0, max(1, n - length), count),
        rng.integers(0, len(kernels), count),
        rng.uniform(0.3, 1.0, count),
        strict=True,
    ):
        bubbles[start : start + length] += a * kernels[k][: n - start]
    mix = body + 0.6 * to_rms(bubbles, 1.0) if count else body
    return to_rms(mix, 0.025 + 0.015 * weather.flow)


def wind_sound(rng: np.random.Generator, n: int, sample_rate: int, weather: Weather) -> np.ndarray:
    """Wind: band-passed noise, loud in gusts, with a faint whistle on the strongest. [n]."""
    centre = rng.uniform(250.0, 600.0)
    body = spectral_noise(rng, n, sample_rate, lambda f: band(f, centre / 1.8, centre * 1.8, 2))
    whistle = spectral_noise(rng, n, sample_rate, lambda f: band(f, centre * 2.2, centre * 2.6, 4))
    gust = _slow(weather.gust, n, sample_rate)
    mix = body * (0.12 + 0.88 * gust**1.5) + 0.35 * whistle * gust**3
    return to_rms(mix, rng.uniform(0.025, 0.04))


SOUNDS = {"rain": rain_sound, "water": water_sound, "wind": wind_sound}
