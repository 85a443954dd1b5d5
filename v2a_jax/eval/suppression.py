"""Negative-prompt suppression: how much of a negated layer a negative prompt removes.

For each clip generated with a negative prompt naming a layer the clip has (and its baseline,
generated without it), the fraction removed is ``1 - mean(after) / mean(before)`` of the layer's
classifier probability (and of its band energy), over the clips of each case: the layer visible
on screen (an ambience: the hard case) or not (a prompt-only layer).
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes import AMBIENCES, LAYER_NAMES
from v2a_jax.data.syncscenes.captions import KEYWORDS
from v2a_jax.eval.features import SAMPLE_RATE
from v2a_jax.io.audio import resample

# Where each layer's energy lies (Hz): from how SyncScenes synthesises it.
LAYER_BANDS = {
    "rain": (2000.0, 7000.0),
    "water": (60.0, 650.0),
    "wind": (150.0, 1500.0),
    "music": (180.0, 1800.0),
    "hum": (45.0, 400.0),
}
NEGATABLE = tuple(LAYER_NAMES[1:])


def negated_layers(negative_prompt: str) -> list[str]:
    """The layers a negative prompt names (by the caption keywords: "rain", "melody", ...)."""
    text = negative_prompt.lower()
    return [name for name in NEGATABLE if any(k in text for k in KEYWORDS[name])]


def band_energy(wave: np.ndarray, sr: int, layer: str) -> float:
    """Mean power of ``wave`` [S] inside the layer's band."""
    x = resample(np.asarray(wave, np.float32), sr, SAMPLE_RATE) if sr != SAMPLE_RATE else wave
    spec = np.abs(np.fft.rfft(np.asarray(x, np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / SAMPLE_RATE)
    lo, hi = LAYER_BANDS[layer]
    return float(spec[(freqs >= lo) & (freqs <= hi)].sum() / max(1, len(x)) ** 2)


def fraction_removed(before: list[float], after: list[float]) -> float | None:
    """``1 - mean(after) / mean(before)``; None with no pairs or nothing there before."""
    if not before:
        return None
    b = float(np.mean(before))
    return None if b <= 0 else 1.0 - float(np.mean(after)) / b


def is_visible(layer: str) -> bool:
    """Ambiences are on screen; prompt-only layers never are."""
    return layer in AMBIENCES
