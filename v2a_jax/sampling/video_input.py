"""The video side of a request: a file or frames in, frames on the model's grid out.

Legend: F frames, H W frame size.

A file is decoded with ``v2a_jax.io.read_video`` straight onto the model's fps and frame size (by
timestamps, so variable-rate files are right). Frames given as an array come with their ``fps``
or, for variable rate, their ``timestamps``; they are resampled by time and resized with FFmpeg's
scaler (the same one ``read_video`` uses).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from v2a_jax.sampling.duration import resample_frames, video_duration


@dataclasses.dataclass
class VideoInput:
    """A request's video, ready for the model, and what the mp4s get written from.

    Attributes:
        frames: uint8 [F, H, W, 3] at ``fps`` (the model's rate and size), covering
            ``duration_s`` (the last frame held to the end).
        fps: the model's frame rate.
        duration_s: the soundtrack's duration.
        source_path: the file, when the mp4s are muxed onto it (its whole duration is used).
        mp4_frames: frames to write the mp4s from when they are not muxed onto a file.
        mp4_fps: their frame rate.
    """

    frames: np.ndarray
    fps: float
    duration_s: float
    source_path: str | None = None
    mp4_frames: np.ndarray | None = None
    mp4_fps: float | None = None


def _resize(frames_fhwc: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import av

    h, w = size
    if frames_fhwc.shape[1:3] == (h, w):
        return frames_fhwc
    out = np.empty((len(frames_fhwc), h, w, 3), np.uint8)
    for i, frame_hwc in enumerate(frames_fhwc):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_hwc), format="rgb24")
        out[i] = vf.reformat(width=w, height=h).to_ndarray()
    return out


def _check_duration(duration_s: float | None, available_s: float, what: str) -> float:
    if duration_s is None:
        return available_s
    if not duration_s > 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration_s}")
    if duration_s > available_s + 1e-6:
        raise ValueError(f"duration {duration_s:.3f} s is longer than {what} ({available_s:.3f} s)")
    return float(duration_s)


def load_video_file(
    path: str | Path, fps: float, size: tuple[int, int], duration_s: float | None = None
) -> VideoInput:
    """Decodes ``path`` onto the model's grid (``fps``, ``size`` = (H, W)).

    Raises:
        FileNotFoundError: no file at ``path``.
        v2a_jax.io.container.VideoReadError: unreadable, not a video, no frames (names ``path``).
        ValueError: a ``duration_s`` longer than the video.
    """
    from v2a_jax.io.video import probe_video, read_video

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    info = probe_video(path)
    duration = _check_duration(duration_s, info.duration_s, f"the video {path}")
    clip = read_video(path, fps=fps, size=size, max_duration_s=duration)
    frames = resample_frames(clip.frames, max(1, int(np.ceil(duration * fps - 1e-6))), fps, fps)
    if duration < info.duration_s - 1e-6:
        # A shorter soundtrack than the file: the mp4s show just that part, at the file's size.
        native = read_video(path, max_duration_s=duration)
        return VideoInput(frames, fps, duration, None, native.frames, native.fps)
    return VideoInput(frames, fps, duration, str(path))


def video_from_frames(
    frames,
    fps: float,
    size: tuple[int, int],
    source_fps: float | None = None,
    timestamps_s=None,
    duration_s: float | None = None,
) -> VideoInput:
    """Frames uint8 [F, H, W, 3] at ``source_fps`` (or with ``timestamps_s``) onto the grid.

    Raises:
        ValueError: a wrong shape or dtype, no frames, neither or both of ``source_fps`` and
            ``timestamps_s``, or a ``duration_s`` longer than the frames.
    """
    frames_fhwc = np.asarray(frames)
    if frames_fhwc.ndim != 4 or frames_fhwc.shape[-1] != 3 or frames_fhwc.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 [F, H, W, 3], got {frames_fhwc.dtype} {frames_fhwc.shape}"
        )
    if len(frames_fhwc) == 0:
        raise ValueError("the video has no frames (frames array is empty)")
    available = video_duration(len(frames_fhwc), source_fps, timestamps_s)
    duration = _check_duration(duration_s, available, "the frames")
    n = max(1, int(np.ceil(duration * fps - 1e-6)))
    grid = _resize(resample_frames(frames_fhwc, n, fps, source_fps, timestamps_s), size)
    if timestamps_s is None:
        keep = max(1, int(np.ceil(duration * source_fps - 1e-6)))
        return VideoInput(grid, fps, duration, None, frames_fhwc[:keep], float(source_fps))
    # Variable rate: the mp4s are written from the frames on the model's (constant) grid.
    model_grid = resample_frames(frames_fhwc, n, fps, None, timestamps_s)
    return VideoInput(grid, fps, duration, None, model_grid, fps)
