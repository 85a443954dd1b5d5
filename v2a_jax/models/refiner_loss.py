"""The refiner's flow-matching loss, in the training loop's ``loss_fn`` shape.

Legend: B batch, T token frames, K codebooks, D latent dim.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

REQUIRED_KEYS = ("tokens", "latent")


def refiner_loss(model, batch: dict, rng: jax.Array, train: bool) -> tuple[jax.Array, dict]:
    """Mean squared error of the predicted velocity on the residual's straight path.

    Args:
        model: a ``Refiner``.
        batch: ``tokens`` int32 [B, T, K] (ground-truth codec tokens) and ``latent`` float32
            [B, T, D] (the codec's continuous pre-quantization latent of the same audio);
            other keys are ignored. An optional ``latent_mask`` bool [B, T] leaves padded frames
            out of the mean.
        rng: PRNG key (noise and times).
        train: unused (no dropout); kept for the loop's signature. Training windows come from
            the data pipeline (``data.crop_frames``).

    Returns:
        ``(loss, metrics)``; metrics: ``loss``, ``v_target_rms`` (the target's scale: a loss
        well below ``v_target_rms**2`` means the model predicts something), ``residual_rms``
        (the normalised residual's scale, about 1 with good statistics).

    Raises:
        KeyError: a required batch key is missing.
    """
    del train
    missing = [k for k in REQUIRED_KEYS if k not in batch]
    if missing:
        raise KeyError(f"refiner_loss: batch lacks {missing}; it needs {list(REQUIRED_KEYS)}")
    latent_btd = jnp.asarray(batch["latent"], jnp.float32)
    tokens_btk = jnp.asarray(batch["tokens"])
    mask_bt = batch.get("latent_mask")
    z_q_btd = model.dequantize(tokens_btk)
    x1_btd = model.residual_of(latent_btd, z_q_btd)
    cond_btd = model.normalize_cond(z_q_btd)
    rng_t, rng_x = jax.random.split(rng)
    flow = model.cfg.flow
    t_b = flow.sample_t(rng_t, latent_btd.shape[0])
    x0_btd = jax.random.normal(rng_x, latent_btd.shape, jnp.float32)
    target_btd = flow.velocity(x0_btd, x1_btd)
    v_btd = model(flow.interpolate(x0_btd, x1_btd, t_b), cond_btd, t_b)
    err_bt = jnp.mean(jnp.square(v_btd - target_btd), axis=-1)
    mask_bt = jnp.ones_like(err_bt) if mask_bt is None else jnp.asarray(mask_bt, err_bt.dtype)
    denom = jnp.maximum(mask_bt.sum(), 1.0)
    loss = jnp.sum(err_bt * mask_bt) / denom
    metrics = {
        "loss": loss,
        "v_target_rms": jnp.sqrt(jnp.sum(jnp.mean(target_btd**2, -1) * mask_bt) / denom),
        "residual_rms": jnp.sqrt(jnp.sum(jnp.mean(x1_btd**2, -1) * mask_bt) / denom),
    }
    return loss, metrics
