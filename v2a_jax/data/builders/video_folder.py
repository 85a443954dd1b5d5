"""The ``video_folder`` TFDS builder: a user's clips plus ``captions.csv``, as clip records.

The folder holds video files (mp4, webm, mov, mkv; any frame rate, size and audio rate) and a
``captions.csv`` with columns ``file,caption[,negative_prompt][,transcript][,split]`` (split
defaults to ``train``). Frames are resampled to the config's fps and size, audio to its rate (mono).
A clip that cannot be decoded is skipped and listed with its reason in ``bad_clips.json`` beside
the data set: one bad file never stops the build.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from tqdm import tqdm

from v2a_jax.data import features
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.video import VideoReadError, read_video

REQUIRED_COLUMNS = ("file", "caption")
OPTIONAL_COLUMNS = ("negative_prompt", "transcript", "split")
BAD_CLIPS_FILE = "bad_clips.json"


@dataclasses.dataclass
class VideoFolderConfig(tfds.core.BuilderConfig):
    source_dir: str = ""
    fps: float = 25.0
    height: int = 64
    width: int = 64
    sample_rate: int = 16000
    require_audio: bool = True
    max_duration_s: float = 30.0


def read_captions(source_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``captions.csv``; raises ValueError naming the file and the columns expected."""
    path = Path(source_dir) / "captions.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not found (expected columns {', '.join(REQUIRED_COLUMNS)})"
        )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path}: missing columns {missing}; expected file,caption"
                f"[,{'][,'.join(OPTIONAL_COLUMNS)}], got {reader.fieldnames}"
            )
        rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    stems = [Path(r["file"]).stem for r in rows]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ValueError(f"{path}: clip ids must be unique, but file stems repeat: {dupes}")
    return rows


class VideoFolder(tfds.core.GeneratorBasedBuilder):
    """A folder of the user's clips with captions."""

    name = "video_folder"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS: list[VideoFolderConfig] = []

    def _info(self) -> tfds.core.DatasetInfo:
        cfg: VideoFolderConfig = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=features.clip_features(cfg.height, cfg.width),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        rows = read_captions(self.builder_config.source_dir)
        self.bad_clips: list[dict[str, str]] = []
        by_split: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            by_split.setdefault(row.get("split") or "train", []).append(row)
        return {
            split: self._generate_examples(split_rows) for split, split_rows in by_split.items()
        }

    def _generate_examples(self, rows):
        cfg: VideoFolderConfig = self.builder_config
        for row in tqdm(rows, desc="clips", unit="clip", leave=False):
            path = Path(cfg.source_dir) / row["file"]
            try:
                clip = read_video(
                    path,
                    fps=cfg.fps,
                    size=(cfg.height, cfg.width),
                    sample_rate=cfg.sample_rate,
                    need_audio=cfg.require_audio,
                )
            except VideoReadError as err:
                self.bad_clips.append({"file": row["file"], "reason": str(err)})
                continue
            num_frames = min(len(clip.frames), round(cfg.max_duration_s * cfg.fps))
            duration = num_frames / cfg.fps
            num_samples = round(duration * cfg.sample_rate)
            audio = clip.audio if clip.audio is not None else np.zeros(num_samples, np.float32)
            annotation = {
                "clip_id": path.stem,
                "file": row["file"],
                "source_duration_s": clip.duration_s,
                "duration_s": duration,
                "trimmed": num_frames < len(clip.frames),
                "had_audio": clip.audio is not None,
                "transcript": row.get("transcript", ""),
                "fps": cfg.fps,
                "sample_rate": cfg.sample_rate,
            }
            yield (
                path.stem,
                {
                    "clip_id": path.stem,
                    "frames": clip.frames[:num_frames],
                    "fps": cfg.fps,
                    "audio": np.asarray(audio[:num_samples], np.float32),
                    "sample_rate": cfg.sample_rate,
                    "caption": row["caption"],
                    "negative_prompt": row.get("negative_prompt", ""),
                    "annotation": json.dumps(annotation),
                },
            )
        report = Path(self.data_path) / BAD_CLIPS_FILE
        with atomic_path(report) as tmp:
            Path(tmp).write_text(json.dumps(self.bad_clips, indent=1))


def build_video_folder(
    source_dir: str | Path,
    data_dir: str | Path,
    fps: float = 25.0,
    height: int = 64,
    width: int = 64,
    sample_rate: int = 16000,
    require_audio: bool = True,
) -> tuple[tfds.core.DatasetBuilder, Path]:
    """Builds the data set; returns the builder and the path of the bad-clips report.

    The config name carries the parameters and a hash of the source folder's path, so different
    folders or settings never reuse each other's records.
    """
    source = Path(source_dir).resolve()
    read_captions(source)  # fail early, before TFDS creates folders
    digest = hashlib.sha1(str(source).encode()).hexdigest()[:8]
    name = f"{source.name}-{digest}_{height}x{width}_{fps:g}fps_{sample_rate}hz".replace(".", "p")
    config = VideoFolderConfig(
        name=name,
        source_dir=str(source),
        fps=fps,
        height=height,
        width=width,
        sample_rate=sample_rate,
        require_audio=require_audio,
    )
    builder = VideoFolder(data_dir=str(data_dir), config=config, file_format="array_record")
    builder.download_and_prepare()
    report = Path(builder.data_dir) / BAD_CLIPS_FILE
    return builder, report
