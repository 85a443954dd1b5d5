"""Video files with PyAV: probe, read (frames at a target fps and size, mono audio), write, mux.

Legend: F frames, H height, W width, S audio samples.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import fit_length, resample, to_mono


class VideoReadError(ValueError):
    """A video file that cannot be read as asked; the message names the file and the problem."""


@dataclasses.dataclass
class VideoInfo:
    duration_s: float
    fps: float
    width: int
    height: int
    num_frames: int
    has_audio: bool
    audio_sample_rate: int | None


@dataclasses.dataclass
class VideoClip:
    """Decoded video: ``frames`` uint8 [F, H, W, 3] RGB at ``fps``; ``audio`` float32 [S] mono."""

    frames: np.ndarray
    fps: float
    audio: np.ndarray | None
    sample_rate: int | None
    duration_s: float


def _open(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise VideoReadError(f"{path}: no such file (expected a video file)")
    if path.stat().st_size == 0:
        raise VideoReadError(f"{path}: file is empty (0 bytes), expected a video")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as err:
        raise VideoReadError(f"{path}: not a readable video container ({err})") from None


def _decode_frames(path: Path, size: tuple[int, int] | None):
    """Decodes every video frame: (times_f seconds, frames [F, H, W, 3], native fps)."""
    with _open(path) as container:
        if not container.streams.video:
            raise VideoReadError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        native = float(stream.average_rate or stream.guessed_rate or 0) or None
        h, w = size if size else (stream.height, stream.width)
        times, frames = [], []
        try:
            for frame in container.decode(stream):
                times.append(float(frame.time) if frame.time is not None else len(times) / native)
                frames.append(frame.to_ndarray(format="rgb24", width=w, height=h))
        except av.error.FFmpegError as err:
            if not frames:
                raise VideoReadError(f"{path}: corrupt or truncated video ({err})") from None
    if not frames:
        raise VideoReadError(f"{path}: video stream has no decodable frames")
    times_f = np.asarray(times, np.float64)
    if native is None:
        native = (len(times) - 1) / max(times_f[-1] - times_f[0], 1e-9) if len(times) > 1 else 25.0
    return times_f - times_f[0], np.stack(frames), native


def _decode_audio(path: Path, sample_rate: int | None) -> tuple[np.ndarray, int] | None:
    with _open(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        chunks = []
        try:
            for frame in container.decode(stream):
                chunks.append(
                    to_mono(
                        frame.to_ndarray().reshape(-1, frame.samples)
                        if frame.format.is_planar
                        else frame.to_ndarray().reshape(frame.samples, -1).T
                    )
                )
        except av.error.FFmpegError as err:
            if not chunks:
                raise VideoReadError(f"{path}: corrupt audio stream ({err})") from None
        rate = stream.rate
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if sample_rate and sample_rate != rate:
        audio = resample(audio, rate, sample_rate)
        rate = sample_rate
    return audio, int(rate)


def probe_video(path: str | Path) -> VideoInfo:
    """Reads a video's duration, frame rate, size, frame count and audio presence."""
    path = Path(path)
    times_f, frames, native = _decode_frames(path, None)
    with _open(path) as container:
        audio_rate = container.streams.audio[0].rate if container.streams.audio else None
    return VideoInfo(
        duration_s=float(times_f[-1] + 1.0 / native),
        fps=native,
        width=frames.shape[2],
        height=frames.shape[1],
        num_frames=len(frames),
        has_audio=audio_rate is not None,
        audio_sample_rate=audio_rate,
    )


def read_video(
    path: str | Path,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    sample_rate: int | None = None,
    need_audio: bool = False,
) -> VideoClip:
    """Reads frames (resampled onto an exact ``fps`` grid when given) and mono audio.

    Frame i of the output is the source frame on screen at time i / fps, so variable and
    fractional frame rates map correctly. Audio is fit to exactly round(duration * rate) samples.

    Raises:
        VideoReadError: missing, empty, not a video, corrupt, no video stream or frames, or no
            audio stream when ``need_audio``.
    """
    path = Path(path)
    times_f, frames, native = _decode_frames(path, size)
    duration = float(times_f[-1] + 1.0 / native)
    out_fps = native if fps is None else float(fps)
    if fps is not None:
        grid = np.arange(max(1, round(duration * out_fps))) / out_fps
        index = np.clip(np.searchsorted(times_f, grid + 1e-6, side="right") - 1, 0, len(frames) - 1)
        frames = frames[index]
    decoded = _decode_audio(path, sample_rate)
    if decoded is None and need_audio:
        raise VideoReadError(f"{path}: has no audio stream (audio is required)")
    audio, rate = decoded if decoded is not None else (None, None)
    if audio is not None:
        audio = fit_length(audio, round(duration * rate))
    return VideoClip(frames=frames, fps=out_fps, audio=audio, sample_rate=rate, duration_s=duration)


def _as_fraction(fps: float | Fraction) -> Fraction:
    frac = Fraction(fps).limit_denominator(1001)
    if frac <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return frac


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float | Fraction,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> None:
    """Writes an mp4 (h264 yuv420p + aac) atomically.

    Args:
        frames: uint8 [F, H, W, 3] RGB; odd sizes are padded by one black row/column (yuv420p).
        fps: frame rate; fractional rates such as 30000/1001 are kept exactly.
        audio: float [S] or [C, S], written as mono aac at ``sample_rate``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise ValueError(
            f"frames must be uint8 [F, H, W, 3] with F > 0, got {frames.dtype} {frames.shape}"
        )
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    rate = _as_fraction(fps)
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format="mp4") as container:
        vs = container.add_stream("h264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        vs.time_base = 1 / rate
        vs.options = {"crf": "18"}
        if audio is not None:
            if not sample_rate:
                raise ValueError("sample_rate is required with audio")
            as_ = container.add_stream("aac", rate=int(sample_rate), layout="mono")
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            container.mux(vs.encode(frame))
        container.mux(vs.encode())
        if audio is not None:
            mono = np.ascontiguousarray(to_mono(audio), np.float32)
            for start in range(0, len(mono), 1024):
                chunk = mono[start : start + 1024][None]
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate, aframe.pts = int(sample_rate), start
                container.mux(as_.encode(aframe))
            container.mux(as_.encode())


def mux_audio(
    video_path: str | Path, waveform: np.ndarray, sample_rate: int, out_path: str | Path
) -> None:
    """Writes ``out_path``: the video of ``video_path`` (same frames, rate, size) with new audio.

    The waveform ([S] or [C, S]) is padded or trimmed to the video's exact duration, so the
    soundtrack is never cut short by codec-hop rounding.
    """
    with _open(video_path) as container:
        if not container.streams.video:
            raise VideoReadError(f"{video_path}: has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
    clip = read_video(video_path)
    n = round(len(clip.frames) / float(rate) * sample_rate)
    write_video(out_path, clip.frames, rate, fit_length(to_mono(waveform), n), sample_rate)
