"""Refiner evaluation from ground-truth tokens: mel distance of each decoding to the real audio.

Legend: B batch, T token frames, K codebooks, D latent dim, S samples.

For every clip the same ground-truth tokens are decoded four ways: ``coarse`` (``z_q`` of the
refiner's k codebooks, what AR-only decoding of k codebooks gives), ``refined`` (the refiner's
latent from that ``z_q``), ``all_codebooks`` (``z_q`` of all K, for reference) and ``latent`` (the
unquantized latent: the codec's ceiling). A refiner is useful when ``refined`` beats ``coarse``.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from v2a_jax.diffusion.metrics import multiscale_mel_distance
from v2a_jax.diffusion.refine import refine_jit
from v2a_jax.io.audio import fit_length, resample

VARIANTS = ("coarse", "refined", "all_codebooks", "latent")


def refine_tokens(
    refiner, tokens_btk, rng, num_steps: int, noise_scale: float = 1.0, method: str | None = None
):
    """``(z_q_btd, z_btd, seconds)``: dequantize in JAX, refine, and the refine wall time."""
    z_q_btd = refiner.dequantize(jnp.asarray(tokens_btk))
    start = time.perf_counter()
    z_btd = refine_jit(
        refiner, z_q_btd, rng, num_steps=num_steps, method=method, noise_scale=noise_scale
    )
    z_btd = np.array(jax.block_until_ready(z_btd))
    return np.array(z_q_btd), z_btd, time.perf_counter() - start


def evaluate_gt_tokens(
    refiner,
    codec,
    clips,
    num_steps: int = 8,
    seed: int = 0,
    batch_size: int = 8,
    noise_scale: float = 1.0,
    method: str | None = None,
) -> dict:
    """Mean multi-scale mel distance to the clips' audio of each decoding in ``VARIANTS``.

    Args:
        refiner: a trained ``Refiner`` of the codec's latent.
        codec: the ``Codec`` the tokens came from (decodes latents).
        clips: a sequence of tokenized records (``tokens``, ``latent``, ``audio``,
            ``sample_rate``, ``clip_id``), all of one length.
        num_steps: ODE steps.
        seed: batch ``i`` is refined with ``fold_in(key(seed), i)``.
        batch_size: clips refined and decoded together.
        noise_scale: see ``refine``.
        method: ``euler`` or ``heun`` (default: the refiner config's).

    Returns:
        ``num_clips``, ``mel_distance`` ({variant: mean}), ``mel_distance_std``,
        ``refined_better_fraction``, ``refine_s_per_audio_s``, ``decode_s_per_audio_s`` (batch 0,
        which compiles, left out; None with one batch) and ``per_clip`` rows.
    """
    rows, refine_s, decode_s, audio_s = [], 0.0, 0.0, 0.0
    base = jax.random.key(seed)
    for b, start in enumerate(range(0, len(clips), batch_size)):
        batch = [clips[i] for i in range(start, min(start + batch_size, len(clips)))]
        tokens_btk = np.stack([c["tokens"] for c in batch]).astype(np.int32)
        z_q, z, seconds = refine_tokens(
            refiner, tokens_btk, jax.random.fold_in(base, b), num_steps, noise_scale, method
        )
        if b > 0:  # batch 0 includes compilation
            refine_s += seconds
        latents = {
            "coarse": z_q,
            "refined": z,
            "all_codebooks": codec.dequantize(tokens_btk),
            "latent": np.stack([c["latent"] for c in batch]).astype(np.float32),
        }
        waves = {}
        for name, z_btd in latents.items():
            t0 = time.perf_counter()
            waves[name] = codec.decode_latent(z_btd)
            if name == "refined":
                decode_s += time.perf_counter() - t0
        for i, clip in enumerate(batch):
            target = resample(np.asarray(clip["audio"], np.float32), clip["sample_rate"],
                              codec.sample_rate)  # fmt: skip
            if b > 0:
                audio_s += len(target) / codec.sample_rate
            row = {"clip_id": clip["clip_id"]}
            for name in VARIANTS:
                pred = fit_length(waves[name][i], len(target))
                row[name] = multiscale_mel_distance(pred, target, codec.sample_rate)
            rows.append(row)
    table = {name: np.array([r[name] for r in rows]) for name in VARIANTS}
    return {
        "num_clips": len(rows),
        "num_steps": num_steps,
        "noise_scale": noise_scale,
        "method": method or refiner.cfg.method,
        "coarse_codebooks": refiner.cfg.coarse_codebooks,
        "mel_distance": {k: float(v.mean()) for k, v in table.items()},
        "mel_distance_std": {k: float(v.std()) for k, v in table.items()},
        "refined_better_fraction": float(np.mean(table["refined"] < table["coarse"])),
        "refine_s_per_audio_s": refine_s / audio_s if audio_s else None,
        "decode_s_per_audio_s": decode_s / audio_s if audio_s else None,
        "per_clip": rows,
    }
