"""Exact durations at any frame rate; frames resampled by time; the max-duration check."""

import math
from fractions import Fraction

import numpy as np
import pytest

from v2a_jax.sampling.duration import (
    DurationError,
    fit_audio,
    plan_duration,
    resample_frames,
    video_duration,
)

SR, HOP, K = 16000, 320, 4


@pytest.mark.parametrize("fps", [24.0, 25.0, float(Fraction(30000, 1001)), 30.0, 60.0])
@pytest.mark.parametrize("num_frames", [1, 97, 241])
def test_audio_covers_the_video_at_any_fps(fps, num_frames):
    duration = video_duration(num_frames, fps=fps)
    plan = plan_duration(duration, SR, HOP, K, video_fps=25.0)
    assert plan.num_samples == round(num_frames / fps * SR)
    assert plan.num_frames * HOP >= plan.num_samples  # never cut short by hop rounding
    assert (plan.num_frames - 1) * HOP < plan.num_samples  # and at most one hop more
    assert plan.num_steps == plan.num_frames + K - 1
    assert plan.num_video_frames / 25.0 >= duration - 1e-6


def test_known_values():
    plan = plan_duration(4.0, SR, HOP, K, 25.0)
    assert (plan.num_samples, plan.num_frames, plan.num_steps) == (64000, 200, 203)
    assert plan.num_video_frames == 100
    odd = plan_duration(1001 / 30000 * 100, SR, HOP, K, 25.0)  # 100 NTSC frames = 3.3367 s
    assert odd.num_samples == 53387 and odd.num_frames == math.ceil(53387 / HOP) == 167


def test_variable_frame_rate_from_timestamps():
    ts = np.array([0.0, 0.03, 0.07, 0.10, 0.18, 0.20])
    frames = np.arange(6, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2)
    frames = frames.repeat(3, 3)
    dur = video_duration(6, timestamps_s=ts)
    assert dur == pytest.approx(0.20 + np.median(np.diff(ts)))
    out = resample_frames(frames, 6, 25.0, timestamps_s=ts + 5.0)  # an offset start is removed
    # grid 0, .04, .08, .12, .16, .20 -> frames on screen then: 0, 1, 2, 3, 3, 5
    np.testing.assert_array_equal(out[:, 0, 0, 0], [0, 1, 2, 3, 3, 5])


def test_constant_rate_resampling_by_time():
    frames = np.arange(60, dtype=np.uint8)[:, None, None, None].repeat(3, 3)
    out = resample_frames(frames, 25, 25.0, fps=60.0)  # 1 s of 60 fps -> 25 fps
    np.testing.assert_array_equal(out[:, 0, 0, 0], np.floor(np.arange(25) * 60 / 25))
    held = resample_frames(frames[:10], 8, 25.0, fps=60.0)  # past the end: the last frame
    assert held[-1, 0, 0, 0] == 9
    ntsc = resample_frames(frames, 25, 30000 / 1001, fps=30000 / 1001)  # same rate: identity
    np.testing.assert_array_equal(ntsc[:, 0, 0, 0], np.arange(25))


def test_bad_durations():
    with pytest.raises(DurationError, match="longer than this sampler supports"):
        plan_duration(31.0, SR, HOP, K, 25.0, max_duration_s=30.0)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(DurationError, match="positive"):
            plan_duration(bad, SR, HOP, K, 25.0)
    with pytest.raises(ValueError, match="not both"):
        video_duration(3)
    with pytest.raises(ValueError, match="increasing"):
        video_duration(3, timestamps_s=[0.0, 0.1, 0.1])


def test_fit_audio():
    x = np.ones((2, 10), np.float32)
    assert fit_audio(x, 7).shape == (2, 7)
    padded = fit_audio(x, 12)
    assert padded.shape == (2, 12) and padded[:, 10:].sum() == 0
