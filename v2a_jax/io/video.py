"""Video files with PyAV: probe, read (frames on an exact fps grid, mono audio), write, mux.

Legend: F frames, H height, W width, C channels, S audio samples.

Time 0 of a clip is the presentation time of its first video frame; its duration runs from there
to the end of the last frame. Audio is placed on that timeline by its timestamps (so a stream that
starts late, or has a gap, stays in sync) and fit to exactly ``round(duration_s * rate)``
samples. ``write_video`` and ``mux_audio`` live in ``v2a_jax.io.video_write`` and are re-exported
here.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from v2a_jax.io.audio import fit_length, resample, to_mono
from v2a_jax.io.container import (
    VideoReadError,
    audio_stream,
    ffmpeg_reason,
    open_input,
    video_stream,
)

# A decoded file ending this much before its container's stated duration is truncated.
_TRUNCATED_MIN_S, _TRUNCATED_FRACTION = 0.5, 0.1
_INT_AUDIO_SCALE = {"u8": 128.0, "s16": 2.0**15, "s32": 2.0**31, "s64": 2.0**63}


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What ``probe_video`` finds without decoding the whole file.

    Attributes:
        duration_s: first frame's start to the last frame's end.
        fps: average frame rate (30000/1001 comes out as 29.97002997...).
        width: displayed width (rotation metadata applied, as players do).
        height: displayed height.
        num_frames: video frames in the file.
        has_audio: the file has an audio stream.
        audio_sample_rate: that stream's rate, or None.
        codec: the video codec's FFmpeg name (``h264``, ``vp9``, ...).
        rotation: degrees counter-clockwise that players rotate the picture by (0, 90, 180, -90).
        start_s: the first frame's time on the file's own timeline (usually 0); audio written
            for this video starts there.
    """

    duration_s: float
    fps: float
    width: int
    height: int
    num_frames: int
    has_audio: bool
    audio_sample_rate: int | None
    codec: str = ""
    rotation: int = 0
    start_s: float = 0.0


@dataclasses.dataclass
class VideoClip:
    """A decoded clip.

    Attributes:
        frames: uint8 ``[F, H, W, 3]`` RGB at ``fps``.
        fps: frame rate of ``frames``.
        audio: float32 ``[S]`` mono at ``sample_rate``, ``S = round(duration_s * sample_rate)``;
            None when the file has no audio stream.
        sample_rate: in Hz, or None without audio.
        duration_s: the clip's duration (see the module docstring).
    """

    frames: np.ndarray
    fps: float
    audio: np.ndarray | None
    sample_rate: int | None
    duration_s: float


