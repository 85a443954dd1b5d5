"""The ``video_folder`` TFDS builder: a user's clips plus ``captions.csv``, as clip records.

The folder holds video files (mp4, webm, mov, mkv, ...: any frame rate, size and audio rate) and
``captions.csv`` with the columns ``file,caption[,negative_prompt][,transcript][,split]``:
``file`` is relative to the folder, ``split`` defaults to ``train``. Frames are resampled to the
config's fps (by timestamps) and stretched to its ``(height, width)``; audio is mixed to mono and
resampled to its rate. Clips longer than ``max_duration_s`` are trimmed (the annotation says so).

A clip that cannot be used (missing, empty, not a video, truncated or corrupt, no video stream, no
audio stream when audio is required) is skipped and listed with its reason in ``bad_clips.json``,
written beside the records in ``<data_dir>/video_folder/<config>/<version>/``: one bad file never
stops the build, and a split none of whose clips can be used is left out (its clips are listed).
Problems with the CSV itself (missing columns, a row without a file, two files with the same stem,
a bad split name) stop it with an error naming the CSV.

Built data sets remember a fingerprint of the folder (``source.json``: the CSV and each clip's size
and modification time); ``build_video_folder`` rebuilds when the folder changed since.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
from pathlib import Path

import av
import numpy as np
import tensorflow_datasets as tfds
from tqdm import tqdm

from v2a_jax.data import features
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import fit_length
from v2a_jax.io.container import VideoReadError
from v2a_jax.io.video import probe_video, read_video

CAPTIONS_FILE = "captions.csv"
REQUIRED_COLUMNS = ("file", "caption")
OPTIONAL_COLUMNS = ("negative_prompt", "transcript", "split")
BAD_CLIPS_FILE = "bad_clips.json"
SOURCE_FILE = "source.json"
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # what TFDS accepts in split and file names


@dataclasses.dataclass(frozen=True)
class CaptionRow:
    """One row of ``captions.csv``."""

    file: str
    caption: str
    negative_prompt: str = ""
    transcript: str = ""
    split: str = "train"

    @property
    def clip_id(self) -> str:
        return Path(self.file).stem


@dataclasses.dataclass
class VideoFolderConfig(tfds.core.BuilderConfig):
    """Where the clips are and what records to make of them.

    Attributes:
        source_dir: the folder with the clips and ``captions.csv``.
        fps: frame rate of the records.
        height: frame height of the records.
        width: frame width of the records.
        sample_rate: audio rate of the records (mono).
        require_audio: skip clips without an audio stream; else they get silence.
        max_duration_s: trim longer clips to this (None: keep everything).
    """

    source_dir: str = ""
    fps: float = 25.0
    height: int = 64
    width: int = 64
    sample_rate: int = 16000
    require_audio: bool = True
    max_duration_s: float | None = 30.0


def read_captions(source_dir: str | Path) -> list[CaptionRow]:
    """The rows of ``<source_dir>/captions.csv``, checked.

    Column names are matched without regard to case or surrounding spaces; a byte-order mark (as
    spreadsheet programs write) is ignored.

    Raises:
        FileNotFoundError: no ``captions.csv``.
        ValueError: missing columns, no rows, a row without a file, two files sharing a stem
            (the clip id), or a split name TFDS cannot use; the message names the CSV.
    """
    path = Path(source_dir) / CAPTIONS_FILE
    expected = f"{','.join(REQUIRED_COLUMNS)}[,{'][,'.join(OPTIONAL_COLUMNS)}]"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (expected a CSV with columns {expected})")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)}; expected columns {expected}, "
                f"found {','.join(header) or 'nothing'}"
            )
        known = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in header]
        rows = []
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            cells = {
                c: values[header.index(c)].strip() for c in known if header.index(c) < len(values)
            }
            if not cells.get("file"):
                raise ValueError(f"{path}, line {line}: no file named")
            split = cells.get("split") or "train"
            if not _SPLIT_NAME.match(split):
                raise ValueError(f"{path}, line {line}: split {split!r} must be letters, digits, _")
            rows.append(CaptionRow(**{**cells, "split": split}))
    if not rows:
        raise ValueError(f"{path}: no clips listed (expected one row per clip: {expected})")
    by_id: dict[str, list[str]] = {}
    for row in rows:
        by_id.setdefault(row.clip_id, []).append(row.file)
    repeated = {k: v for k, v in by_id.items() if len(v) > 1}
    if repeated:
        raise ValueError(f"{path}: clip ids (file stems) must be unique; repeated: {repeated}")
    return rows


def source_fingerprint(source_dir: str | Path, rows: list[CaptionRow]) -> str:
    """A hash of the CSV and of each listed clip's size and modification time."""
    source = Path(source_dir)
    digest = hashlib.sha256((source / CAPTIONS_FILE).read_bytes())
    for row in rows:
        path = source / row.file
        stat = path.stat() if path.is_file() else None
        digest.update(f"{row.file}:{stat and (stat.st_size, stat.st_mtime_ns)}\n".encode())
    return digest.hexdigest()[:16]


