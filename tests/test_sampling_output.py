"""GenerationOutput.save: wav + mp4 per sample + manifest; nothing left behind on failure."""

import json

import av
import numpy as np
import pytest

from v2a_jax.io.video import write_video
from v2a_jax.sampling.output import GenerationOutput

SR = 16000


def _output(n=2, duration=1.0, **kw):
    s = round(duration * SR)
    t = np.linspace(0, duration, s, endpoint=False)
    waves = np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) for i in range(n)])
    return GenerationOutput(
        waveforms=waves.astype(np.float32),
        sample_rate=SR,
        tokens=np.zeros((n, 50, 4), np.int32),
        seeds=list(range(10, 10 + n)),
        prompt="a bell",
        negative_prompt="rain",
        duration_s=duration,
        timings={"total": 1.5},
        **kw,
    )


def _audio_duration(path):
    """The audio stream's duration as the mp4 states it (priming and padding excluded)."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        return float(stream.duration * stream.time_base)


def test_save_from_frames(tmp_path):
    frames = np.zeros((25, 32, 32, 3), np.uint8)
    out = _output(frames=frames, fps=25.0)
    manifest = out.save(tmp_path / "o")
    data = json.loads(manifest.read_text())
    assert data["seeds"] == [10, 11] and data["prompt"] == "a bell"
    assert [s["mp4"] for s in data["samples"]] == ["sample_0.mp4", "sample_1.mp4"]
    for i in range(2):
        assert _audio_duration(tmp_path / "o" / f"sample_{i}.mp4") == pytest.approx(1.0, abs=1e-3)
        assert (tmp_path / "o" / f"sample_{i}.wav").is_file()


def test_save_muxes_onto_source_video(tmp_path):
    src = tmp_path / "src.mp4"
    write_video(src, np.zeros((30, 32, 32, 3), np.uint8), 30000 / 1001)
    duration = 30 / (30000 / 1001)
    out = _output(n=1, duration=duration, video_path=str(src))
    out.save(tmp_path / "o", stem="clip")
    got = _audio_duration(tmp_path / "o" / "clip_0.mp4")
    assert got == pytest.approx(duration, abs=1.5 / SR)


def test_failed_save_leaves_nothing(tmp_path):
    out = _output(video_path=str(tmp_path / "missing.mp4"))
    with pytest.raises(ValueError):
        out.save(tmp_path / "o")
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="no source video"):
        _output().save(tmp_path / "p")
    assert _output().save(tmp_path / "q", video=False).is_file()
