"""Delay interleaving of K codebook streams (MusicGen's delay pattern), as pure functions.

Codebook k is shifted right by k steps, so one AR step predicts K tokens (one per codebook) and a
clip of T frames takes T + K - 1 steps instead of T * K. Positions that fall outside the clip are
filled with ``pad_id`` (by convention the codebook size: one extra vocabulary entry).

Legend: B batch, T codec frames, K codebooks, S = T + K - 1 interleaved steps.

    tokens_btk[b, t, k]  ->  seq_bsk[b, t + k, k]
"""

from __future__ import annotations

import jax.numpy as jnp


def num_steps(num_frames: int, num_codebooks: int) -> int:
    """Interleaved length S of T frames over K codebooks."""
    return num_frames + num_codebooks - 1


def valid_mask(num_frames: int, num_codebooks: int) -> jnp.ndarray:
    """bool [S, K]: True where the interleaved sequence holds a real token."""
    s = jnp.arange(num_steps(num_frames, num_codebooks))[:, None]
    k = jnp.arange(num_codebooks)[None, :]
    return (s >= k) & (s - k < num_frames)


def build_delay(tokens_btk: jnp.ndarray, pad_id: int) -> jnp.ndarray:
    """Interleaves ``tokens_btk`` int [B, T, K] into ``seq_bsk`` int [B, T + K - 1, K]."""
    b, t, k = tokens_btk.shape
    s = num_steps(t, k)
    steps = jnp.arange(s)[:, None] - jnp.arange(k)[None, :]  # [S, K]: source frame of each slot
    gathered = jnp.take_along_axis(
        tokens_btk, jnp.clip(steps, 0, t - 1)[None].repeat(b, axis=0), axis=1
    )
    return jnp.where(valid_mask(t, k)[None], gathered, jnp.asarray(pad_id, tokens_btk.dtype))


def revert_delay(seq_bsk: jnp.ndarray, num_frames: int | None = None) -> jnp.ndarray:
    """Inverse of ``build_delay``: int [B, S, K] -> ``tokens_btk`` int [B, T, K], T = S - K + 1."""
    b, s, k = seq_bsk.shape
    t = s - k + 1 if num_frames is None else num_frames
    if t < 1 or t + k - 1 > s:
        raise ValueError(f"cannot revert {s} interleaved steps of {k} codebooks into {t} frames")
    frames = jnp.arange(t)[:, None] + jnp.arange(k)[None, :]  # [T, K]: slot of each frame token
    return jnp.take_along_axis(seq_bsk, frames[None].repeat(b, axis=0), axis=1)
