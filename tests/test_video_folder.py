"""The video_folder builder on clips this test writes, good and bad."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest

from v2a_jax.cli import main
from v2a_jax.data.builders.video_folder import build_video_folder
from v2a_jax.data.loaders import open_split
from v2a_jax.io.video import write_video


def _frames(n, h, w):
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i, :, (i * 2) % w : (i * 2) % w + 4] = 200
    return frames


def _tone(seconds, sr):
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def _write_mkv(path, n, h, w, fps):
    """An mkv with vp9 video and opus audio (skips when this PyAV lacks the encoders)."""
    try:
        with av.open(str(path), "w", format="matroska") as c:
            vs = c.add_stream("libvpx-vp9", rate=fps)
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            aus = c.add_stream("libopus", rate=48000, layout="mono")
            for i, img in enumerate(_frames(n, h, w)):
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = i
                c.mux(vs.encode(frame))
            c.mux(vs.encode())
            audio = _tone(n / fps, 48000)
            for start in range(0, len(audio), 960):
                af = av.AudioFrame.from_ndarray(audio[start : start + 960][None], format="fltp",
                                                layout="mono")  # fmt: skip
                af.sample_rate, af.pts = 48000, start
                c.mux(aus.encode(af))
            c.mux(aus.encode())
    except (av.error.FFmpegError, ValueError) as err:
        pytest.skip(f"this PyAV cannot encode vp9/opus mkv: {err}")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("clips")
    write_video(src / "a.mp4", _frames(48, 48, 80), 24, _tone(2.0, 44100), 44100)
    write_video(src / "b.mp4", _frames(60, 64, 64), 30, _tone(2.0, 22050), 22050)
    write_video(src / "c.mov", _frames(60, 32, 32), Fraction(30000, 1001), _tone(2.0, 16000), 16000)
    _write_mkv(src / "d.mkv", 50, 64, 64, 25)
    (src / "empty.mp4").write_bytes(b"")
    good = (src / "a.mp4").read_bytes()
    (src / "truncated.mp4").write_bytes(good[: len(good) // 2])
    write_video(src / "silent.mp4", _frames(25, 32, 32), 25)
    (src / "text.mp4").write_text("this is not a video")
    rows = [
        "file,caption,negative_prompt,split",
        "a.mp4,a sweeping bar with a tone,,train",
        "b.mp4,a faster bar,music,train",
        "c.mov,a small bar at 29.97,,test",
        "d.mkv,an mkv clip,,test",
        "empty.mp4,empty,,train",
        "truncated.mp4,truncated,,train",
        "silent.mp4,no audio,,train",
        "text.mp4,not a video,,train",
        "missing.mp4,not on disk,,train",
    ]
    (src / "captions.csv").write_text("\n".join(rows) + "\n")
    return src


def test_good_clips_are_resampled_and_bad_ones_reported(source, tmp_path):
    builder, report = build_video_folder(source, tmp_path, fps=25.0, height=32, width=32)
    train = {c["clip_id"]: c for c in open_split(tmp_path, "train")}
    test = {c["clip_id"]: c for c in open_split(tmp_path, "test")}
    assert set(train) == {"a", "b"} and set(test) == {"c", "d"}
    for clip in [*train.values(), *test.values()]:
        n = len(clip["frames"])
        assert clip["frames"].shape[1:] == (32, 32, 3) and clip["fps"] == 25.0
        assert clip["sample_rate"] == 16000
        assert abs(n - 25 * clip["annotation"]["source_duration_s"]) <= 1
        assert len(clip["audio"]) == round(n / 25 * 16000)
        assert np.abs(clip["audio"]).max() > 0.1
    assert train["b"]["negative_prompt"] == "music" and train["a"]["caption"].startswith("a sweep")
    bad = {b["file"]: b["reason"] for b in json.loads(report.read_text())}
    assert set(bad) == {"empty.mp4", "truncated.mp4", "silent.mp4", "text.mp4", "missing.mp4"}
    assert "0 bytes" in bad["empty.mp4"] and "no audio" in bad["silent.mp4"]
    assert "no such file" in bad["missing.mp4"]


def test_silent_clips_kept_when_audio_is_not_required(source, tmp_path):
    build_video_folder(source, tmp_path, require_audio=False)
    train = {c["clip_id"]: c for c in open_split(tmp_path, "train")}
    assert "silent" in train and not train["silent"]["annotation"]["had_audio"]
    assert np.all(train["silent"]["audio"] == 0)


def test_csv_without_required_columns_names_the_file(tmp_path, capsys):
    (tmp_path / "captions.csv").write_text("path,text\nx.mp4,hello\n")
    code = main(["data", "build", "video_folder", "--source", str(tmp_path),
                 "--data-dir", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "captions.csv" in err and "caption" in err
