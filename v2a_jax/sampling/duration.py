"""Exact durations: how many samples, codec frames, AR steps and video frames a clip needs.

Legend: F video frames, H W image size, T codec frames, K codebooks, S audio samples.

A clip of ``duration_s`` seconds gets exactly ``S = round(duration_s * sample_rate)`` samples of
audio: the codec makes ``T = ceil(S / hop)`` frames (one hop more than the duration where it does
not divide, never one less), the AR sampler runs ``T + K - 1`` steps, and the decoded waveform
(``T * hop`` samples) is trimmed back to ``S``. So the soundtrack is never cut short by codec-hop
rounding (ThinkSound #23), at any input frame rate: 24, 25, 30000/1001, 30, 60 fps, or variable
rate given as frame timestamps. The frames are resampled onto the model's own frame rate by
time (frame ``i`` of the output is the source frame on screen at ``i / model_fps``), never by
assuming the source runs at the model's rate (ComfyUI-MMAudio #4, #37).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


class DurationError(ValueError):
    """A duration the sampler cannot produce (zero, negative, or longer than its limit)."""


@dataclasses.dataclass(frozen=True)
class DurationPlan:
    """The sizes of one generation.

    Attributes:
        duration_s: the clip's duration.
        sample_rate: audio rate in Hz.
        num_samples: ``S = round(duration_s * sample_rate)``, the exact output length.
        hop_length: codec samples per frame.
        num_frames: ``T = ceil(S / hop)`` codec frames.
        num_codebooks: K.
        num_steps: ``T + K - 1`` delay-pattern steps.
        video_fps: the model's video frame rate.
        num_video_frames: ``ceil(duration_s * video_fps)`` frames (the last one covers the tail).
    """

    duration_s: float
    sample_rate: int
    num_samples: int
    hop_length: int
    num_frames: int
    num_codebooks: int
    num_steps: int
    video_fps: float
    num_video_frames: int


def plan_duration(
    duration_s: float,
    sample_rate: int,
    hop_length: int,
    num_codebooks: int,
    video_fps: float,
    max_duration_s: float | None = None,
) -> DurationPlan:
    """Sizes for a clip of ``duration_s`` seconds.

    Raises:
        DurationError: a duration that is not finite and positive, shorter than one codec
            sample, or above ``max_duration_s`` (the message says what the limit is).
    """
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise DurationError(f"duration must be a positive number of seconds, got {duration_s}")
    if max_duration_s is not None and duration_s > max_duration_s + 1e-9:
        raise DurationError(
            f"duration {duration_s:.3f} s is longer than this sampler supports "
            f"({max_duration_s:.3f} s); pass a shorter --duration or raise max_duration_s"
        )
    num_samples = round(duration_s * sample_rate)
    if num_samples < 1:
        raise DurationError(f"duration {duration_s} s is shorter than one sample at {sample_rate}")
    num_frames = -(-num_samples // hop_length)
    return DurationPlan(
        duration_s=float(duration_s),
        sample_rate=int(sample_rate),
        num_samples=num_samples,
        hop_length=int(hop_length),
        num_frames=num_frames,
        num_codebooks=int(num_codebooks),
        num_steps=num_frames + num_codebooks - 1,
        video_fps=float(video_fps),
        num_video_frames=max(1, math.ceil(duration_s * video_fps - 1e-6)),
    )


def frame_timestamps(num_frames: int, fps: float | None, timestamps_s=None) -> np.ndarray:
    """float64 ``[F]`` start times of the frames, from 0: given, or ``i / fps``.

    Raises:
        ValueError: neither or both given, a length that does not match, or timestamps that do
            not increase.
    """
    if (fps is None) == (timestamps_s is None):
        raise ValueError("give the frames' fps or their timestamps (variable frame rate), not both")
    if timestamps_s is None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps}")
        return np.arange(num_frames, dtype=np.float64) / float(fps)
    ts = np.asarray(timestamps_s, np.float64)
    if ts.shape != (num_frames,):
        raise ValueError(f"got {ts.shape[0] if ts.ndim else 0} timestamps for {num_frames} frames")
    if num_frames > 1 and not np.all(np.diff(ts) > 0):
        raise ValueError("frame timestamps must be strictly increasing")
    return ts - ts[0]


def video_duration(num_frames: int, fps: float | None = None, timestamps_s=None) -> float:
    """First frame's start to the last frame's end (the last shown for the median spacing).

    Same rule as ``v2a_jax.io.read_video``: ``F / fps`` at a constant rate.
    """
    ts = frame_timestamps(num_frames, fps, timestamps_s)
    if timestamps_s is None:
        return num_frames / float(fps)
    last_s = float(np.median(np.diff(ts))) if num_frames > 1 else 1.0 / 25.0
    return float(ts[-1] + last_s)


def resample_frames(
    frames_fhwc: np.ndarray,
    num_out: int,
    out_fps: float,
    fps: float | None = None,
    timestamps_s=None,
) -> np.ndarray:
    """Frames on the model's grid: output frame ``i`` is the source frame shown at ``i / out_fps``.

    Args:
        frames_fhwc: uint8 ``[F, H, W, 3]``.
        num_out: frames to return (``DurationPlan.num_video_frames``); past the last source
            frame, the last one is held.
        out_fps: the model's rate.
        fps: the source's constant rate, or
        timestamps_s: the source frames' start times (variable rate), seconds.

    Returns:
        uint8 ``[num_out, H, W, 3]``.
    """
    ts = frame_timestamps(len(frames_fhwc), fps, timestamps_s)
    grid = np.arange(num_out, dtype=np.float64) / float(out_fps)
    # Half a microsecond of slack: 30000/1001 fps frame starts computed in float must not miss
    # the grid point they fall on exactly.
    idx = np.searchsorted(ts, grid + 5e-7, side="right") - 1
    return frames_fhwc[np.clip(idx, 0, len(frames_fhwc) - 1)]


def fit_audio(wave_ns: np.ndarray, num_samples: int) -> np.ndarray:
    """Trims (or zero-pads) the last axis to exactly ``num_samples``."""
    have = wave_ns.shape[-1]
    if have >= num_samples:
        return wave_ns[..., :num_samples]
    pad = [(0, 0)] * (wave_ns.ndim - 1) + [(0, num_samples - have)]
    return np.pad(wave_ns, pad)