class VideoFolder(tfds.core.GeneratorBasedBuilder):
    """A folder of the user's clips with captions; construct it with a ``VideoFolderConfig``."""

    name = "video_folder"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS: list[VideoFolderConfig] = []

    def _info(self) -> tfds.core.DatasetInfo:
        cfg: VideoFolderConfig = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=features.clip_features(cfg.height, cfg.width),
            disable_shuffling=True,  # records in CSV order: reproducible indices
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        cfg: VideoFolderConfig = self.builder_config
        rows = read_captions(cfg.source_dir)
        self._fingerprint = source_fingerprint(cfg.source_dir, rows)
        self._bad: list[dict[str, str]] = []
        # One bar over every clip of every split; TFDS runs the split generators one by one.
        self._progress = tqdm(total=len(rows), desc="video_folder clips", unit="clip")
        by_split: dict[str, list[CaptionRow]] = {}
        for row in rows:
            by_split.setdefault(row.split, []).append(row)
        generators = {}
        for split, split_rows in by_split.items():
            usable = self._from_first_decodable(split_rows)
            if usable:  # a split none of whose clips decodes is left out (and reported)
                generators[split] = self._generate_examples(usable)
        if not generators:
            self._progress.close()
            reasons = "; ".join(b["reason"] for b in self._bad[:5])
            raise ValueError(
                f"{cfg.source_dir}: none of the {len(rows)} clips can be read ({reasons})"
            )
        return generators

    def _from_first_decodable(self, rows: list[CaptionRow]) -> list[CaptionRow]:
        """``rows`` from the first clip that decodes on; the ones before it are reported.

        TFDS cannot write a split without records, so each split's first good clip is found
        before its generator starts (that one clip is decoded twice).
        """
        for i, row in enumerate(rows):
            if self._try_example(row) is not None:
                return rows[i:]
        return []

    def _try_example(self, row: CaptionRow) -> dict | None:
        """The record of ``row``, or None after reporting why it cannot be made."""
        cfg: VideoFolderConfig = self.builder_config
        try:
            return self._example(row)
        except (ValueError, av.error.FFmpegError) as err:  # VideoReadError is a ValueError
            reason = str(err)
            if not isinstance(err, VideoReadError):  # FFmpeg failing outside decoding
                reason = f"{Path(cfg.source_dir) / row.file}: {type(err).__name__}: {err}"
            self._bad.append({"file": row.file, "split": row.split, "reason": reason})
            self._progress.update(1)
            return None

    def _generate_examples(self, rows: list[CaptionRow]):
        for row in rows:
            example = self._try_example(row)
            if example is not None:
                self._progress.update(1)
                yield row.clip_id, example
        self._write_reports()
        if self._progress.n >= self._progress.total:
            self._progress.close()

    def _example(self, row: CaptionRow) -> dict:
        cfg: VideoFolderConfig = self.builder_config
        path = Path(cfg.source_dir) / row.file
        clip = read_video(
            path,
            fps=cfg.fps,
            size=(cfg.height, cfg.width),
            sample_rate=cfg.sample_rate,
            need_audio=cfg.require_audio,
            max_duration_s=cfg.max_duration_s,
        )
        info = probe_video(path)
        # Records cover whole frames: F frames and exactly F / fps seconds of audio, so frames
        # and samples line up to the end (the source's duration may end inside a frame).
        duration_s = len(clip.frames) / cfg.fps
        num_samples = round(duration_s * cfg.sample_rate)
        if clip.audio is None:  # only when audio is not required: silence
            audio_s = np.zeros(num_samples, np.float32)
        else:
            audio_s = fit_length(clip.audio, num_samples)
        trimmed = cfg.max_duration_s is not None and info.duration_s > cfg.max_duration_s
        annotation = {
            "file": row.file,
            "transcript": row.transcript,
            "duration_s": duration_s,
            "trimmed": trimmed,
            "source_duration_s": info.duration_s,
            "source_fps": info.fps,
            "source_width": info.width,
            "source_height": info.height,
            "source_num_frames": info.num_frames,
            "source_codec": info.codec,
            "source_rotation": info.rotation,
            "source_sample_rate": info.audio_sample_rate,
            "had_audio": clip.audio is not None,
        }
        if trimmed:
            annotation["note"] = (
                f"trimmed to the first {cfg.max_duration_s:g} s of {info.duration_s:.3f} s"
            )
        return {
            "clip_id": row.clip_id,
            "frames": clip.frames,
            "fps": cfg.fps,
            "audio": audio_s,
            "sample_rate": cfg.sample_rate,
            "caption": row.caption,
            "negative_prompt": row.negative_prompt,
            "annotation": json.dumps(annotation),
        }

    def _write_reports(self) -> None:
        # During download_and_prepare, data_path is TFDS's temporary folder, renamed onto the
        # final one on success: the reports appear together with the records.
        folder = Path(self.data_path)
        with atomic_path(folder / BAD_CLIPS_FILE) as tmp:
            tmp.write_text(json.dumps(sorted(self._bad, key=lambda b: b["file"]), indent=1))
        cfg: VideoFolderConfig = self.builder_config
        source = {"source_dir": cfg.source_dir, "fingerprint": self._fingerprint}
        with atomic_path(folder / SOURCE_FILE) as tmp:
            tmp.write_text(json.dumps(source, indent=1))


