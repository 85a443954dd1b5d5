"""Codec round trips of a data set's clips, written in the layout ``v2a eval`` reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from v2a_jax.data.loaders import open_split
from v2a_jax.io.audio import fit_length, resample, write_wav

THROUGH = ("tokens", "latent")


def reconstruct_split(
    data_dir: str | Path,
    split: str,
    codec,
    out_dir: str | Path,
    name: str | None = None,
    batch_size: int = 8,
    through: str = "tokens",
) -> list[str]:
    """Encodes and decodes every clip of ``split``; writes ``<out_dir>/<clip_id>.wav``.

    Clips are resampled to the codec's rate and back, and the output is trimmed or padded to the
    clip's exact length (decoding gives whole codec frames). ``through="tokens"`` decodes the
    tokens (the codec a model sees); ``through="latent"`` decodes the continuous pre-quantization
    latent ``[B, T, D]`` instead, so that comparing the two separates what the quantizer loses
    from what the encoder and decoder lose. Returns the clip ids written.
    """
    if through not in THROUGH:
        raise ValueError(f"through={through!r}: expected one of {THROUGH}")
    source = open_split(data_dir, split, name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    for start in tqdm(range(0, len(source), batch_size), desc=f"reconstruct {split}", unit="batch"):
        clips = [source[i] for i in range(start, min(start + batch_size, len(source)))]
        waves = [resample(c["audio"], c["sample_rate"], codec.sample_rate) for c in clips]
        longest = max(len(w) for w in waves)
        batch_bs = np.stack([fit_length(w, longest) for w in waves])
        if through == "tokens":
            decoded_bs = codec.decode(codec.encode(batch_bs, sample_rate=codec.sample_rate))
        else:
            decoded_bs = codec.decode_latent(codec.encode_latent(batch_bs, codec.sample_rate))
        for clip, wave, decoded in zip(clips, waves, decoded_bs, strict=True):
            restored = resample(
                fit_length(decoded, len(wave)), codec.sample_rate, clip["sample_rate"]
            )
            write_wav(out / f"{clip['clip_id']}.wav", fit_length(restored, len(clip["audio"])),
                      clip["sample_rate"])  # fmt: skip
            ids.append(clip["clip_id"])
    return ids
