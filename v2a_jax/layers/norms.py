"""RMSNorm (Zhang & Sennrich 2019): scale by the root mean square, no centering, no bias.

Legend: ... any leading axes, D feature width.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from v2a_jax.layers.params import param


class RMSNorm(nnx.Module):
    """Root-mean-square normalisation over the last axis with a learned per-feature scale.

    Args:
        dim: feature width D.
        eps: added to the mean square before the reciprocal square root.
        names: logical axis name of the scale.
        param_dtype: dtype of the scale.
        rngs: random streams (the scale is initialised to ones; kept for a uniform signature).
    """

    def __init__(
        self,
        dim: int,
        *,
        eps: float = 1e-6,
        names: tuple[str | None] = ("embed",),
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.eps = eps
        self.scale = param(rngs, lambda k, s, d: jnp.ones(s, d), (dim,), names, param_dtype)

    def __call__(self, x_d: jnp.ndarray) -> jnp.ndarray:
        """Normalises ``x_d`` [..., D] in float32 (bf16 mean squares drift); same dtype out."""
        x32 = x_d.astype(jnp.float32)
        inv = jnp.reciprocal(jnp.sqrt(jnp.mean(jnp.square(x32), axis=-1, keepdims=True) + self.eps))
        return (x32 * inv * self.scale[...].astype(jnp.float32)).astype(x_d.dtype)
