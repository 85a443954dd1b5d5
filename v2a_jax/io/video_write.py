"""Writing mp4 files (h264 yuv420p + aac) with PyAV, atomically, and putting new audio on a video.

Legend: F frames, H height, W width, C channels, S audio samples.

Both writers interleave audio with video as they go (audio up to each frame's time is written
before the frame), so memory stays flat on long videos.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import fit_length, resample
from v2a_jax.io.container import open_input, video_stream

# The rates AAC can carry; audio at any other rate is resampled to the next one up.
AAC_RATES = (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200,
             96000)  # fmt: skip
_AAC_FRAME = 1024  # samples per AAC frame: the encoder takes exactly this many (the last: fewer)
# Video codecs an mp4 carries as they are: mux_audio copies these instead of re-encoding them.
_COPYABLE = frozenset({"h264", "hevc", "mpeg4", "av1"})
_MP4_OPTIONS = {"movflags": "+faststart"}  # index first: plays in a browser before it downloads


def as_fraction(fps: float | Fraction | str) -> Fraction:
    """A frame rate as an exact fraction: ``30000/1001`` stays itself, 25.0 becomes 25.

    Floats are matched to the nearest fraction with a denominator up to 1001, so the float of
    30000/1001 (29.97002997...) comes back as 30000/1001 (NTSC rates survive float storage).
    """
    frac = Fraction(fps) if isinstance(fps, int | Fraction | str) else Fraction(float(fps))
    frac = frac.limit_denominator(1001)
    if frac <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return frac


def _audio_cs(audio: np.ndarray, sample_rate: int | None) -> tuple[np.ndarray, int]:
    """Float32 ``[C, S]`` (C = 1 or 2) at a rate AAC carries."""
    if not sample_rate:
        raise ValueError("sample_rate is required with audio")
    x_cs = np.asarray(audio, np.float32)
    x_cs = x_cs[None] if x_cs.ndim == 1 else x_cs
    if x_cs.ndim != 2 or x_cs.shape[0] not in (1, 2):
        raise ValueError(f"audio must be [S] or [C, S] with C = 1 or 2, got {x_cs.shape}")
    if not np.all(np.isfinite(x_cs)):
        raise ValueError("refusing to write audio with NaN or inf")
    rate = int(sample_rate)
    if rate not in AAC_RATES:
        aac_rate = next((r for r in AAC_RATES if r > rate), AAC_RATES[-1])
        x_cs, rate = resample(x_cs, rate, aac_rate), aac_rate
    return x_cs, rate


class _AudioWriter:
    """Encodes ``[C, S]`` audio as AAC into ``container``, starting at ``start_s``."""

    def __init__(self, container, x_cs: np.ndarray, rate: int, start_s: float = 0.0):
        self.x_cs = np.ascontiguousarray(x_cs, np.float32)
        self.rate, self.pos = rate, 0
        self.start_pts = round(start_s * rate)
        layout = "mono" if len(x_cs) == 1 else "stereo"
        self.container = container
        self.stream = container.add_stream("aac", rate=rate, layout=layout)
        self.stream.time_base = Fraction(1, rate)

    def write_until(self, t_s: float) -> None:
        """Encodes the audio up to file time ``t_s`` (whole AAC frames)."""
        limit = self.x_cs.shape[1]
        if math.isfinite(t_s):
            limit = min(limit, round(t_s * self.rate) - self.start_pts)
        while self.pos < limit:
            chunk_cs = self.x_cs[:, self.pos : self.pos + _AAC_FRAME]
            layout = "mono" if len(chunk_cs) == 1 else "stereo"
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk_cs), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts = self.rate, self.start_pts + self.pos
            frame.time_base = self.stream.time_base
            self.container.mux(self.stream.encode(frame))
            self.pos += chunk_cs.shape[1]

    def close(self) -> None:
        self.write_until(float("inf"))  # the rest
        self.container.mux(self.stream.encode(None))


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float | Fraction,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    crf: int = 18,
) -> None:
    """Writes an mp4 (h264 yuv420p + aac), atomically.

    Args:
        path: the mp4 to write.
        frames: uint8 ``[F, H, W, 3]`` RGB. yuv420p needs an even size, so an odd height or width
            gets one black row or column at the bottom or right.
        fps: frame rate; fractional rates such as ``Fraction(30000, 1001)`` are kept exactly.
        audio: float ``[S]`` or ``[C, S]`` (C = 1 or 2), written as it is (its length is not
            fit to the video's; ``mux_audio`` does that).
        sample_rate: of ``audio``; a rate AAC cannot carry is resampled to the next one up.
        crf: x264 quality (lower is better; 18 looks lossless to most eyes).

    Raises:
        ValueError: bad frames, fps or audio; nothing is written then.
    """
    frames_fhwc = np.asarray(frames)
    if frames_fhwc.ndim != 4 or frames_fhwc.shape[-1] != 3 or frames_fhwc.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 [F, H, W, 3], got {frames_fhwc.dtype} {frames_fhwc.shape}"
        )
    if not len(frames_fhwc):
        raise ValueError("frames must hold at least one frame")
    pad_h, pad_w = frames_fhwc.shape[1] % 2, frames_fhwc.shape[2] % 2
    if pad_h or pad_w:
        frames_fhwc = np.pad(frames_fhwc, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    rate = as_fraction(fps)
    audio_cs = _audio_cs(audio, sample_rate) if audio is not None else None
    with (
        atomic_path(path) as tmp,
        av.open(str(tmp), "w", format="mp4", options=_MP4_OPTIONS) as out,
    ):
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = frames_fhwc.shape[2], frames_fhwc.shape[1], "yuv420p"
        vs.time_base = 1 / rate
        vs.options = {"crf": str(crf)}
        # from_ndarray's RGB -> yuv conversion uses the BT.601 matrix; say so, so that players
        # do not guess BT.709 for HD sizes and shift the colours.
        vs.codec_context.colorspace, vs.codec_context.color_range = (
            Colorspace.ITU601,
            ColorRange.MPEG,
        )
        writer = _AudioWriter(out, *audio_cs) if audio_cs is not None else None
        for i, img_hwc in enumerate(frames_fhwc):
            if writer is not None:
                writer.write_until(float((i + 1) / rate))
            frame = av.VideoFrame.from_ndarray(img_hwc, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if writer is not None:
            writer.close()


def mux_audio(
    video_path: str | Path, waveform: np.ndarray, sample_rate: int, out_path: str | Path
) -> None:
    """Writes ``out_path``: the video of ``video_path`` with ``waveform`` as its only audio.

    The picture keeps its frames, timestamps (so its frame rate, variable or not), size,
    rotation and duration: h264, hevc, mpeg4 and av1 video is copied as it is (no quality loss);
    other codecs (vp9, ...) are re-encoded as h264 with the same timestamps (an odd size is then
    scaled to the next even one). The waveform is padded with silence or trimmed to exactly the
    video's duration, so the soundtrack is never cut short by codec-hop rounding, and starts with
    the first frame.

    Args:
        video_path: any video file FFmpeg reads; its own audio is dropped.
        waveform: float ``[S]`` or ``[C, S]`` (C = 1 or 2) at ``sample_rate``.
        sample_rate: in Hz.
        out_path: the mp4 to write (atomically; it may be ``video_path`` itself).

    Raises:
        VideoReadError: ``video_path`` cannot be read or has no video stream.
        ValueError: a bad waveform.
    """
    from v2a_jax.io.video import probe_video  # video.py re-exports this module: import late

    info = probe_video(video_path)
    audio_cs, rate = _audio_cs(waveform, sample_rate)
    audio_cs = fit_length(audio_cs, round(info.duration_s * rate))
    with (
        open_input(video_path) as src,
        atomic_path(out_path) as tmp,
        av.open(str(tmp), "w", format="mp4", options=_MP4_OPTIONS) as out,
    ):
        vin = video_stream(src, video_path)
        copy = vin.codec_context.name in _COPYABLE
        vout = out.add_stream_from_template(vin) if copy else _h264_like(out, vin, info.rotation)
        writer = _AudioWriter(out, audio_cs, rate, start_s=info.start_s)
        for packet in src.demux(vin):
            if copy:
                if not packet.size:  # the demuxer's end-of-stream marker, not data
                    continue
                if packet.pts is not None:
                    writer.write_until(float(packet.pts * vin.time_base))
                packet.stream = vout
                out.mux(packet)
                continue
            for frame in packet.decode():
                if frame.time is not None:
                    writer.write_until(frame.time)
                out.mux(vout.encode(frame))
        if not copy:
            out.mux(vout.encode(None))
        writer.close()


def _h264_like(out, vin: av.VideoStream, rotation: int) -> av.VideoStream:
    """An h264 stream that takes ``vin``'s decoded frames with their own timestamps."""
    vout = out.add_stream("libx264", rate=vin.average_rate or vin.guessed_rate or 25)
    vout.width, vout.height = vin.width + vin.width % 2, vin.height + vin.height % 2
    vout.pix_fmt = "yuv420p"
    vout.time_base = vin.time_base  # frames keep their timestamps: variable rates stay as they are
    vout.codec_context.time_base = vin.time_base
    vout.options = {"crf": "18"}
    cin, cout = vin.codec_context, vout.codec_context
    cout.colorspace, cout.color_range = cin.colorspace, cin.color_range
    cout.color_primaries, cout.color_trc = cin.color_primaries, cin.color_trc
    if rotation:  # the frames are decoded unrotated: keep telling players how to turn them
        vout.set_display_rotation(rotation)
    return vout
