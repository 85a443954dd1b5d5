"""Onset detection: an energy-rise detection function, an adaptive threshold and a breadth test.

SyncScenes foreground events start within 0.5 ms and sit on top of steady or slowly varying
layers (rain hiss and droplet ticks, water with bubbles, wind, a melody with soft attacks, mains
hum). The detection function at each time t (1 ms steps) compares the power of the next
``win_s`` with that of the previous ``win_s``:

- the log power ratio must exceed ``ratio`` (an event makes the sound suddenly louder; a steady
  layer never does), and is the value whose local maximum is picked;
- the power rise itself must exceed ``rise_floor`` times the largest window power of the clip,
  which is the adaptive part: a droplet tick, a bubble or a note's attack raises the level a lot
  in relative terms over a quiet background, but little compared with the clip's events;
- a quieter rise (down to ``soft_rise_floor``) still counts when it is broadband: at least
  ``min_band_fraction`` of the octave bands in ``band_edges_hz`` rise by ``band_ratio`` over the
  same windows. An impact's contact click spreads over the spectrum, so the last soft bounces of
  a ball pass; a water bubble (one chirping sinusoid) or a melody note (a few harmonics) rises
  in one or two bands and does not;
- 20 ms windows keep onsets sharp (mean offset under 3 ms) and two events 60 ms apart separate
  (SyncScenes 1.0.0's minimum spacing; 2.0.0 keeps events 250 ms apart); picks closer than
  ``min_gap_s`` keep the first.

Settings tuned on the SyncScenes validation split (200 clips), never on test
(``experiments/tune_onset_detector.py``; retuned for SyncScenes 2.0.0 in session 10: ``rise_floor``
0.06 -> 0.1 and ``min_band_fraction`` 0.7 -> 0.85 took validation F1 from 0.950 to 0.983, precision
0.909 -> 0.980, as the sparser events left the ambiences' rises as most false detections); the
test numbers are in the README's SyncBench table (``experiments/syncbench_baselines.py``).
Legend: S samples, N detection-function steps, E onsets, B octave bands.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, sosfiltfilt


@dataclasses.dataclass(frozen=True)
class OnsetConfig:
    """Detector settings, in seconds where they are times (they hold at any sample rate).

    Attributes:
        win_s: length of the windows before and after each candidate time.
        step_s: spacing of candidate times.
        ratio: minimum power ratio after / before.
        rise_floor: a power rise at least this fraction of the clip's largest window power is
            an onset whatever its spectrum.
        soft_rise_floor: a smaller rise, down to this fraction, is an onset when broadband.
        band_edges_hz: octave band edges of the breadth test (bands above Nyquist are dropped).
        band_ratio: minimum power ratio after / before for a band to count as rising.
        min_band_fraction: fraction of the bands that must rise for a soft onset.
        min_gap_s: two onsets closer than this are one (the first stays).
        silence: peak amplitude below which a clip is silent (no onsets).
    """

    win_s: float = 0.02
    step_s: float = 0.001
    ratio: float = 2.5
    rise_floor: float = 0.1
    soft_rise_floor: float = 0.02
    band_edges_hz: tuple[float, ...] = (50, 150, 300, 600, 1200, 2400, 4800, 7900)
    band_ratio: float = 3.0
    min_band_fraction: float = 0.85
    min_gap_s: float = 0.05
    silence: float = 1e-4


def onset_function(wave_s: np.ndarray, sr: int, cfg: OnsetConfig | None = None):
    """The detection function, the relative rise and the times they are evaluated at.

    Args:
        wave_s: float audio [S].
        sr: sample rate in Hz.
        cfg: detector settings.

    Returns:
        ``(odf_n, rise_n, samples_n)``: float64 [N] log power ratio after / before, float64 [N]
        the power rise as a fraction of the clip's largest window power, and int64 [N] the
        sample of each candidate time.
    """
    cfg = cfg or OnsetConfig()
    x = np.asarray(wave_s, np.float64)
    win = max(1, round(cfg.win_s * sr))
    step = max(1, round(cfg.step_s * sr))
    if len(x) < 2 * win + 1:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    cum = np.concatenate([[0.0], np.cumsum(x * x)])
    t_n = np.arange(win, len(x) - win + 1, step)
    after_n = (cum[t_n + win] - cum[t_n]) / win
    before_n = (cum[t_n] - cum[t_n - win]) / win
    top = float(np.max(cum[win:] - cum[:-win]) / win) + 1e-20
    eps = 1e-4 * top  # a ratio over near-silence means nothing
    odf_n = np.log((after_n + eps) / (before_n + eps))
    return odf_n, (after_n - before_n) / top, t_n


def rising_band_fraction(wave_s: np.ndarray, sr: int, samples_e, cfg: OnsetConfig) -> np.ndarray:
    """Fraction of octave bands whose power rises by ``cfg.band_ratio`` at each sample.

    Args:
        wave_s: float audio [S].
        sr: sample rate in Hz.
        samples_e: int [E] candidate onset samples.
        cfg: detector settings (window length, band edges, band ratio).

    Returns:
        float64 [E] in [0, 1] (zeros when no band fits below Nyquist).
    """
    x = np.asarray(wave_s, np.float64)
    s_e = np.asarray(samples_e, np.int64)
    edges = [f for f in cfg.band_edges_hz if f < 0.49 * sr]
    if len(edges) < 2 or not len(s_e):
        return np.zeros(len(s_e))
    win = max(1, round(cfg.win_s * sr))
    lo_e, hi_e = np.clip(s_e - win, 0, len(x)), np.clip(s_e + win, 0, len(x))
    total = np.concatenate([[0.0], np.cumsum(x * x)])
    eps = 1e-9 * float(np.max(total[win:] - total[:-win])) + 1e-30
    rising_e = np.zeros(len(s_e))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        band_s = sosfiltfilt(butter(4, [lo, hi], "bandpass", fs=sr, output="sos"), x)
        cum = np.concatenate([[0.0], np.cumsum(band_s * band_s)])
        after, before = cum[hi_e] - cum[s_e], cum[s_e] - cum[lo_e]
        rising_e += (after + eps) >= cfg.band_ratio * (before + eps)
    return rising_e / (len(edges) - 1)


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
    odf_n, rise_n, t_n = onset_function(wave_s, sr, cfg)
    if not len(odf_n):
        return np.zeros(0)
    odf_n = np.where(rise_n > min(cfg.soft_rise_floor, cfg.rise_floor), odf_n, 0.0)
    gap = max(1, round(cfg.min_gap_s / cfg.step_s))
    peaks = (odf_n == maximum_filter1d(odf_n, 2 * gap + 1)) & (odf_n > np.log(cfg.ratio))
    kept: list[int] = []
    for i in np.nonzero(peaks)[0]:
        if not kept or i - kept[-1] > gap:
            kept.append(int(i))
    idx = np.asarray(kept, np.int64)
    soft = rise_n[idx] <= cfg.rise_floor
    if soft.any():  # quiet rises must be broadband (an impact's click, not a bubble or a note)
        frac = rising_band_fraction(wave_s, sr, t_n[idx[soft]], cfg)
        ok = np.ones(len(idx), bool)
        ok[soft] = frac >= cfg.min_band_fraction - 1e-9
        idx = idx[ok]
    return t_n[idx].astype(np.float64) / sr


__all__ = ["OnsetConfig", "detect_onsets", "onset_function", "rising_band_fraction"]
