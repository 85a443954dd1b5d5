"""Onset detection: an energy-rise detection function with an adaptive threshold.

SyncScenes foreground events start within 0.5 ms and sit on top of steady or slowly varying
layers (rain hiss and droplet ticks, water with bubbles, wind, a melody with soft attacks, mains
hum). The detection function at each time t (1 ms steps) compares the power of the next
``win_s`` with that of the previous ``win_s``:

- the log power ratio must exceed ``ratio`` (an event makes the sound suddenly louder; a steady
  layer never does), and is the value whose local maximum is picked;
- the power rise itself must exceed ``rise_floor`` times the largest after-window power of the
  clip, which is the adaptive part: a droplet tick, a bubble or a note's soft attack raises the
  level a lot in relative terms over a quiet background, but little compared with the clip's
  events;
- 35 ms windows are long enough that a 3 ms droplet tick carries little energy, short enough
  that two events 60 ms apart stay separate; picks closer than ``min_gap_s`` keep the first.

Tuned on SyncScenes training seeds (the numbers are in the README's SyncBench table).
Legend: S samples, N detection-function steps, E onsets.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import maximum_filter1d


@dataclasses.dataclass(frozen=True)
class OnsetConfig:
    """Detector settings, in seconds where they are times (they hold at any sample rate).

    Attributes:
        win_s: length of the windows before and after each candidate time.
        step_s: spacing of candidate times.
        ratio: minimum power ratio after / before.
        rise_floor: minimum power rise, as a fraction of the clip's largest after-window power.
        min_gap_s: two onsets closer than this are one (the first stays).
    """

    win_s: float = 0.035
    step_s: float = 0.001
    ratio: float = 2.0
    rise_floor: float = 0.05
    min_gap_s: float = 0.03
    silence: float = 1e-4


def onset_function(wave_s: np.ndarray, sr: int, cfg: OnsetConfig | None = None):
    """The detection function and the times it is evaluated at.

    Args:
        wave_s: float audio [S].
        sr: sample rate in Hz.
        cfg: detector settings.

    Returns:
        ``(odf_n, samples_n)``: float64 [N] log power ratio where the rise passes the floor (0
        elsewhere), and int64 [N] the sample of each candidate time.
    """
    cfg = cfg or OnsetConfig()
    x = np.asarray(wave_s, np.float64)
    win = max(1, round(cfg.win_s * sr))
    step = max(1, round(cfg.step_s * sr))
    if len(x) < 2 * win + 1:
        return np.zeros(0), np.zeros(0, np.int64)
    cum = np.concatenate([[0.0], np.cumsum(x * x)])
    t_n = np.arange(win, len(x) - win + 1, step)
    after_n = (cum[t_n + win] - cum[t_n]) / win
    before_n = (cum[t_n] - cum[t_n - win]) / win
    top = float(after_n.max())
    eps = 1e-4 * top + 1e-20  # a ratio over near-silence means nothing
    odf_n = np.log((after_n + eps) / (before_n + eps))
    odf_n[(after_n - before_n) <= cfg.rise_floor * top] = 0.0
    return odf_n, t_n


def detect_onsets(wave: np.ndarray, sr: int, cfg: OnsetConfig | None = None) -> np.ndarray:
    """Onset times of a mono waveform.

    Args:
        wave: float audio [S] in [-1, 1].
        sr: its sample rate in Hz.
        cfg: detector settings; ``OnsetConfig()`` when None.

    Returns:
        float64 [E] onset times in seconds, increasing (empty for silence).

    Raises:
        ValueError: ``wave`` is not one-dimensional.
    """
    cfg = cfg or OnsetConfig()
    wave_s = np.asarray(wave, np.float32)
    if wave_s.ndim != 1:
        raise ValueError(f"detect_onsets expects mono audio [S], got shape {wave_s.shape}")
    if not len(wave_s) or float(np.abs(wave_s).max()) < cfg.silence:
        return np.zeros(0)
    odf_n, t_n = onset_function(wave_s, sr, cfg)
    if not len(odf_n):
        return np.zeros(0)
    gap = max(1, round(cfg.min_gap_s / cfg.step_s))
    peaks = (odf_n == maximum_filter1d(odf_n, 2 * gap + 1)) & (odf_n > np.log(cfg.ratio))
    kept: list[int] = []
    for i in np.nonzero(peaks)[0]:
        if not kept or i - kept[-1] > gap:
            kept.append(int(i))
    return t_n[kept].astype(np.float64) / sr
