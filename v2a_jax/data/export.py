"""Exporting ground truth for evaluation: ``<clip_id>.wav`` and ``<clip_id>.json`` per clip."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from v2a_jax.data.loaders import open_split
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import write_wav


def export_audio(
    data_dir: str | Path, split: str, out_dir: str | Path, name: str | None = None
) -> list[str]:
    """Writes every clip's ground-truth audio and annotation into ``out_dir``.

    The JSON holds the clip's annotation plus ``caption`` and ``negative_prompt``, which is what
    ``v2a eval`` reads beside the wav. Returns the clip ids written.
    """
    source = open_split(data_dir, split, name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = []
    for clip in tqdm(source, total=len(source), desc=f"export {split}", unit="clip"):
        clip_id = clip["clip_id"]
        write_wav(out / f"{clip_id}.wav", clip["audio"], clip["sample_rate"])
        meta = dict(clip["annotation"])
        meta.update(caption=clip["caption"], negative_prompt=clip["negative_prompt"])
        with atomic_path(out / f"{clip_id}.json") as tmp:
            Path(tmp).write_text(json.dumps(meta, indent=1))
        ids.append(clip_id)
    return ids
