"""experiments/make_tone_wavs.py: tonal clips at the stated rate, length and level, the same files
for the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from experiment_scripts import load_experiment

from v2a_jax.io.audio import read_wav


@pytest.fixture(scope="module")
def tones():
    return load_experiment("make_tone_wavs")


def test_writes_tonal_clips_reproducibly(tones, tmp_path):
    for name in ("a", "b"):
        assert tones.main(["--out-dir", str(tmp_path / name), "--num", "6", "--seconds", "1"]) == 0
    files = sorted((tmp_path / "a").glob("*.wav"))
    assert [f.name for f in files] == [f"tone-{i:05d}.wav" for i in range(6)]
    for f in files:
        wave, sr = read_wav(f)
        assert sr == 16000 and wave.shape == (16000,)
        assert 0.04 < np.max(np.abs(wave)) < 0.51
        again, _ = read_wav(tmp_path / "b" / f.name)
        np.testing.assert_array_equal(wave, again)


def test_a_sine_clip_is_one_spectral_line(tones):
    rng = np.random.default_rng(0)
    kind, wave = tones.make_clip(rng, 1.0)
    while kind != "sine":  # draw until a clip is a sine
        kind, wave = tones.make_clip(rng, 1.0)
    power = np.abs(np.fft.rfft(wave * np.hanning(len(wave)))) ** 2
    peak = int(np.argmax(power))
    assert power[max(0, peak - 3) : peak + 4].sum() / power.sum() > 0.95


def test_bad_arguments_are_refused(tones, tmp_path):
    with pytest.raises(SystemExit):
        tones.main(["--out-dir", str(tmp_path), "--num", "0"])
