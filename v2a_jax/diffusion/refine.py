"""``refine``: the refiner's sampling entry point, batched with the AR samples.

Legend: B batch (clips x samples per clip), T token frames, D latent dim.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.diffusion.sampler import sample_ode


def refine(
    refiner,
    z_q_btd: jax.Array,
    rng: jax.Array,
    num_steps: int = 8,
    method: str | None = None,
    noise_scale: float = 1.0,
    use_scan: bool = True,
) -> jax.Array:
    """Quantized latent -> refined continuous latent, by integrating the refiner's flow.

    Pure given the module: call it under ``nnx.jit`` (``refine_jit`` below) or inside any
    transformation; every AR sample of a batch is refined at once.

    Args:
        refiner: a ``v2a_jax.models.refiner.Refiner``.
        z_q_btd: float [B, T, D], the dequantized tokens (``refiner.dequantize(tokens_btk)`` or
            ``Codec.dequantize``), from the refiner's ``coarse_codebooks`` codebooks.
        rng: PRNG key for the starting noise.
        num_steps: ODE steps (4 to 16 is the intended range).
        method: ``euler`` or ``heun``; default the refiner config's.
        noise_scale: standard deviation of the starting noise (1 samples the learned
            distribution; below 1 trades detail for a result nearer the conditional mean).
        use_scan: ``lax.scan`` over steps; False runs a Python loop (debugging).

    Returns:
        ``z_btd`` float32 [B, T, D], for ``Codec.decode_latent``.

    Raises:
        ValueError: ``z_q_btd`` is not [B, T, D] with the refiner's D.
    """
    cfg = refiner.cfg
    if z_q_btd.ndim != 3 or z_q_btd.shape[-1] != cfg.latent_dim:
        raise ValueError(
            f"z_q_btd has shape {tuple(z_q_btd.shape)}, expected [B, T, {cfg.latent_dim}]"
        )
    z_q_btd = jnp.asarray(z_q_btd, jnp.float32)
    cond_btd = refiner.normalize_cond(z_q_btd)
    x0_btd = noise_scale * jax.random.normal(rng, z_q_btd.shape, jnp.float32)
    r_btd = sample_ode(
        lambda x_btd, t_b: refiner(x_btd, cond_btd, t_b),
        x0_btd,
        jnp.asarray(cfg.flow.timesteps(num_steps)),
        method=method or cfg.method,
        use_scan=use_scan,
    )
    return refiner.latent_from(r_btd, z_q_btd)


refine_jit = nnx.jit(refine, static_argnames=("num_steps", "method", "use_scan"))
