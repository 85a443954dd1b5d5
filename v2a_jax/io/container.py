"""Opening a video file with PyAV, with one error type whose message says what went wrong.

A user's folder of clips holds every kind of broken file; the data builders skip those and report
why, so the reasons must be specific: missing, empty, not a video at all, a video container that is
truncated or corrupt, no video stream, no audio stream.
"""

from __future__ import annotations

from pathlib import Path

import av

# First bytes of the containers users have (ISO BMFF: the box type sits at byte 4).
_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


class VideoReadError(ValueError):
    """A video file that cannot be read as asked; the message names the file and the problem."""


def ffmpeg_reason(err: Exception) -> str:
    """FFmpeg's short reason (``Invalid data found when processing input``), without the path."""
    return getattr(err, "strerror", None) or str(err)


def _sniff(head: bytes) -> str | None:
    """The container the first bytes announce, or None when they look like no video container."""
    if head[4:8] in _BMFF_BOXES:
        return "an mp4/mov file"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "a Matroska/WebM file"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "an AVI file"
    if head[:3] == b"FLV":
        return "an FLV file"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "an MPEG program stream"
    if head[:1] == b"G" and len(head) > 188 and head[188:189] == b"G":
        return "an MPEG transport stream"
    return None


def open_input(path: str | Path) -> av.container.InputContainer:
    """Opens ``path`` for reading.

    Raises:
        VideoReadError: missing, not a regular file, empty, truncated or corrupt container, or no
            container at all; the message names ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"{path}: no such file (expected a video file)")
    if not path.is_file():
        raise VideoReadError(f"{path}: not a regular file (expected a video file)")
    if path.stat().st_size == 0:
        raise VideoReadError(f"{path}: file is empty (0 bytes), expected a video")
    try:
        # Broken metadata text must not make a playable video unreadable.
        return av.open(str(path), metadata_errors="replace")
    except av.error.FFmpegError as err:
        with path.open("rb") as f:
            head = f.read(192)
        kind = _sniff(head)
        if kind is not None:
            raise VideoReadError(
                f"{path}: looks like {kind} but cannot be opened, so it is truncated or corrupt "
                f"({ffmpeg_reason(err)})"
            ) from None
        raise VideoReadError(
            f"{path}: not a video file (FFmpeg finds no container in it; expected mp4, mov, mkv, "
            f"webm or another video format: {ffmpeg_reason(err)})"
        ) from None


def video_stream(container: av.container.InputContainer, path: str | Path) -> av.VideoStream:
    """The main video stream: the first one that is not a cover picture.

    Raises:
        VideoReadError: the file has no video stream (an audio file, for instance).
    """
    attached = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if not s.disposition & attached]
    if not streams:
        found = ", ".join(s.type for s in container.streams) or "no streams"
        raise VideoReadError(f"{path}: has no video stream (expected one; found {found})")
    return streams[0]


def audio_stream(
    container: av.container.InputContainer, path: str | Path, required: bool
) -> av.AudioStream | None:
    """The first audio stream, or None.

    Raises:
        VideoReadError: ``required`` and the file has no audio stream.
    """
    if container.streams.audio:
        return container.streams.audio[0]
    if required:
        raise VideoReadError(f"{path}: has no audio stream (audio is required)")
    return None
