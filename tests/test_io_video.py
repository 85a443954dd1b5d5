"""Video I/O: round trips, frame-rate conversion by timestamps, mux, atomic writes, bad input.

Codec tolerances, stated once: h264 at crf 18 keeps the frames within 3 grey levels on average
(frame indices are drawn as binary blocks, so they decode exactly); AAC keeps band-limited
audio at correlation > 0.95, and FFmpeg's mp4 edit list removes the encoder's 1024-sample
priming delay, so the decoded audio lines up with what was written within 2 samples.
"""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from v2a_jax.io.atomic import atomic_path, write_json
from v2a_jax.io.video import VideoReadError, mux_audio, probe_video, read_video, write_video

SR = 16000


def _frames(n, h=64, w=64):
    """uint8 [n, h, w, 3]: frame i shows i in binary as white 8x8 blocks along the top (so it
    survives any codec) and a red square moving right by 2 px a frame."""
    frames_fhwc = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        for bit in range(min(w // 8, 8)):
            if i >> bit & 1:
                frames_fhwc[i, :8, 8 * bit : 8 * bit + 8] = 255
        x = (2 * i) % (w - 8)
        frames_fhwc[i, h // 2 : h // 2 + 8, x : x + 8] = (250, 40, 40)
    return frames_fhwc


def _index(frames_fhwc, src_h=64, src_w=64):
    """The source frame index each decoded frame shows (resized from ``src_h x src_w`` or not)."""
    h, w = frames_fhwc.shape[1:3]
    y = round(4 * h / src_h)
    bits = []
    for b in range(min(src_w // 8, 8)):
        x = round((8 * b + 4) * w / src_w)
        bits.append(frames_fhwc[:, y - 1 : y + 1, x - 1 : x + 1].mean(axis=(1, 2, 3)) > 128)
    return [sum(int(bit[f]) << b for b, bit in enumerate(bits)) for f in range(len(frames_fhwc))]


def _tone(seconds, f=440.0, sr=SR):
    return (0.4 * np.sin(2 * np.pi * f * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def _noise(seconds, sr=SR, seed=0):
    """Band-limited noise: its cross-correlation peak measures a delay unambiguously."""
    x = np.random.default_rng(seed).standard_normal(round(seconds * sr))
    return (0.3 * sosfilt(butter(4, 4000, fs=sr, output="sos"), x)).astype(np.float32)


def _lag_and_corr(got, want, max_lag=200):
    """The delay of ``got`` against ``want`` in samples, and their correlation once aligned."""
    core = want[max_lag:-max_lag]
    xc = [
        np.dot(got[max_lag + d : max_lag + d + len(core)], core) for d in range(-max_lag, max_lag)
    ]
    lag = int(np.argmax(xc)) - max_lag
    aligned = got[max_lag + lag : max_lag + lag + len(core)]
    return lag, float(np.corrcoef(aligned, core)[0, 1])


def _write_raw(path, fmt, vcodec, n, fps, h=64, w=64, pts=None, time_base=None, rotation=0):
    """A video-only file written with PyAV directly (explicit timestamps, containers, rotation)."""
    with av.open(str(path), "w", format=fmt) as c:
        vs = c.add_stream(vcodec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if time_base is not None:
            vs.time_base = vs.codec_context.time_base = time_base
        if rotation:
            vs.set_display_rotation(rotation)
        for i, img in enumerate(_frames(n, h, w)):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i if pts is None else pts[i]
            if time_base is not None:
                frame.time_base = time_base
            c.mux(vs.encode(frame))
        c.mux(vs.encode())


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / "a.mp4"
    noise = _noise(2.0)
    write_video(path, _frames(50), 25, noise, SR)
    info = probe_video(path)
    assert (info.num_frames, info.fps, info.width, info.height) == (50, 25.0, 64, 64)
    assert info.duration_s == 2.0 and info.has_audio and info.audio_sample_rate == SR
    clip = read_video(path, sample_rate=SR, need_audio=True)
    assert clip.frames.shape == (50, 64, 64, 3) and clip.fps == 25.0 and clip.duration_s == 2.0
    assert _index(clip.frames) == list(range(50))
    assert np.abs(clip.frames.astype(int) - _frames(50)).mean() < 3
    assert clip.audio.shape == (2 * SR,) and clip.sample_rate == SR
    lag, corr = _lag_and_corr(clip.audio, noise)
    assert abs(lag) <= 2 and corr > 0.95  # priming removed: no 1024-sample (64 ms) delay


def test_tone_survives_and_audio_resamples_on_read(tmp_path):
    path = tmp_path / "t.mp4"
    write_video(path, _frames(25), 25, _tone(1.0), SR)
    clip = read_video(path, sample_rate=24000)
    assert clip.sample_rate == 24000 and clip.audio.shape == (24000,)
    spectrum = np.abs(np.fft.rfft(clip.audio))
    assert abs(np.argmax(spectrum) * 24000 / len(clip.audio) - 440) <= 1
    assert abs(np.sqrt(np.mean(clip.audio[2000:-2000] ** 2)) - 0.4 / np.sqrt(2)) < 0.02


@pytest.mark.parametrize("fps", [24, Fraction(30000, 1001), 30, 60])
def test_any_rate_reads_onto_an_exact_25_fps_grid(tmp_path, fps):
    n = round(2 * float(fps))
    path = tmp_path / "v.mp4"
    write_video(path, _frames(n), fps, _tone(n / float(fps)), SR)
    duration = n / float(fps)
    info = probe_video(path)
    assert abs(info.fps - float(fps)) < 1e-9 and info.num_frames == n
    clip = read_video(path, fps=25, size=(32, 48), sample_rate=SR)
    assert abs(clip.duration_s - duration) < 1e-6
    assert clip.frames.shape == (round(duration * 25), 32, 48, 3)
    # Output frame j is the source frame on screen at j / 25 s.
    assert _index(clip.frames) == [int(j / 25 * float(fps) + 1e-6) for j in range(len(clip.frames))]
    assert len(clip.audio) == round(duration * SR)


def test_variable_frame_rate_is_sampled_by_timestamps(tmp_path):
    path = tmp_path / "vfr.mkv"
    pts_ms = [0, 40, 80, 200, 220, 240, 400, 450, 500, 900]
    _write_raw(path, "matroska", "libx264", 10, 25, pts=pts_ms, time_base=Fraction(1, 1000))
    info = probe_video(path)
    assert info.num_frames == 10 and abs(info.duration_s - 0.94) < 1e-9
    assert abs(info.fps - 10 / 0.94) < 1e-9  # the average, not the nominal 25
    clip = read_video(path, fps=25)
    expected = [int(np.searchsorted(pts_ms, j * 40, side="right")) - 1 for j in range(24)]
    assert len(clip.frames) == round(0.94 * 25) and _index(clip.frames) == expected
    # Millisecond timestamps of a 29.97 fps file, read at its own rate: every frame once.
    ntsc = Fraction(30000, 1001)
    _write_raw(tmp_path / "ntsc.mkv", "matroska", "libx264", 30, ntsc)
    assert _index(read_video(tmp_path / "ntsc.mkv", fps=ntsc).frames) == list(range(30))


def test_rotation_metadata_is_applied_like_players_do(tmp_path):
    path = tmp_path / "phone.mp4"
    _write_raw(path, "mp4", "libx264", 5, 25, h=32, w=64, rotation=-90)  # 90 degrees clockwise
    info = probe_video(path)
    assert (info.width, info.height, info.rotation) == (32, 64, -90)
    clip = read_video(path)
    assert clip.frames.shape == (5, 64, 32, 3)
    want = np.rot90(_frames(5, 32, 64), -1, axes=(1, 2))
    assert np.abs(clip.frames.astype(int) - want).mean() < 3
    assert read_video(path, size=(40, 20)).frames.shape == (5, 40, 20, 3)


def test_mux_copies_h264_and_fits_audio_to_the_video(tmp_path):
    src, out = tmp_path / "src.mp4", tmp_path / "out.mp4"
    write_video(src, _frames(60), Fraction(30000, 1001))
    burst = _noise(1.0)  # shorter than the 2.002 s video: padded with silence, never cut short
    mux_audio(src, burst, SR, out)
    a, b = probe_video(src), probe_video(out)
    assert (b.num_frames, b.width, b.height, b.fps) == (a.num_frames, a.width, a.height, a.fps)
    assert b.duration_s == a.duration_s == 2.002
    with av.open(str(src)) as ca, av.open(str(out)) as cb:
        packets_a = [bytes(p) for p in ca.demux(video=0) if p.size]
        packets_b = [bytes(p) for p in cb.demux(video=0) if p.size]
        audio = cb.streams.audio[0]
        assert audio.duration * audio.time_base == Fraction(2002, 1000)  # exact, in the file
    assert packets_a == packets_b  # stream copy: the picture is untouched
    clip = read_video(out, sample_rate=SR)
    assert len(clip.audio) == round(2.002 * SR)
    lag, corr = _lag_and_corr(clip.audio[:SR], burst)
    assert abs(lag) <= 2 and corr > 0.95
    assert np.abs(clip.audio[SR + 1024 :]).max() < 0.01  # the padding is silence
    mux_audio(out, _tone(3.0), SR, out)  # in place, longer than the video: trimmed to it
    assert len(read_video(out, sample_rate=SR).audio) == round(2.002 * SR)
    assert probe_video(out).num_frames == 60 and sorted(p.name for p in tmp_path.iterdir()) == [
        "out.mp4",
        "src.mp4",
    ]


def test_mux_reencodes_other_codecs_with_the_same_timing(tmp_path):
    src, out = tmp_path / "src.webm", tmp_path / "out.mp4"
    _write_raw(src, "webm", "libvpx-vp9", 20, 25, h=48, w=80)
    stereo = np.stack([_tone(0.8), _tone(0.8, f=660.0)])
    mux_audio(src, stereo, SR, out)
    a, b = probe_video(src), probe_video(out)
    assert (a.codec, b.codec) == ("vp9", "h264")
    assert (b.num_frames, b.width, b.height, b.fps, b.duration_s) == (20, 80, 48, 25.0, 0.8)
    clip = read_video(out)
    assert _index(clip.frames, 48, 80) == list(range(20)) and clip.sample_rate == SR
    spectrum = np.abs(np.fft.rfft(clip.audio))  # the mono mix holds both channels
    freqs = np.fft.rfftfreq(len(clip.audio), 1 / SR)
    assert {round(f) for f in freqs[np.argsort(spectrum)[-2:]]} == {440, 660}


def test_write_video_pads_odd_sizes_and_checks_its_input(tmp_path):
    write_video(tmp_path / "odd.mp4", _frames(3, 33, 35), 25)
    assert (probe_video(tmp_path / "odd.mp4").height, probe_video(tmp_path / "odd.mp4").width) == (
        34,
        36,
    )
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "f.mp4", np.zeros((3, 8, 8, 3)), 25)
    with pytest.raises(ValueError, match="sample_rate"):
        write_video(tmp_path / "s.mp4", _frames(3), 25, _tone(0.1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4"]


def test_atomic_writes_leave_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "x.mp4"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4"
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
    # A writer failing half-way through the frames: nothing appears, the old file stays.
    calls = {"n": 0}
    from_ndarray = av.VideoFrame.from_ndarray

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("disk full")
        return from_ndarray(*args, **kwargs)

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_video(target, _frames(20), 25, _tone(0.8), SR)
    with pytest.raises(RuntimeError, match="disk full"):
        write_video(tmp_path / "new.mp4", _frames(20), 25)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    write_video(d / "good.mp4", _frames(50), 25)  # moov index at the front (faststart)
    _write_raw(d / "plain.mp4", "mp4", "libx264", 50, 25)  # moov index at the end
    _write_raw(d / "good.mkv", "matroska", "libx264", 50, 25)
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    for good, cut in [("plain.mp4", "cut_index.mp4"), ("good.mp4", "cut_frames.mp4"),
                      ("good.mkv", "cut.mkv")]:  # fmt: skip
        data = (d / good).read_bytes()
        (d / cut).write_bytes(data[: len(data) // 2])
    sf.write(str(d / "sound.mp4"), _tone(0.5), SR, format="WAV")  # audio only, misnamed
    return d


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing.mp4", "no such file"),
        ("empty.mp4", "0 bytes"),
        ("text.mp4", "not a video file"),
        ("cut_index.mp4", "truncated or corrupt"),
        ("cut_frames.mp4", "truncated"),
        ("cut.mkv", "truncated"),
        ("sound.mp4", "no video stream"),
        ("good.mp4", "no audio stream"),
    ],
)
def test_bad_input_raises_one_error_naming_the_file(bad_files, name, words):
    with pytest.raises(VideoReadError, match=words) as err:
        read_video(bad_files / name, fps=25, need_audio=name == "good.mp4")
    assert str(bad_files / name) in str(err.value)


def test_probe_rejects_what_it_can_see_without_decoding(bad_files):
    for name in ("missing.mp4", "empty.mp4", "text.mp4", "cut_index.mp4", "sound.mp4"):
        with pytest.raises(VideoReadError, match=name):
            probe_video(bad_files / name)


def test_integer_pcm_audio_is_scaled_and_late_audio_stays_in_sync(tmp_path):
    path = tmp_path / "pcm.mov"
    with av.open(str(path), "w", format="mov") as c:
        vs = c.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        aus = c.add_stream("pcm_s16le", rate=44100, layout="stereo")
        for i, img in enumerate(_frames(50)):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            c.mux(vs.encode(frame))
        c.mux(vs.encode())
        tone = _tone(1.0, sr=44100)
        pcm = (np.stack([tone, tone]).T * 32767).astype(np.int16).reshape(1, -1)
        for start in range(0, tone.size, 4410):  # starts 0.5 s after the first frame
            chunk = np.ascontiguousarray(pcm[:, 2 * start : 2 * (start + 4410)])
            af = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            af.sample_rate, af.pts = 44100, 22050 + start
            c.mux(aus.encode(af))
        c.mux(aus.encode())
    clip = read_video(path, sample_rate=SR)
    assert clip.audio.shape == (2 * SR,)
    assert np.abs(clip.audio[: SR // 2 - 16]).max() < 1e-3  # silence until the audio starts
    assert abs(np.abs(clip.audio[SR // 2 + 100 : 3 * SR // 2 - 100]).max() - 0.4) < 0.01
    assert np.abs(clip.audio[3 * SR // 2 + 16 :]).max() < 1e-3


def test_write_json_replaces_whole_and_keeps_the_old_file_on_bad_input(tmp_path):
    target = tmp_path / "sub" / "r.json"
    write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1} and target.read_text().endswith("\n")
    with pytest.raises(TypeError):
        write_json(target, {"a": object()})  # not JSON: the file keeps its old content
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]
