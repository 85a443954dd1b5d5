"""Impact sounds of the foreground materials, as modal synthesis kernels (float32 [N]).

Each material is a few damped partials whose frequency ratios, decay and noise set its timbre:
metal rings with inharmonic bar modes, wood knocks briefly, glass is high and bright, a drum skin
drops in pitch, rubber thuds dully, the beep is a square-ish tone for as long as its box flashes.
Per-object jitter of pitch and decay keeps two metal balls from sounding identical.
"""

from __future__ import annotations

import numpy as np

# (f0 range Hz, partial ratios, decay range s, noise share, noise decay s)
_MODAL = {
    "metal": ((420.0, 900.0), (1.0, 2.76, 5.40, 8.93), (0.5, 1.0), 0.05, 0.004),
    "wood": ((160.0, 360.0), (1.0, 2.57, 4.21), (0.035, 0.07), 0.35, 0.006),
    "glass": ((1500.0, 2800.0), (1.0, 2.32, 4.25, 6.63), (0.18, 0.35), 0.05, 0.002),
    "drum": ((85.0, 170.0), (1.0, 1.59, 2.14, 2.30), (0.12, 0.25), 0.4, 0.02),
    "rubber": ((60.0, 120.0), (1.0, 1.5), (0.03, 0.05), 0.5, 0.01),
}


def _lowpass_noise(rng, n, alpha):
    """One-pole low-passed white noise; ``alpha`` near 1 keeps it dull."""
    from scipy.signal import lfilter

    return lfilter([1 - alpha], [1, -alpha], rng.standard_normal(n)).astype(np.float32)


def material_kernel(
    material: str, rng: np.random.Generator, sample_rate: int, flash_s: float = 0.12
) -> np.ndarray:
    """The sound of one event of this object, float32 [N], peak 1, starting at sample 0."""
    if material == "beep":
        n = int(flash_s * sample_rate)
        t = np.arange(n) / sample_rate
        f = rng.uniform(800.0, 1600.0)
        wave = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 3, 5))
        ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.003)  # 3 ms edges: no clicks
        out = wave * ramp
        return (out / np.abs(out).max()).astype(np.float32)
    (f_lo, f_hi), ratios, (d_lo, d_hi), noise_share, noise_decay = _MODAL[material]
    f0, decay = rng.uniform(f_lo, f_hi), rng.uniform(d_lo, d_hi)
    n = int(min(1.5, 5 * decay + 0.02) * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for i, ratio in enumerate(ratios):
        f = f0 * ratio * rng.uniform(0.99, 1.01)
        if f >= sample_rate / 2 * 0.95:
            continue
        if material == "drum":  # the membrane's pitch falls as the tension relaxes
            phase = 2 * np.pi * f * (t + 0.6 * 0.03 * (1 - np.exp(-t / 0.03)))
        else:
            phase = 2 * np.pi * f * t
        amp = 0.7**i * rng.uniform(0.7, 1.0)
        out += amp * np.sin(phase) * np.exp(-t / (decay / (1 + 0.5 * i)))
    alpha = 0.9 if material in ("rubber", "drum") else 0.3
    out += noise_share * 3 * _lowpass_noise(rng, n, alpha) * np.exp(-t / noise_decay)
    # The contact itself: a 3 ms broadband burst, what makes a re-struck ringing object audible.
    out = out / np.abs(out).max()
    out += 0.5 * rng.standard_normal(n) * np.exp(-t / 0.0015)
    attack = np.minimum(1.0, t / 0.0005)  # 0.5 ms: the onset stays at the annotated sample
    out *= attack
    return (out / np.abs(out).max()).astype(np.float32)


def place_events(kernel: np.ndarray, samples: np.ndarray, gains: np.ndarray, n: int) -> np.ndarray:
    """float32 [n]: ``kernel`` scaled by each gain, added at each onset sample."""
    out = np.zeros(n, np.float32)
    for s, g in zip(samples, gains, strict=True):
        end = min(n, s + len(kernel))
        out[s:end] += g * kernel[: end - s]
    return out
