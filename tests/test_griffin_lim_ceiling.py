"""experiments/griffin_lim_ceiling.py: audio rebuilt from its own magnitude by Griffin-Lim."""

import numpy as np
from experiment_scripts import load_experiment

from v2a_jax.eval.onsets import OnsetConfig, detect_onsets

SR = 16_000


def test_a_beep_rebuilt_from_its_magnitude_keeps_its_onset_pitch_and_loudness():
    gl = load_experiment("griffin_lim_ceiling")
    rng = np.random.default_rng(0)
    wave = 0.01 * rng.standard_normal(2 * SR)
    t = np.arange(int(0.15 * SR)) / SR
    start = int(0.8 * SR)
    wave[start : start + t.size] += 0.3 * np.sign(np.sin(2 * np.pi * 1490.0 * t))  # square beep
    wave = wave.astype(np.float32)
    rebuilt, convergence = gl.rebuild(wave, 640, 160, iters=32)
    assert rebuilt.shape == wave.shape and rebuilt.dtype == np.float32
    assert convergence < 0.2
    beep = slice(start + 400, start + t.size - 400)
    rms = np.sqrt(np.mean(rebuilt[beep] ** 2))
    assert 0.8 * 0.3 < rms < 1.2 * 0.3
    spectrum = np.abs(np.fft.rfft(rebuilt[beep] * np.hanning(beep.stop - beep.start)))
    freqs = np.fft.rfftfreq(beep.stop - beep.start, 1 / SR)
    assert abs(freqs[spectrum.argmax()] - 1490.0) < 30.0
    onsets = detect_onsets(rebuilt, SR, OnsetConfig())
    assert np.min(np.abs(np.asarray(onsets) - 0.8)) < 0.02, onsets
