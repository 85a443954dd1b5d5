"""Gated feed-forward block (GeGLU, Shazeer 2020): ``wo(gelu(x wg) * (x wu))``.

Legend: B batch, T positions, D model width, M hidden width.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.layers.dot import einsum
from v2a_jax.layers.params import dense_init, param


class GatedMLP(nnx.Module):
    """GELU-gated MLP.

    Args:
        dim: model width D.
        hidden_dim: hidden width M.
        dtype: compute dtype (bfloat16 for speed on accelerators).
        param_dtype: parameter dtype.
        rngs: random streams.
    """

    def __init__(
        self,
        dim: int,
        hidden_dim: int,
        *,
        dtype=jnp.float32,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.dtype = dtype
        init = dense_init(0, 1)
        self.w_gate = param(rngs, init, (dim, hidden_dim), ("embed", "mlp"), param_dtype)
        self.w_up = param(rngs, init, (dim, hidden_dim), ("embed", "mlp"), param_dtype)
        self.w_out = param(rngs, init, (hidden_dim, dim), ("mlp", "embed"), param_dtype)

    def __call__(self, x_btd: jnp.ndarray) -> jnp.ndarray:
        """[B, T, D] -> [B, T, D] in the compute dtype."""
        gate_btm = einsum("btd,dm->btm", x_btd, self.w_gate[...], self.dtype)
        up_btm = einsum("btd,dm->btm", x_btd, self.w_up[...], self.dtype)
        return einsum("btm,md->btd", jax.nn.gelu(gate_btm) * up_btm, self.w_out[...], self.dtype)
