"""Position encodings: rotary embeddings (RoPE) for self-attention, sinusoids for memories.

Legend: B batch, T positions, H heads, K head width (even).
"""

from __future__ import annotations

import jax.numpy as jnp


def _inverse_frequencies(dim: int, max_wavelength: float) -> jnp.ndarray:
    if dim % 2:
        raise ValueError(f"rotary / sinusoidal width must be even, got {dim}")
    return 1.0 / (max_wavelength ** (jnp.arange(0, dim, 2, dtype=jnp.float32) / dim))


def apply_rope(
    x_bthk: jnp.ndarray, positions_bt: jnp.ndarray, max_wavelength: float = 10_000.0
) -> jnp.ndarray:
    """Rotates feature pairs (first half, second half) of ``x_bthk`` by position-dependent angles.

    Args:
        x_bthk: queries or keys [B, T, H, K].
        positions_bt: absolute positions, int or float [B, T] (or [T], broadcast over B).
        max_wavelength: longest wavelength of the rotation frequencies.

    Returns:
        Array like ``x_bthk``; the dot product of two rotated vectors depends only on their
        position difference, which is what makes the cached and the full pass agree.
    """
    k = x_bthk.shape[-1]
    inv_freq = _inverse_frequencies(k, max_wavelength)  # [K/2]
    pos = jnp.asarray(positions_bt, jnp.float32)
    if pos.ndim == 1:
        pos = pos[None]
    angles = pos[:, :, None, None] * inv_freq  # [B, T, 1, K/2]
    sin, cos = jnp.sin(angles), jnp.cos(angles)
    x32 = x_bthk.astype(jnp.float32)
    first, second = jnp.split(x32, 2, axis=-1)
    out = jnp.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)
    return out.astype(x_bthk.dtype)


def sinusoidal_embedding(
    positions: jnp.ndarray, dim: int, max_wavelength: float = 10_000.0
) -> jnp.ndarray:
    """Transformer sinusoids ``[sin, cos]`` of float ``positions`` [...] -> float32 [..., dim]."""
    angles = jnp.asarray(positions, jnp.float32)[..., None] * _inverse_frequencies(
        dim, max_wavelength
    )
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)
