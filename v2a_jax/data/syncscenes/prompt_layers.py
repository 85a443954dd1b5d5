"""Prompt-only layers: sounds that nothing on screen shows, so only the caption can ask for them.

- music: a melody in a pentatonic scale (random key, tempo, instrument), notes with soft attacks
  (>= 20 ms) so they do not read as impact events, optionally over a quiet drone;
- hum: mains hum at 50 or 60 Hz with harmonics (odd ones stronger on a buzzing transformer).

Each returns float32 [S] at an RMS below the foreground.
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes.dsp import harmonics, to_rms

_SCALES = ((0, 2, 4, 7, 9), (0, 3, 5, 7, 10))  # major and minor pentatonic
# instrument -> (harmonic amplitudes, attack s, release s, decay time constant s or 0 for none)
_INSTRUMENTS = {
    "flute": (np.array([1.0, 0.25, 0.08]), 0.06, 0.08, 0.0),
    "organ": (np.array([1.0, 0.6, 0.4, 0.25, 0.15]), 0.03, 0.05, 0.0),
    "soft piano": (np.array([1.0, 0.45, 0.2, 0.1]), 0.02, 0.06, 0.45),
}


def music_sound(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """A short melody over the whole clip. float32 [n]."""
    beat = 60.0 / rng.uniform(80.0, 140.0)
    root = int(rng.integers(55, 68))  # MIDI: G3..G4
    scale = np.asarray(_SCALES[int(rng.integers(2))])
    pitches = root + np.concatenate([scale, scale + 12])
    name = list(_INSTRUMENTS)[int(rng.integers(len(_INSTRUMENTS)))]
    amps, attack, release, decay = _INSTRUMENTS[name]
    top_hz = 440.0 * 2 ** ((pitches.max() - 69) / 12)
    amps = amps[: max(1, int(0.45 * sample_rate / top_hz))]  # no harmonic above Nyquist

    # Notes: a random walk over the scale, in beats of 1/2, 1, 3/2, 2; now and then a rest.
    # Each note ends (0.95 of its length, released to silence) before the next starts, so notes
    # are synthesised one by one on short arrays.
    out = np.zeros(n, np.float32)
    t, degree = rng.uniform(0.0, 0.3), int(rng.integers(0, 5))
    while t < n / sample_rate:
        length = beat * float(rng.choice([0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        if rng.random() > 0.1:
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(pitches) - 1))
            f = 440.0 * 2 ** ((pitches[degree] - 69) / 12)
            start = int(t * sample_rate)
            m = min(int(0.95 * length * sample_rate), n - start)
            tn = np.arange(m, dtype=np.float32) / np.float32(sample_rate)
            env = np.minimum(tn / attack, 1.0) * np.clip((m / sample_rate - tn) / release, 0, 1)
            if decay:
                env *= np.exp(-tn / decay)
            phase = 2 * np.pi * f * tn
            if name == "flute":  # a gentle 5 Hz vibrato
                phase += (0.004 * f / 5.0) * np.sin(2 * np.pi * 5.0 * tn)
            out[start : start + m] = harmonics(phase, amps) * env
        t += length
    if rng.random() < 0.5:  # a quiet drone on the root, an octave down
        drone_f = 440.0 * 2 ** ((root - 12 - 69) / 12)
        out += 0.25 * _periodic(drone_f, np.array([1.0, 0.3]), n, sample_rate)
    if not out.any():
        return out
    return to_rms(out, rng.uniform(0.035, 0.06))


def _periodic(f0: float, amps: np.ndarray, n: int, sample_rate: int) -> np.ndarray:
    """Harmonics of ``f0`` [n], synthesised over one exact period block and tiled when possible."""
    ts = np.arange(n) / sample_rate
    frac = f0 - round(f0)
    if frac == 0:
        block = sample_rate // np.gcd(sample_rate, int(round(f0)))  # samples in whole periods
        if block < n:
            one = harmonics(2 * np.pi * f0 * ts[:block], amps)
            return np.tile(one, n // block + 1)[:n]
    return harmonics(2 * np.pi * f0 * ts, amps)


def hum_sound(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """Mains hum: 50 or 60 Hz and harmonics, with a slow slight wobble. float32 [n]."""
    f0 = float(rng.choice([50.0, 60.0]))
    k = np.arange(1, 11)
    amps = rng.uniform(0.3, 1.0, len(k)) / k**0.7
    amps[1::2] *= rng.uniform(0.3, 1.0)  # even harmonics: how much buzz versus pure hum
    amps[k * f0 > 0.45 * sample_rate] = 0.0
    out = _periodic(f0, amps, n, sample_rate)
    ts = np.arange(n, dtype=np.float32) / np.float32(sample_rate)
    out *= 1 + 0.06 * np.sin(np.float32(2 * np.pi * rng.uniform(0.2, 0.6)) * ts)
    return to_rms(out, rng.uniform(0.02, 0.035))


SOUNDS = {"music": music_sound, "hum": hum_sound}
