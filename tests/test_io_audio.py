"""Waveform helpers: resampling, mono, exact lengths, wav files."""

from __future__ import annotations

import numpy as np
import pytest

from v2a_jax.io.audio import fit_length, read_wav, resample, to_mono, write_wav

SR = 16000


def _tone(seconds, f=440.0, sr=SR):
    return (0.4 * np.sin(2 * np.pi * f * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def _peak_hz(x, sr):
    return np.argmax(np.abs(np.fft.rfft(x))) * sr / len(x)


@pytest.mark.parametrize("sr_out", [8000, 22050, 24000, 44100, 48000])
def test_resample_keeps_pitch_and_level(sr_out):
    y = resample(_tone(1.0), SR, sr_out)
    assert y.dtype == np.float32 and y.shape == (sr_out,)
    assert abs(_peak_hz(y, sr_out) - 440) <= 1
    assert abs(np.sqrt(np.mean(y[200:-200] ** 2)) - 0.4 / np.sqrt(2)) < 5e-3


def test_resample_works_along_the_last_axis_and_checks_rates():
    x_cs = np.stack([_tone(0.5), _tone(0.5, f=880.0)])
    y_cs = resample(x_cs, SR, 24000)
    assert y_cs.shape == (2, 12000)
    assert np.allclose(y_cs[1], resample(x_cs[1], SR, 24000))
    assert resample(x_cs, SR, SR) is not None and resample(np.zeros(0), SR, 22050).shape == (0,)
    with pytest.raises(ValueError, match="positive integer"):
        resample(x_cs, 16000.5, 24000)
    with pytest.raises(ValueError, match="positive integer"):
        resample(x_cs, SR, 0)


def test_to_mono_and_fit_length():
    x_cs = np.stack([np.ones(4), -np.ones(4) * 0.5])
    assert np.allclose(to_mono(x_cs), 0.25) and to_mono(np.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match=r"\[C, S\]"):
        to_mono(np.zeros((1, 2, 3)))
    x = _tone(0.5)
    assert fit_length(x, 10).shape == (10,) and np.array_equal(fit_length(x, 10), x[:10])
    padded = fit_length(x, 9000)
    assert np.array_equal(padded[:8000], x) and not padded[8000:].any()
    assert fit_length(x_cs, 6).shape == (2, 6)
    with pytest.raises(ValueError):
        fit_length(x, -1)


def test_wav_round_trip(tmp_path):
    x = _tone(0.5)
    write_wav(tmp_path / "t.wav", x, SR)
    y, sr = read_wav(tmp_path / "t.wav")
    assert sr == SR and y.dtype == np.float32 and np.abs(y - x).max() < 1 / 2**14
    write_wav(tmp_path / "f.wav", 1.5 * x, SR, subtype="FLOAT")  # float keeps > 1
    assert np.array_equal(read_wav(tmp_path / "f.wav")[0], 1.5 * x)
    write_wav(tmp_path / "s.wav", np.stack([x, 0 * x]), 24000)  # [C, S]: read back as mono
    y, sr = read_wav(tmp_path / "s.wav")
    assert sr == 24000 and np.abs(y - x / 2).max() < 1 / 2**14
    write_wav(tmp_path / "c.wav", np.full(4, 3.0), SR)  # PCM clips instead of wrapping
    assert np.allclose(read_wav(tmp_path / "c.wav")[0], 1.0, atol=1e-4)


def test_wav_errors_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        write_wav(tmp_path / "n.wav", np.array([np.nan], np.float32), SR)
    with pytest.raises(ValueError, match=r"\[C, S\]"):
        write_wav(tmp_path / "b.wav", np.zeros((1, 2, 3)), SR)
    assert not list(tmp_path.iterdir())
    with pytest.raises(FileNotFoundError, match="m.wav"):
        read_wav(tmp_path / "m.wav")
    (tmp_path / "x.wav").write_text("not audio")
    with pytest.raises(ValueError, match="x.wav"):
        read_wav(tmp_path / "x.wav")
