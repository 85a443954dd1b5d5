"""Foreground timbres: the impact sound of each material, synthesised once per object.

Each object gets a ``Timbre`` (its pitch and decay jittered per object, so two metal balls do not
sound the same) and from it two kernels that start at sample 0: the resonant ``body`` and the
contact ``click``. An event adds ``gain * (body + c * click)`` at its onset sample, with ``c``
drawn per event, so repeated hits of one object vary a little as real ones do.

- metal: inharmonic modal partials (free bar or bell ratios) with slow decay and a slight beat;
- wood: a short low-mid knock, few heavily damped modes and a band-passed noise burst;
- glass: high bright partials, medium decay, a sharp high click;
- drum: membrane modes (Bessel ratios) whose pitch drops after the hit, plus noise;
- rubber: a dull, low-passed, very short thud;
- beep: a pure or square-ish tone burst lasting as long as the box lights up.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from v2a_jax.data.syncscenes.dsp import harmonics, one_pole

ATTACK_S = 0.0005  # 0.5 ms ramp: the sound starts at the annotated sample without a DC click
BASE_GAIN = {  # balances the materials' loudness (a sustained beep carries more energy)
    "metal": 0.8,
    "wood": 1.0,
    "glass": 0.75,
    "drum": 1.0,
    "rubber": 1.0,
    "beep": 0.4,
}
_METAL_RATIOS = (
    (1.0, 2.756, 5.404, 8.933),  # free bar
    (1.0, 1.183, 1.506, 2.0, 2.514, 2.662, 3.011),  # bell-like plate
)
_DRUM_RATIOS = (1.0, 1.594, 2.136, 2.296, 2.653, 2.918)  # circular membrane (Bessel zeros)


@dataclasses.dataclass(frozen=True)
class Timbre:
    """One object's sound. ``pitch_hz`` is its lowest mode; ``decay_s`` the time constant of it."""

    material: str
    pitch_hz: float
    decay_s: float
    variant: int = 0  # metal: which ratio set; beep: 0 sine, 1 square-ish
    beep_s: float = 0.0  # beep only: tone length, the same as the flash on screen

    def to_json(self) -> dict:
        out = {"pitch_hz": round(self.pitch_hz, 2), "decay_s": round(self.decay_s, 4)}
        if self.material == "beep":
            out["beep_s"] = round(self.beep_s, 4)
            out["waveform"] = ("sine", "square")[self.variant]
        return out


def sample_timbre(material: str, rng: np.random.Generator, motion: str = "strike") -> Timbre:
    """Draws one object's timbre: pitch and decay ranges per material.

    A solid metal ball rings less than a struck metal object (the floor damps it), which also
    keeps its quick late bounces audible above the previous ring.
    """
    u = rng.uniform
    if material == "metal":
        decay = u(0.07, 0.14) if motion == "bounce" else u(0.18, 0.4)
        return Timbre(material, u(380.0, 900.0), decay, int(rng.integers(2)))
    if material == "wood":
        return Timbre(material, u(170.0, 420.0), u(0.018, 0.04))
    if material == "glass":
        return Timbre(material, u(1300.0, 2600.0), u(0.07, 0.16))
    if material == "drum":
        return Timbre(material, u(85.0, 180.0), u(0.09, 0.18))
    if material == "rubber":
        return Timbre(material, u(55.0, 110.0), u(0.025, 0.045))
    if material == "beep":
        return Timbre(material, u(650.0, 1900.0), 0.0, int(rng.integers(2)), u(0.08, 0.22))
    raise ValueError(f"unknown material {material!r}; expected one of the MATERIALS")


def _modes(t, f0, ratios, amps, taus, sample_rate, rng, drop=0.0, drop_tau=0.04):
    """Sum of damped sines [N]; ``drop`` raises the start pitch by that fraction (membranes)."""
    out = np.zeros(len(t), np.float32)
    bend = t + drop * drop_tau * (1 - np.exp(-t / drop_tau)) if drop else t
    for ratio, amp, tau in zip(ratios, amps, taus, strict=True):
        f = f0 * ratio * rng.uniform(0.995, 1.005)
        if f > 0.45 * sample_rate:
            continue  # above Nyquist it would alias into a wrong pitch
        phase = rng.uniform(0, 2 * np.pi)
        out += (amp * np.sin(2 * np.pi * f * bend + phase) * np.exp(-t / tau)).astype(np.float32)
    return out


