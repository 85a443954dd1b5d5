"""The diffusion refiner: quantized codec latent ``z_q`` -> a finer continuous latent ``z``.

Legend: B batch, T token frames, K codebooks, V codebook entries, D latent dim, W width.

The AR model's tokens dequantize to ``z_q`` (a sum of codebook vectors, possibly from only the
first ``k`` codebooks); the refiner is a flow-matching model of the residual
``r = (z - z_q) / residual_std`` given ``z_q``, so the data it generates is only what the
quantizer threw away. Each block is a ConvNeXt-style residual unit (dilated depthwise conv +
the gated MLP of ``v2a_jax.layers``) whose LayerNorm is modulated by the time ``t`` with
adaLN-Zero (DiT): every block starts as the identity, which keeps a deep stack trainable from
step one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.diffusion.schedules import timestep_embedding
from v2a_jax.layers.mlp import GatedMLP
from v2a_jax.models.refiner_config import RefinerConfig


class Codebooks(nnx.Variable):
    """The codec's codebook table [K, V, D]: frozen, saved with the model (not a Param)."""


class LatentStats(nnx.Variable):
    """Training-set latent statistics [D]: frozen, saved with the model (not a Param)."""


def _zeros_linear(n_in: int, n_out: int, rngs: nnx.Rngs) -> nnx.Linear:
    return nnx.Linear(
        n_in, n_out, kernel_init=nnx.initializers.zeros, bias_init=nnx.initializers.zeros, rngs=rngs
    )


class RefinerBlock(nnx.Module):
    """``x + gate * MLP(DWConv(modulate(LN(x), shift, scale)))``; gates start at 0."""

    def __init__(self, cfg: RefinerConfig, dilation: int, rngs: nnx.Rngs):
        w = cfg.width
        self.norm = nnx.LayerNorm(w, use_bias=False, use_scale=False, rngs=rngs)
        self.modulation = _zeros_linear(w, 3 * w, rngs)
        self.conv = nnx.Conv(
            w,
            w,
            kernel_size=(cfg.kernel_size,),
            kernel_dilation=(dilation,),
            feature_group_count=w,
            padding="SAME",
            rngs=rngs,
        )
        self.mlp = GatedMLP(w, cfg.mlp_ratio * w, rngs=rngs)

    def __call__(self, x_btw: jax.Array, cond_bw: jax.Array) -> jax.Array:
        shift_bw, scale_bw, gate_bw = jnp.split(self.modulation(cond_bw), 3, axis=-1)
        h_btw = self.norm(x_btw) * (1.0 + scale_bw[:, None]) + shift_bw[:, None]
        h_btw = self.mlp(self.conv(h_btw))
        return x_btw + gate_bw[:, None] * h_btw