def make_config(
    source_dir: str | Path,
    fps: float = 25.0,
    height: int = 64,
    width: int = 64,
    sample_rate: int = 16000,
    require_audio: bool = True,
    max_duration_s: float | None = 30.0,
) -> VideoFolderConfig:
    """A config whose name says its parameters and hashes all of them with the folder's path.

    Different folders or settings so land in different folders under ``<data_dir>/video_folder/``
    and never reuse each other's records.
    """
    checks = {"fps": fps, "height": height, "width": width, "sample_rate": sample_rate}
    if max_duration_s is not None:
        checks["max_duration_s"] = max_duration_s
    for what, value in checks.items():
        if value <= 0:
            raise ValueError(f"{what} must be positive, got {value}")
    source = Path(source_dir).resolve()
    params = {
        "fps": float(fps),
        "height": int(height),
        "width": int(width),
        "sample_rate": int(sample_rate),
        "require_audio": bool(require_audio),
        "max_duration_s": max_duration_s,
    }
    blob = json.dumps({"source_dir": str(source), **params}, sort_keys=True).encode()
    digest = hashlib.sha1(blob).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", source.name).strip("-")[:40] or "clips"
    rate = f"{fps:g}".replace(".", "p")
    name = f"{slug}_{height}x{width}_{rate}fps_{sample_rate}hz_{digest}"
    return VideoFolderConfig(name=name, source_dir=str(source), **params)


def build_video_folder(
    source_dir: str | Path,
    data_dir: str | Path,
    fps: float = 25.0,
    height: int = 64,
    width: int = 64,
    sample_rate: int = 16000,
    require_audio: bool = True,
    max_duration_s: float | None = 30.0,
) -> tuple[VideoFolder, Path]:
    """Builds (or reuses, when the folder has not changed) the data set of a folder of clips.

    Shows a progress bar over the clips while it builds.

    Returns:
        ``(builder, report_path)``: the builder is ready for ``builder.as_data_source(split)``;
        ``report_path`` is ``bad_clips.json``, a list of ``{"file", "split", "reason"}``.

    Raises:
        FileNotFoundError, ValueError: no usable ``captions.csv`` (see ``read_captions``), or no
            clip at all can be read.
    """
    config = make_config(source_dir, fps, height, width, sample_rate, require_audio, max_duration_s)
    rows = read_captions(config.source_dir)  # fail early, before TFDS makes any folder
    builder = VideoFolder(data_dir=str(data_dir), config=config, file_format="array_record")
    folder = Path(builder.data_path)
    mode = tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS
    if folder.exists():
        stored = folder / SOURCE_FILE
        old = json.loads(stored.read_text()).get("fingerprint") if stored.is_file() else None
        if old != source_fingerprint(config.source_dir, rows):
            mode = tfds.download.GenerateMode.FORCE_REDOWNLOAD  # the folder changed: rebuild
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(download_mode=mode))
    return builder, Path(builder.data_path) / BAD_CLIPS_FILE
