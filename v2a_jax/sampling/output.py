"""``GenerationOutput``: what one ``generate`` call returns, and how it is written to disk.

Legend: N samples (variations), S audio samples, T codec frames, K codebooks, F video frames.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from v2a_jax.io.atomic import atomic_path

MANIFEST = "manifest.json"


@dataclasses.dataclass
class GenerationOutput:
    """N soundtracks for one video.

    Attributes:
        waveforms: float32 ``[N, S]``, ``S = round(duration_s * sample_rate)`` exactly.
        sample_rate: Hz.
        tokens: int32 ``[N, T, K]`` codec tokens (the delay pattern already reverted).
        seeds: N ints; sample ``i`` is reproduced by ``generate(..., seed=seeds[i],
            num_samples=1)`` with the same settings.
        prompt: the positive prompt ("" for none).
        negative_prompt: the negative prompt ("" for none).
        duration_s: the video's duration (the audio's).
        timings: seconds per stage (``"encode"``, ``"sample"``, ``"decode"``, ``"total"``, ...).
        settings: the rest of the request (guidance, method, refine, model) for the manifest.
        video_path: the source video file, when there was one (mp4s are muxed onto it).
        frames: uint8 ``[F, H, W, 3]`` to write the mp4s from when there is no source file.
        fps: frame rate of ``frames``.
        refined_latent: float32 ``[N, T, D]`` the refiner's output, when it ran.
    """

    waveforms: np.ndarray
    sample_rate: int
    tokens: np.ndarray
    seeds: list[int]
    prompt: str = ""
    negative_prompt: str = ""
    duration_s: float = 0.0
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    video_path: str | None = None
    frames: np.ndarray | None = dataclasses.field(default=None, repr=False)
    fps: float | None = None
    refined_latent: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def num_samples(self) -> int:
        return int(self.waveforms.shape[0])

    def manifest(self, files: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """The JSON-able record of this output (``files``: per-sample paths, when saved)."""
        samples = []
        for i, seed in enumerate(self.seeds):
            entry: dict[str, Any] = {"index": i, "seed": int(seed)}
            if files is not None:
                entry.update(files[i])
            samples.append(entry)
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seeds": [int(s) for s in self.seeds],
            "sample_rate": int(self.sample_rate),
            "duration_s": float(self.duration_s),
            "num_audio_samples": int(self.waveforms.shape[-1]),
            "tokens_shape": list(self.tokens.shape),
            "source_video": self.video_path,
            "settings": self.settings,
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
            "samples": samples,
        }

    def save(self, out_dir: str | Path, stem: str = "sample", video: bool = True) -> Path:
        """Writes ``{stem}_{i}.wav``, ``{stem}_{i}.mp4`` (the source video with sample ``i`` as
        its soundtrack) and ``manifest.json`` under ``out_dir``.

        Every file is written atomically; if any write fails, the files this call already
        wrote are removed, so a failed save leaves no partial output behind.

        Args:
            out_dir: created if missing.
            stem: file name prefix.
            video: write the mp4s (needs ``video_path`` or ``frames`` + ``fps``).

        Returns:
            The manifest's path.
        """
        from v2a_jax.io.audio import write_wav
        from v2a_jax.io.video import mux_audio, write_video

        if video and self.video_path is None and (self.frames is None or self.fps is None):
            raise ValueError("cannot write mp4s: no source video path and no frames + fps")
        out = Path(out_dir)
        made_dir = not out.exists()
        written: list[Path] = []
        files: list[dict[str, str]] = []
        try:
            for i in range(self.num_samples):
                wav = out / f"{stem}_{i}.wav"
                write_wav(wav, self.waveforms[i], self.sample_rate)
                written.append(wav)
                entry = {"wav": wav.name}
                if video:
                    mp4 = out / f"{stem}_{i}.mp4"
                    if self.video_path is not None:
                        mux_audio(self.video_path, self.waveforms[i], self.sample_rate, mp4)
                    else:
                        write_video(mp4, self.frames, self.fps, self.waveforms[i], self.sample_rate)
                    written.append(mp4)
                    entry["mp4"] = mp4.name
                files.append(entry)
            manifest = out / MANIFEST
            with atomic_path(manifest) as tmp:
                tmp.write_text(json.dumps(self.manifest(files), indent=2) + "\n")
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            if made_dir and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
            raise
        return manifest