class Refiner(nnx.Module):
    """Predicts the flow velocity of the normalised residual, given ``z_q`` and ``t``.

    Args:
        cfg: the architecture and statistics.
        codebooks_kvd: the codec's codebooks [K, V, D] (``Codec.codebooks()``); None stores
            zeros (fine when a checkpoint will be restored over them, see ``build_refiner``).
        rngs: parameter initialisation.
    """

    def __init__(self, cfg: RefinerConfig, codebooks_kvd=None, *, rngs: nnx.Rngs):
        self.cfg = cfg
        d, w = cfg.latent_dim, cfg.width
        shape = (cfg.num_codebooks, cfg.codebook_size, d)
        if codebooks_kvd is None:
            codebooks_kvd = np.zeros(shape, np.float32)
        codebooks_kvd = np.asarray(codebooks_kvd, np.float32)
        if codebooks_kvd.shape != shape:
            raise ValueError(f"codebooks_kvd has shape {codebooks_kvd.shape}, expected {shape}")
        self.codebooks = Codebooks(jnp.asarray(codebooks_kvd))

        def stat(values, fill):
            return LatentStats(
                jnp.full((d,), fill, jnp.float32)
                if values is None
                else jnp.asarray(values, jnp.float32)
            )

        self.latent_mean = stat(cfg.latent_mean, 0.0)
        self.latent_std = stat(cfg.latent_std, 1.0)
        self.residual_std = stat(cfg.residual_std, 1.0)

        self.in_proj = nnx.Linear(2 * d, w, rngs=rngs)
        self.time_fc1 = nnx.Linear(cfg.time_dim, w, rngs=rngs)
        self.time_fc2 = nnx.Linear(w, w, rngs=rngs)
        # String keys (not nnx.List's ints): checkpoint trees are keyed by name on disk.
        self.blocks = nnx.Dict(
            {
                f"block{i}": RefinerBlock(cfg, cfg.dilations[i % len(cfg.dilations)], rngs)
                for i in range(cfg.num_blocks)
            }
        )
        self.out_norm = nnx.LayerNorm(w, use_bias=False, use_scale=False, rngs=rngs)
        self.out_modulation = _zeros_linear(w, 2 * w, rngs)
        self.out_proj = _zeros_linear(w, d, rngs)

    def __call__(self, x_btd: jax.Array, cond_btd: jax.Array, t_b: jax.Array) -> jax.Array:
        """The velocity field.

        Args:
            x_btd: the noisy normalised residual ``x_t`` [B, T, D].
            cond_btd: the normalised conditioning latent (``normalize_cond(z_q)``) [B, T, D].
            t_b: flow time in [0, 1] (0 noise, 1 data) [B].

        Returns:
            ``v_btd`` [B, T, D].
        """
        h_btw = self.in_proj(jnp.concatenate([x_btd, cond_btd], axis=-1))
        temb_bw = self.time_fc2(
            jax.nn.silu(self.time_fc1(timestep_embedding(t_b, self.cfg.time_dim)))
        )
        cond_bw = jax.nn.silu(temb_bw)
        for i in range(self.cfg.num_blocks):
            h_btw = self.blocks[f"block{i}"](h_btw, cond_bw)
        shift_bw, scale_bw = jnp.split(self.out_modulation(cond_bw), 2, axis=-1)
        h_btw = self.out_norm(h_btw) * (1.0 + scale_bw[:, None]) + shift_bw[:, None]
        return self.out_proj(h_btw)

    # ---- latent space helpers -------------------------------------------------------------

    def dequantize(self, tokens_btk: jax.Array, num_codebooks: int | None = None) -> jax.Array:
        """Tokens to ``z_q`` [B, T, D] in JAX: the sum of the first ``k`` codebooks' vectors.

        Args:
            tokens_btk: int [B, T, K'] with K' >= k.
            num_codebooks: k; default ``cfg.coarse_codebooks``.
        """
        k = self.cfg.coarse_codebooks if num_codebooks is None else int(num_codebooks)
        if tokens_btk.shape[-1] < k:
            raise ValueError(
                f"tokens have {tokens_btk.shape[-1]} codebooks, the refiner needs the first {k}"
            )
        table_kvd = self.codebooks[...]
        vectors = [table_kvd[i][tokens_btk[..., i]] for i in range(k)]
        return sum(vectors[1:], vectors[0])

    def normalize_cond(self, z_q_btd: jax.Array) -> jax.Array:
        """``z_q`` in the units of the latent's training-set statistics."""
        return (z_q_btd - self.latent_mean[...]) / self.latent_std[...]

    def residual_of(self, z_btd: jax.Array, z_q_btd: jax.Array) -> jax.Array:
        """The flow's data point: ``(z - z_q) / residual_std``."""
        return (z_btd - z_q_btd) / self.residual_std[...]

    def latent_from(self, r_btd: jax.Array, z_q_btd: jax.Array) -> jax.Array:
        """Inverse of ``residual_of``: the refined latent ``z_q + r * residual_std``."""
        return z_q_btd + r_btd * self.residual_std[...]


def count_params(model: nnx.Module) -> int:
    """Trainable parameters (codebooks and statistics excluded)."""
    return int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param))))