def _average_rate(stream: av.VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else None


def _mean_fps(stated: float | None, num_frames: int, duration_s: float) -> float:
    """Frames per second over the clip; the stream's stated rate where the two agree.

    The stated rate is exact (30000/1001, not 29.9700...) for constant-rate files, but some
    containers state a nominal rate for variable-rate video, which the count then overrides.
    """
    counted = num_frames / duration_s
    if stated and abs(stated - counted) <= 0.01 * counted:
        return stated
    return counted


def _last_frame_s(starts_s: list[float], last_duration_s: float, rate: float | None) -> float:
    """How long the last frame is shown: its own duration, else the typical spacing."""
    if last_duration_s > 0:
        return last_duration_s
    if len(starts_s) > 1:
        return float(np.median(np.diff(np.sort(starts_s))))
    return 1.0 / rate if rate else 0.04  # one frame, no rate anywhere: one 25 fps frame


def _to_rgb(frame: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
    """``[H, W, 3]`` uint8, rotated as players show it, resized to ``size`` (stretched)."""
    turns = round(frame.rotation / 90) % 4  # display matrix: counter-clockwise quarter turns
    width = height = None
    if size is not None:
        height, width = size if turns % 2 == 0 else size[::-1]
    # Full-range ("pc") yuv must be converted as such, or blacks and whites get clipped.
    img_hwc = frame.to_ndarray(
        format="rgb24", width=width, height=height, src_color_range=frame.color_range or None
    )
    return np.ascontiguousarray(np.rot90(img_hwc, turns)) if turns else img_hwc


class _FrameSampler:
    """Collects frames as they are decoded, in display order, onto an exact ``fps`` grid.

    Output frame i is the source frame on screen at time i / fps: the last one that started at or
    before it. Timestamps are rounded to the stream's time base (Matroska/WebM: milliseconds, so
    a 29.97 fps frame can be stored up to 0.5 ms late), so a frame counts as started within half
    a time-base unit (``tol_s``). Only frames that get picked are converted to RGB, so a 60 fps
    source read at 25 fps costs 25 conversions a second. With ``fps`` None all frames are kept.
    """

    def __init__(self, fps: float | None, size: tuple[int, int] | None, tol_s: float):
        self.fps, self.size, self.tol_s = fps, size, tol_s
        self.frames_hwc: list[np.ndarray] = []
        self._prev: av.VideoFrame | None = None
        self._prev_rgb: np.ndarray | None = None

    def _fill_until(self, t_s: float) -> None:
        while self._prev is not None and len(self.frames_hwc) / self.fps < t_s - self.tol_s:
            if self._prev_rgb is None:
                self._prev_rgb = _to_rgb(self._prev, self.size)
            self.frames_hwc.append(self._prev_rgb)

    def add(self, t_s: float, frame: av.VideoFrame) -> None:
        if self.fps is None:
            self.frames_hwc.append(_to_rgb(frame, self.size))
            return
        self._fill_until(t_s)
        self._prev, self._prev_rgb = frame, None

    def finish(self, duration_s: float) -> np.ndarray:
        if self.fps is not None:
            n = max(1, round(duration_s * self.fps))
            self._fill_until(n / self.fps)  # the grid points after the last frame's start
            while len(self.frames_hwc) < n:  # a grid step below tol_s (not in practice)
                self.frames_hwc.append(
                    self.frames_hwc[-1] if self.frames_hwc else _to_rgb(self._prev, self.size)
                )
            del self.frames_hwc[n:]
        return np.stack(self.frames_hwc)


class _AudioTrack:
    """Decoded audio frames, mono, kept with their timestamps until the timeline is known."""

    def __init__(self):
        self.chunks: list[tuple[float | None, np.ndarray]] = []
        self.rate: int | None = None
        self.end_s: float | None = None

    def add(self, frame: av.AudioFrame) -> None:
        x_cs = frame.to_ndarray()
        if not frame.format.is_planar:
            x_cs = x_cs.reshape(-1, frame.layout.nb_channels).T
        kind = frame.format.name.removesuffix("p")
        if kind == "u8":
            x_cs = (x_cs.astype(np.float32) - 128.0) / 128.0
        elif kind in _INT_AUDIO_SCALE:  # integer PCM (mov/avi/mkv often carry it) to [-1, 1]
            x_cs = x_cs / _INT_AUDIO_SCALE[kind]
        # The encoder pads the last frame (AAC: to 1024 samples); the container's duration says
        # how much is real. Only trusted where timestamps resolve single samples (mp4: 1/rate).
        tb = frame.time_base
        if frame.duration and tb and tb <= Fraction(1, frame.sample_rate):
            x_cs = x_cs[:, : max(1, round(frame.duration * tb * frame.sample_rate))]
        self.rate = frame.sample_rate
        self.chunks.append((frame.time, to_mono(x_cs)))
        if frame.time is not None:
            self.end_s = frame.time + x_cs.shape[-1] / frame.sample_rate

    def render(self, t0_s: float, duration_s: float, sample_rate: int | None) -> np.ndarray:
        """Float32 ``[round(duration_s * rate)]`` mono, sample 0 at time ``t0_s``."""
        rate = self.rate
        # Timestamps rounded to a millisecond or so must not open gaps or overlaps between chunks.
        snap = int(np.ceil(2e-3 * rate))
        placed, expected = [], 0
        for t_s, x_s in self.chunks:
            start = expected if t_s is None else round((t_s - t0_s) * rate)
            if abs(start - expected) <= snap:
                start = expected
            placed.append((start, x_s))
            expected = start + len(x_s)
        audio_s = np.zeros(max([0] + [s + len(x) for s, x in placed]), np.float32)
        for start, x_s in placed:  # audio before the first video frame is cut
            if start + len(x_s) > 0:
                audio_s[max(start, 0) : start + len(x_s)] = x_s[max(-start, 0) :]
        if sample_rate and sample_rate != rate:
            audio_s, rate = resample(audio_s, rate, sample_rate), sample_rate
        return fit_length(audio_s, round(duration_s * rate))


def read_video(
    path: str | Path,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    sample_rate: int | None = None,
    need_audio: bool = False,
    max_duration_s: float | None = None,
) -> VideoClip:
    """Decodes a video file's frames and its first audio stream (mono).

    Args:
        path: any container FFmpeg reads (mp4, mov, mkv, webm, avi, ...).
        fps: resample the frames onto this exact grid by their timestamps: frame i is the source
            frame on screen at time i / fps (right for variable frame rates too), and there are
            ``round(duration_s * fps)`` frames. None keeps every source frame (``fps`` is then
            the average rate).
        size: ``(H, W)`` to resize to (stretched, no crop); None keeps the displayed size.
        sample_rate: resample the audio to this rate; None keeps the stream's rate.
        need_audio: raise if the file has no audio stream (else ``audio`` is None).
        max_duration_s: decode only this much of a longer file.

    Returns:
        The clip; rotation metadata (phone videos) is applied, as players do.

    Raises:
        VideoReadError: missing, empty, not a video, truncated or corrupt, no video stream or no
            frames, or no audio stream when ``need_audio``; the message names ``path``.
    """
    path = Path(path)
    with open_input(path) as container:
        vstream = video_stream(container, path)
        astream = audio_stream(container, path, need_audio)
        vstream.thread_type = "AUTO"  # frame threads: several times faster on long h264 files
        native = _average_rate(vstream)
        tol_s = float(vstream.time_base) / 2 + 1e-9 if vstream.time_base else 1e-6
        sampler, track = _FrameSampler(fps, size, tol_s), _AudioTrack()
        starts_s: list[float] = []
        last_dur_s, t0, trimmed = 0.0, None, False
        streams = [vstream] + ([astream] if astream is not None else [])
        for packet in container.demux(*streams):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as err:
                raise VideoReadError(
                    f"{path}: truncated or corrupt: decoding its {packet.stream.type} stream "
                    f"failed after {len(starts_s)} video frames ({ffmpeg_reason(err)})"
                ) from None
            for frame in decoded:
                if packet.stream.type == "audio":
                    track.add(frame)
                    continue
                t = frame.time
                if t is None:  # raw streams carry no timestamps: count frames instead
                    t = starts_s[-1] + 1.0 / (native or 25.0) if starts_s else 0.0
                t = max(t, starts_s[-1] + 1e-6) if starts_s else t  # never backwards
                t0 = t if t0 is None else t0
                if max_duration_s is not None and t - t0 >= max_duration_s - 1e-9:
                    trimmed = True
                    continue
                starts_s.append(t)
                last_dur_s = float(frame.duration * frame.time_base) if frame.duration else 0.0
                sampler.add(t - t0, frame)
            if trimmed and (astream is None or (track.end_s or 0.0) - t0 >= max_duration_s):
                break
        if not starts_s:
            raise VideoReadError(f"{path}: its video stream has no decodable frames")
        end_s = starts_s[-1] + _last_frame_s(starts_s, last_dur_s, native)
        if not trimmed:
            _check_complete(path, container, max(end_s, track.end_s or end_s))
    duration_s = min(end_s - t0, max_duration_s) if trimmed else end_s - t0
    frames_fhwc = sampler.finish(duration_s)
    audio_s, rate = None, None
    if astream is not None:
        if not track.chunks and need_audio:
            raise VideoReadError(f"{path}: its audio stream has no decodable samples")
        if track.chunks:
            audio_s = track.render(t0, duration_s, sample_rate)
            rate = sample_rate or track.rate
    return VideoClip(
        frames=frames_fhwc,
        fps=float(fps) if fps is not None else _mean_fps(native, len(frames_fhwc), duration_s),
        audio=audio_s,
        sample_rate=rate,
        duration_s=duration_s,
    )


def _check_complete(path: Path, container: av.container.InputContainer, end_s: float) -> None:
    """Raises when the streams end well before the duration the container's header states.

    A truncated Matroska or fast-start mp4 decodes without any error up to where it was cut.
    """
    if not container.duration:
        return
    start_s = (container.start_time or 0) / av.time_base
    stated_s = container.duration / av.time_base
    if end_s - start_s < stated_s - max(_TRUNCATED_MIN_S, _TRUNCATED_FRACTION * stated_s):
        raise VideoReadError(
            f"{path}: truncated: the container says {stated_s:.2f} s, but its streams end "
            f"after {end_s - start_s:.2f} s"
        )


def probe_video(path: str | Path) -> VideoInfo:
    """Duration, frame rate, displayed size, frame count and audio of a video file.

    Reads the packets' timestamps (no decoding beyond the first frame), so it is fast; the
    duration and frame count agree with what ``read_video(path)`` decodes.

    Raises:
        VideoReadError: as ``read_video`` (a file cut short inside its frames is only found by
            decoding it).
    """
    path = Path(path)
    with open_input(path) as container:
        vstream = video_stream(container, path)
        ends: dict[int, int] = {}  # pts -> duration, in the stream's time base
        first = None
        for packet in container.demux(vstream):
            if packet.pts is None:
                continue
            ends[packet.pts] = packet.duration or 0
            if first is None:  # the first frame tells the rotation and the real size
                try:
                    first = next(iter(packet.decode()), None)
                except av.error.FFmpegError as err:
                    raise VideoReadError(
                        f"{path}: corrupt video stream ({ffmpeg_reason(err)})"
                    ) from None
        if not ends:
            raise VideoReadError(f"{path}: its video stream has no frames")
        tb = vstream.time_base
        starts_s = sorted(float(p * tb) for p in ends)
        last_pts = max(ends)
        native = _average_rate(vstream)
        duration_s = (
            float(last_pts * tb) + _last_frame_s(starts_s, float(ends[last_pts] * tb), native)
        ) - starts_s[0]
        rotation = first.rotation if first is not None else 0
        width, height = (first.width, first.height) if first else (vstream.width, vstream.height)
        if rotation % 180:
            width, height = height, width
        astream = container.streams.audio[0] if container.streams.audio else None
        return VideoInfo(
            duration_s=duration_s,
            fps=_mean_fps(native, len(ends), duration_s),
            width=width,
            height=height,
            num_frames=len(ends),
            has_audio=astream is not None,
            audio_sample_rate=astream.rate if astream is not None else None,
            codec=vstream.codec_context.name,
            rotation=rotation,
            start_s=starts_s[0],
        )


from v2a_jax.io.video_write import mux_audio, write_video  # noqa: E402  (re-exported API)

__all__ = [
    "VideoClip",
    "VideoInfo",
    "VideoReadError",
    "mux_audio",
    "probe_video",
    "read_video",
    "write_video",
]
