"""Video I/O: round trips at several frame rates, exact durations, atomic writes, bad input."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import fit_length, read_wav, resample, write_wav
from v2a_jax.io.video import VideoReadError, mux_audio, probe_video, read_video, write_video

SR = 16000


def _clip(n, h=64, w=64):
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i, 10:20, (i * 3) % (w - 8) : (i * 3) % (w - 8) + 8] = (250, 40, 40)
    return frames


def _tone(seconds, f=440.0, sr=SR):
    return (0.4 * np.sin(2 * np.pi * f * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def test_write_then_read_keeps_frames_fps_size_and_audio(tmp_path):
    path = tmp_path / "a.mp4"
    write_video(path, _clip(50), 25, _tone(2.0), SR)
    info = probe_video(path)
    assert (info.num_frames, info.fps, info.width, info.height) == (50, 25.0, 64, 64)
    assert info.has_audio and info.audio_sample_rate == SR
    clip = read_video(path, fps=25, sample_rate=SR, need_audio=True)
    assert clip.frames.shape == (50, 64, 64, 3)
    assert len(clip.audio) == 2 * SR
    # h264 at crf 18 keeps the red square; aac keeps the tone (correlation, priming ignored).
    assert np.abs(clip.frames[10].astype(int) - _clip(50)[10]).mean() < 6
    corr = np.corrcoef(clip.audio[4000:28000], _tone(2.0)[4000:28000])[0, 1]
    assert corr > 0.95


@pytest.mark.parametrize("fps", [24, Fraction(30000, 1001), 30, 60])
def test_any_source_rate_reads_onto_an_exact_25_fps_grid(tmp_path, fps):
    n = round(2 * float(fps))
    path = tmp_path / "v.mp4"
    write_video(path, _clip(n), fps, _tone(n / float(fps)), SR)
    clip = read_video(path, fps=25, sample_rate=SR)
    duration = n / float(fps)
    assert abs(clip.duration_s - duration) < 1e-3
    assert len(clip.frames) == round(duration * 25)
    assert len(clip.audio) == round(duration * SR)


def test_mux_keeps_the_video_and_fits_audio_to_its_duration(tmp_path):
    src, out = tmp_path / "src.mp4", tmp_path / "out.mp4"
    write_video(src, _clip(60), Fraction(30000, 1001))
    short = _tone(1.0, f=660.0)  # shorter than the 2.002 s video: padded, never cut short
    mux_audio(src, short, SR, out)
    a, b = probe_video(src), probe_video(out)
    assert (b.num_frames, b.width, b.height) == (a.num_frames, a.width, a.height)
    assert abs(b.fps - a.fps) < 1e-6 and abs(b.duration_s - a.duration_s) <= 1 / a.fps
    audio = read_video(out, sample_rate=SR).audio
    assert abs(len(audio) - round(a.duration_s * SR)) <= 1
    assert np.abs(audio[2000:14000]).max() > 0.2 and np.abs(audio[-4000:]).max() < 0.05


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "x.mp4"
    target.write_bytes(b"old")
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
    with pytest.raises(ValueError, match="frames must be uint8"):
        write_video(tmp_path / "y.mp4", np.zeros((3, 8, 8)), 25)
    assert not (tmp_path / "y.mp4").exists()


def test_bad_inputs_name_the_file(tmp_path):
    good = tmp_path / "good.mp4"
    write_video(good, _clip(25), 25)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("hello")
    (tmp_path / "trunc.mp4").write_bytes(good.read_bytes()[:300])
    cases = {"missing.mp4": "no such file", "empty.mp4": "0 bytes", "text.mp4": None,
             "trunc.mp4": None}  # fmt: skip
    for name, words in cases.items():
        with pytest.raises(VideoReadError, match=words) as err:
            read_video(tmp_path / name)
        assert name in str(err.value)
    with pytest.raises(VideoReadError, match="no audio"):
        read_video(good, need_audio=True)


def test_wav_round_trip_resample_and_fit(tmp_path):
    x = _tone(0.5)
    write_wav(tmp_path / "t.wav", x, SR)
    y, sr = read_wav(tmp_path / "t.wav")
    assert sr == SR and np.abs(y - x).max() < 1e-3
    assert resample(x, SR, 24000).shape == (12000,)
    assert fit_length(x, 10).shape == (10,) and fit_length(x, 9000)[8000:].sum() == 0
    with pytest.raises(ValueError, match="NaN"):
        write_wav(tmp_path / "n.wav", np.array([np.nan], np.float32), SR)