def synth_kernels(
    timbre: Timbre, sample_rate: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The body and click kernels of one object, each float32 [N], N samples from the onset.

    ``body + click`` peaks at 1 times the material's base gain.
    """
    m, f0, tau = timbre.material, timbre.pitch_hz, timbre.decay_s
    length_s = {"metal": 5 * tau, "wood": 0.2, "glass": 5 * tau, "drum": 5 * tau + 0.05,
                "rubber": 0.18, "beep": timbre.beep_s}[m]  # fmt: skip
    n = max(16, int(length_s * sample_rate))
    t = np.arange(n, dtype=np.float32) / sample_rate
    noise = rng.standard_normal(n).astype(np.float32)
    if m == "metal":
        ratios = _METAL_RATIOS[timbre.variant]
        amps = rng.uniform(0.5, 1.0, len(ratios)) / np.sqrt(np.arange(1, len(ratios) + 1))
        taus = tau / (1 + 0.25 * np.asarray(ratios))
        body = _modes(t, f0, ratios, amps, taus, sample_rate, rng)
        body += _modes(t, f0 * 1.004, ratios[:2], 0.4 * amps[:2], taus[:2], sample_rate, rng)
        click = noise * np.exp(-t / 0.0015) * 0.6
    elif m == "wood":
        ratios = (1.0, 2.45, 4.1, 6.3)
        body = _modes(t, f0, ratios, (1.0, 0.5, 0.3, 0.15), tau / np.arange(1, 5), sample_rate, rng)
        click = one_pole(one_pole(noise, 300, sample_rate, True), 1800, sample_rate)
        click *= 2.0 * np.exp(-t / 0.003)
    elif m == "glass":
        ratios = (1.0, 2.32, 4.25, 6.63)
        taus = tau / (1 + 0.4 * np.arange(4))
        body = _modes(t, f0, ratios, (1.0, 0.7, 0.45, 0.3), taus, sample_rate, rng)
        click = one_pole(noise, 3000, sample_rate, True) * np.exp(-t / 0.001)
    elif m == "drum":
        amps = (1.0, 0.6, 0.45, 0.35, 0.3, 0.25)
        taus = tau / (1 + 0.5 * np.arange(6))
        drop = rng.uniform(0.3, 0.6)
        body = _modes(t, f0, _DRUM_RATIOS, amps, taus, sample_rate, rng, drop=drop)
        click = one_pole(noise, 1500, sample_rate) * np.exp(-t / 0.015) * 1.2
    elif m == "rubber":
        body = _modes(t, f0, (1.0, 1.7), (1.0, 0.3), (tau, tau / 2), sample_rate, rng, drop=0.4)
        click = one_pole(one_pole(noise, 400, sample_rate), 400, sample_rate) * np.exp(-t / 0.008)
        click *= 4.0
        body = one_pole(body, 600, sample_rate)  # dull: nothing bright survives
    elif m == "beep":
        f = 2 * np.pi * f0 * t
        amps = (
            np.array([1.0]) if timbre.variant == 0 else np.array([1, 0, 1 / 3, 0, 1 / 5, 0, 1 / 7])
        )
        amps = amps[: max(1, int(0.45 * sample_rate / f0))]  # band-limited square
        edge = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.004)  # 4 ms ramps: no clicks
        body = harmonics(f, amps) * edge
        click = np.zeros(n, np.float32)
    else:
        raise ValueError(f"unknown material {m!r}")
    attack = np.minimum(1.0, t / ATTACK_S)
    if m in ("metal", "glass", "drum"):
        body *= np.minimum(1.0, (n - np.arange(n)) / (0.1 * n))  # fade the truncated tail
    body, click = body * attack, click * attack
    scale = BASE_GAIN[m] / (np.abs(body + click).max() + 1e-9)
    return (body * scale).astype(np.float32), (click * scale).astype(np.float32)


def object_audio(
    body: np.ndarray,
    click: np.ndarray,
    samples: np.ndarray,
    gains: np.ndarray,
    clicks: np.ndarray,
    n: int,
    sample_rate: int,
) -> np.ndarray:
    """One object's sound: ``gain * (body + c * click)`` added at each onset sample.

    A new contact damps what still rings from the previous one (the object touches the floor or
    the mallet again), so each event's ring is cut, with a 2 ms fade, where the next one starts.

    Args:
        body, click: float32 [N] kernels from ``synth_kernels``.
        samples: int [E] increasing onset samples; gains, clicks: [E] gain and click mix.
        n: clip length in samples.

    Returns:
        float32 [n].
    """
    out = np.zeros(n, np.float32)
    fade = max(1, int(0.002 * sample_rate))
    for k, (s, g, c) in enumerate(zip(samples, gains, clicks, strict=True)):
        stop = min(n, s + len(body))
        nxt = samples[k + 1] if k + 1 < len(samples) else n
        if nxt + fade < stop:
            stop = nxt + fade
        seg = g * (body[: stop - s] + c * click[: stop - s])
        if nxt < stop:
            seg[nxt - s :] *= np.linspace(1.0, 0.0, stop - nxt, dtype=np.float32)
        out[s:stop] += seg
    return out
