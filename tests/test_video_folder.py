"""The video_folder builder on clips this test writes: good ones in several containers, frame
rates, sizes and audio rates, and every kind of bad one."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import av
import numpy as np
import pytest

from v2a_jax.cli import main
from v2a_jax.data.builders.video_folder import build_video_folder, read_captions
from v2a_jax.data.features import decode_record
from v2a_jax.data.loaders import open_split
from v2a_jax.io.video import write_video

TONE_HZ = 440.0


def _frames(n, h, w):
    frames_fhwc = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames_fhwc[i, :, (i * 2) % w : (i * 2) % w + 4] = 200
    return frames_fhwc


def _tone(seconds, sr):
    t = np.arange(round(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def _write(path, fmt, vcodec, acodec, n, h, w, fps, sr, afmt="fltp", layout="mono"):
    """A clip written with PyAV directly, in the container and codecs asked for."""
    with av.open(str(path), "w", format=fmt) as c:
        vs = c.add_stream(vcodec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        aus = c.add_stream(acodec, rate=sr, layout=layout)
        for i, img in enumerate(_frames(n, h, w)):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            c.mux(vs.encode(frame))
        c.mux(vs.encode())
        audio_cs = np.repeat(_tone(n / float(fps), sr)[None], 2 if layout == "stereo" else 1, 0)
        step = aus.codec_context.frame_size or 1024
        for start in range(0, audio_cs.shape[1], step):
            chunk = audio_cs[:, start : start + step]
            if afmt == "s16":  # packed 16-bit PCM, as cameras write into mov
                chunk = (chunk.T.reshape(1, -1) * 32767).astype(np.int16)
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=afmt, layout=layout)
            af.sample_rate, af.pts = sr, start
            c.mux(aus.encode(af))
        c.mux(aus.encode())


def _write_webm(path):
    try:
        _write(path, "webm", "libvpx-vp9", "libopus", 50, 64, 64, 25, 48000, afmt="flt")
    except (av.error.FFmpegError, ValueError) as err:
        path.unlink(missing_ok=True)
        pytest.skip(f"this PyAV build cannot encode vp9/opus webm: {err}")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("my clips")
    write_video(src / "a.mp4", _frames(48, 48, 80), 24, _tone(2.0, 44100), 44100)
    write_video(src / "b.mp4", _frames(60, 64, 64), 30, _tone(2.0, 22050), 22050)
    _write(src / "c.mov", "mov", "libx264", "pcm_s16le", 60, 32, 32, Fraction(30000, 1001),
           48000, afmt="s16", layout="stereo")  # fmt: skip
    _write_webm(src / "d.webm")
    write_video(src / "long.mp4", _frames(75, 32, 32), 25, _tone(3.0, 16000), 16000)
    (src / "empty.mp4").write_bytes(b"")
    good = (src / "a.mp4").read_bytes()
    (src / "truncated.mp4").write_bytes(good[: len(good) // 2])
    write_video(src / "silent.mp4", _frames(25, 32, 32), 25)
    (src / "text.mp4").write_text("this is not a video")
    rows = [
        "File, Caption ,negative_prompt,transcript,split",
        "a.mp4,a sweeping bar with a tone,,,train",
        'b.mp4,"a faster bar, with commas",music,hello there,train',
        "c.mov,a small bar at 29.97,,,test",
        "d.webm,a webm clip,,,test",
        "long.mp4,three seconds,,,train",
        "empty.mp4,empty,,,train",
        "truncated.mp4,truncated,,,validation",  # the only clip of its split
        "silent.mp4,no audio,,,train",
        "text.mp4,not a video,,,train",
        "missing.mp4,not on disk,,,train",
    ]
    (src / "captions.csv").write_text("\ufeff" + "\n".join(rows) + "\n")  # with a BOM, as Excel
    return src


@pytest.fixture(scope="module")
def built(source, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    builder, report = build_video_folder(source, data_dir, height=32, width=48)
    return builder, report, data_dir


def _peak_hz(audio_s, sr):
    return np.argmax(np.abs(np.fft.rfft(audio_s))) * sr / len(audio_s)


def test_good_clips_are_resampled_to_the_config(built):
    builder, _, data_dir = built
    name = f"video_folder/{builder.builder_config.name}"
    train = {c["clip_id"]: c for c in open_split(data_dir, "train", name)}
    test = {c["clip_id"]: c for c in open_split(data_dir, "test", name)}
    assert set(train) == {"a", "b", "long"} and set(test) == {"c", "d"}
    assert set(builder.info.splits) == {"train", "test"}  # validation had no usable clip
    for clip in [*train.values(), *test.values()]:
        ann = clip["annotation"]
        n = len(clip["frames"])
        assert clip["frames"].shape[1:] == (32, 48, 3) and clip["frames"].dtype == np.uint8
        assert clip["fps"] == 25.0 and clip["sample_rate"] == 16000
        assert n == round(25 * ann["source_duration_s"]) and ann["duration_s"] == n / 25
        assert clip["audio"].dtype == np.float32 and len(clip["audio"]) == round(n / 25 * 16000)
        assert abs(_peak_hz(clip["audio"], 16000) - TONE_HZ) <= 1  # every source rate resampled
        assert abs(np.abs(clip["audio"][2000:-2000]).max() - 0.3) < 0.03  # and mixed to mono
        assert not ann["trimmed"] and ann["had_audio"]
    assert (train["a"]["annotation"]["source_fps"], train["b"]["annotation"]["source_fps"]) == (
        24.0,
        30.0,
    )
    c = test["c"]["annotation"]
    assert (c["file"], c["source_width"], c["source_height"]) == ("c.mov", 32, 32)
    assert abs(c["source_fps"] - 30000 / 1001) < 1e-9 and c["source_sample_rate"] == 48000
    assert train["b"]["caption"] == "a faster bar, with commas"
    assert train["b"]["negative_prompt"] == "music" and train["a"]["negative_prompt"] == ""
    assert train["b"]["annotation"]["transcript"] == "hello there"
    # The returned builder reads the records directly, too.
    record = decode_record(builder.as_data_source("test")[0])
    assert record["clip_id"] == "c" and record["frames"].shape == test["c"]["frames"].shape


def test_every_bad_clip_is_reported_with_its_reason(built, source):
    _, report, _ = built
    assert report.name == "bad_clips.json" and report.parent.name == "1.0.0"
    bad = {b["file"]: b for b in json.loads(report.read_text())}
    assert set(bad) == {"empty.mp4", "truncated.mp4", "silent.mp4", "text.mp4", "missing.mp4"}
    reasons = {
        "empty.mp4": "0 bytes",
        "truncated.mp4": "truncated or corrupt",
        "silent.mp4": "no audio stream",
        "text.mp4": "not a video file",
        "missing.mp4": "no such file",
    }
    for name, words in reasons.items():
        assert words in bad[name]["reason"] and str(source / name) in bad[name]["reason"]
        assert bad[name]["split"] == ("validation" if name == "truncated.mp4" else "train")


def test_rebuilds_only_when_the_folder_or_the_settings_change(built, source):
    builder, _, data_dir = built
    folder = builder.data_path
    shard = next(p for p in os.listdir(folder) if "train.array_record" in p)
    mtime = os.stat(folder / shard).st_mtime_ns
    build_video_folder(source, data_dir, height=32, width=48)  # unchanged: reused
    assert os.stat(folder / shard).st_mtime_ns == mtime
    # Other settings, same data dir: their own folder; silent clips kept, long ones trimmed.
    other, report = build_video_folder(
        source, data_dir, fps=10.0, require_audio=False, max_duration_s=2.0
    )
    assert other.data_path != folder
    train = {
        c["clip_id"]: c
        for c in open_split(data_dir, "train", f"video_folder/{other.builder_config.name}")
    }
    silent = train["silent"]
    assert not silent["annotation"]["had_audio"] and not silent["audio"].any()
    assert len(silent["frames"]) == 10 and silent["frames"].shape[1:] == (64, 64, 3)
    long = train["long"]["annotation"]
    assert long["trimmed"] and "trimmed to the first 2 s of 3.000 s" in long["note"]
    assert len(train["long"]["frames"]) == 20 and len(train["long"]["audio"]) == 32000
    assert "silent.mp4" not in {b["file"] for b in json.loads(report.read_text())}


def test_an_edited_captions_file_triggers_a_rebuild(source, tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "b.mp4").write_bytes((source / "b.mp4").read_bytes())
    (folder / "captions.csv").write_text("file,caption\nb.mp4,first words\n")
    build_video_folder(folder, tmp_path / "data")
    assert open_split(tmp_path / "data", "train")[0]["caption"] == "first words"
    (folder / "captions.csv").write_text("file,caption\nb.mp4,better words\n")
    build_video_folder(folder, tmp_path / "data")
    assert open_split(tmp_path / "data", "train")[0]["caption"] == "better words"


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        ("path,text\nx.mp4,hello\n", r"missing column\(s\) file, caption; expected columns file"),
        ("file,caption\n", "no clips listed"),
        ("file,caption\n,hello\n", "line 2: no file named"),
        ("file,caption\na/x.mp4,one\nb/x.mkv,two\n", "unique"),
        ("file,caption,split\nx.mp4,one,val-1\n", "split 'val-1'"),
    ],
)
def test_csv_problems_stop_the_build_naming_the_csv(tmp_path, csv, words):
    (tmp_path / "captions.csv").write_text(csv)
    with pytest.raises(ValueError, match=words) as err:
        read_captions(tmp_path)
    assert str(tmp_path / "captions.csv") in str(err.value)


def test_cli_reports_a_bad_csv(tmp_path, capsys):
    (tmp_path / "captions.csv").write_text("path,text\nx.mp4,hello\n")
    code = main(["data", "build", "video_folder", "--source", str(tmp_path),
                 "--data-dir", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "captions.csv" in err and "file, caption" in err
    assert not (tmp_path / "out").exists()


def test_a_folder_with_no_readable_clip_says_why(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"")
    (tmp_path / "captions.csv").write_text("file,caption\nx.mp4,hello\n")
    with pytest.raises(ValueError, match="none of the 1 clips can be read.*0 bytes"):
        build_video_folder(tmp_path, tmp_path / "data")
    with pytest.raises(ValueError, match="fps must be positive"):
        build_video_folder(tmp_path, tmp_path / "data", fps=0)
