"""``tonal_fraction`` of experiments/codec_tones.py: near 1 for a pure tone at its frequency, near
0 for white noise or a tone elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
from experiment_scripts import load_experiment

SR = 16000


@pytest.fixture(scope="module")
def codec_tones():
    return load_experiment("codec_tones")


def _sine(freq_hz: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq_hz * t + 0.7)).astype(np.float32)


@pytest.mark.parametrize("freq_hz", [220.0, 1000.0, 6000.0])
def test_pure_sine_is_tonal_at_its_frequency(codec_tones, freq_hz):
    assert codec_tones.tonal_fraction(_sine(freq_hz), SR, freq_hz) > 0.95


def test_white_noise_is_not_tonal(codec_tones):
    noise = np.random.default_rng(0).standard_normal(2 * SR).astype(np.float32)
    assert codec_tones.tonal_fraction(noise, SR, 1000.0) < 0.1


def test_sine_elsewhere_is_not_tonal(codec_tones):
    assert codec_tones.tonal_fraction(_sine(1500.0), SR, 1000.0) < 0.01
    assert codec_tones.tonal_fraction(_sine(220.0), SR, 500.0) < 0.01


def test_chord_counts_both_partials(codec_tones):
    chord = _sine(440.0) + _sine(660.0)
    assert codec_tones.tonal_fraction(chord, SR, (440.0, 660.0)) > 0.95
    assert 0.4 < codec_tones.tonal_fraction(chord, SR, 440.0) < 0.6


def test_too_short_wave_is_rejected(codec_tones):
    with pytest.raises(ValueError, match="need > 0.5 s"):
        codec_tones.tonal_fraction(_sine(1000.0, seconds=0.4), SR, 1000.0)


def test_prominence_sees_a_beep_and_not_its_absence(codec_tones):
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.standard_normal(SR).astype(np.float32)
    beep = noise.copy()
    beep[SR // 4 : SR // 4 + SR // 5] += _sine(1000.0, seconds=0.2)
    annotation = {
        "objects": [{"index": 0, "material": "beep", "pitch_hz": 1000.0}],
        "events": [{"time_s": 0.25, "object": 0, "material": "beep"}],
    }
    assert codec_tones.clip_prominence(beep, SR, annotation)["beep"] > 5.0
    assert abs(codec_tones.clip_prominence(noise, SR, annotation)["beep"]) < 1.0
