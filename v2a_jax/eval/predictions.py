"""Reading a predictions folder: ``<clip_id>.wav`` or ``<clip_id>/<sample>.wav``, optional
``manifest.json`` (as ``v2a generate-split`` writes it: ``clips.<clip_id>.negative_prompt``, or a
top-level ``negative_layer``).

Every problem with a clip's files is recorded, and the clip is still scored, so a broken or
missing output lowers the scores instead of vanishing from them:

- missing (no file), unreadable, non_finite: scored as silence of the reference length;
- wrong_rate: resampled to the reference rate; wrong_length: padded or trimmed to it;
- silent (peak below 1e-4): scored as it is.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from v2a_jax.io.audio import fit_length, read_wav, resample

SILENCE_PEAK = 1e-4


@dataclasses.dataclass
class Problem:
    clip_id: str
    kind: str  # missing | unreadable | non_finite | wrong_rate | wrong_length | silent
    detail: str
    sample: str | None = None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def read_manifest(pred_dir: str | Path) -> dict:
    """The folder's ``manifest.json`` as a dict ({} when there is none)."""
    path = Path(pred_dir) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def negative_prompt_of(manifest: dict, clip_id: str) -> str:
    """The negative prompt a clip was generated with, per the manifest ("" when unknown)."""
    entry = manifest.get("clips", {}).get(clip_id, {})
    if entry.get("negative_prompt"):
        return str(entry["negative_prompt"])
    if manifest.get("negative_layer"):
        return str(manifest["negative_layer"])
    return str(manifest.get("negative_prompt") or "")


def sample_files(pred_dir: Path, clip_id: str) -> list[Path]:
    """The clip's wav files: ``<clip_id>.wav`` and/or ``<clip_id>/*.wav`` (sorted by name)."""
    files = []
    single = pred_dir / f"{clip_id}.wav"
    if single.is_file():
        files.append(single)
    folder = pred_dir / clip_id
    if folder.is_dir():
        files += sorted(folder.glob("*.wav"), key=lambda p: (len(p.stem), p.stem))
    return files


def load_samples(
    pred_dir: str | Path, clip_id: str, sr: int, num_samples: int
) -> tuple[list[np.ndarray], list[Problem]]:
    """Waveforms of one clip, each float32 [num_samples] at ``sr``, and the problems found."""
    pred = Path(pred_dir)
    files = sample_files(pred, clip_id)
    if not files:
        want = f"{pred / clip_id}.wav or {pred / clip_id}/*.wav"
        return [np.zeros(num_samples, np.float32)], [Problem(clip_id, "missing", f"no {want}")]
    waves, problems = [], []
    for path in files:
        name = str(path.relative_to(pred))
        try:
            wave, rate = read_wav(path)
        except (ValueError, FileNotFoundError) as err:
            problems.append(Problem(clip_id, "unreadable", str(err), name))
            waves.append(np.zeros(num_samples, np.float32))
            continue
        if not np.all(np.isfinite(wave)):
            problems.append(Problem(clip_id, "non_finite", "NaN or inf samples", name))
            waves.append(np.zeros(num_samples, np.float32))
            continue
        if rate != sr:
            problems.append(Problem(clip_id, "wrong_rate", f"{rate} Hz, expected {sr} Hz", name))
            wave = resample(wave, rate, sr)
        if len(wave) != num_samples:
            detail = f"{len(wave)} samples, expected {num_samples}"
            problems.append(Problem(clip_id, "wrong_length", detail, name))
            wave = fit_length(wave, num_samples)
        if float(np.abs(wave).max(initial=0.0)) < SILENCE_PEAK:
            problems.append(Problem(clip_id, "silent", f"peak below {SILENCE_PEAK}", name))
        waves.append(np.asarray(wave, np.float32))
    return waves, problems
