"""Training loss of the token LM: cross-entropy over the delay-interleaved codebook streams.

Legend: B batch, T codec frames, K codebooks, S = T + K - 1 steps, V codebook size,
F frames, H W frame size, L text tokens, E text width.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from v2a_jax.codec.patterns import build_delay, valid_mask
from v2a_jax.conditioning.cfg_dropout import drop_text, sample_keep
from v2a_jax.models.token_lm import TokenLM, teacher_forcing_inputs


def teacher_forced_logits(
    model: TokenLM, batch: dict, rng: jax.Array, train: bool
) -> tuple[jax.Array, jax.Array]:
    """The model's teacher-forced logits over the delayed streams of ``batch``.

    Args: as ``lm_loss``.

    Returns:
        (logits_bskv float32 [B, S, K, V], seq_bsk int32 [B, S, K]: the delayed targets, pad id
        V outside the delay pattern).
    """
    cfg = model.cfg
    tokens_btk = jnp.asarray(batch["tokens"], jnp.int32)
    if tokens_btk.ndim != 3 or tokens_btk.shape[-1] != cfg.num_codebooks:
        raise ValueError(
            f"batch['tokens'] must be int [B, T, {cfg.num_codebooks}], got {tokens_btk.shape}"
        )
    seq_bsk = build_delay(tokens_btk, cfg.pad_id)
    inputs_bsk = teacher_forcing_inputs(seq_bsk, cfg.pad_id)
    text_ble = jnp.asarray(batch["text_emb"], jnp.float32)
    mask_bl = jnp.asarray(batch["text_mask"], bool)
    use_video_b = None
    if train:
        keep_text_b, use_video_b = sample_keep(
            rng, tokens_btk.shape[0], cfg.p_drop_text, cfg.p_drop_video, cfg.p_drop_both
        )
        text_ble, mask_bl = drop_text(text_ble, mask_bl, keep_text_b)
    fps = batch.get("fps", cfg.video.fps)
    conditions = model.prepare_conditions(
        batch["frames"], fps, text_ble, mask_bl, num_steps=seq_bsk.shape[1], use_video_b=use_video_b
    )
    return model(inputs_bsk, conditions), seq_bsk


def lm_loss(
    model: TokenLM, batch: dict, rng: jax.Array, train: bool
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Mean next-step cross-entropy over the real (non-pad) slots of the delayed streams.

    Args:
        model: the token LM.
        batch: ``tokens`` int32 [B, T, K], ``frames`` uint8 [B, F, H, W, 3], ``text_emb`` float
            [B, L, E], ``text_mask`` bool [B, L]; optional ``fps`` float [B] (default: the
            config's video fps) and ``loss_weight_t`` float [B, T] (per token frame, applied to
            every codebook's token of that frame, in training only; see ``onset_weight.py``).
        rng: key for condition dropout (used when ``train``).
        train: apply condition dropout (text / video / both, rates from the model config).

    Returns:
        (loss, metrics): ``loss`` float32 scalar (mean CE in nats over real slots, weighted by
        ``loss_weight_t`` when given); metrics are unweighted and hold
        ``loss``, ``ce_k{i}`` and ``acc_k{i}`` per codebook, and ``accuracy``.
    """
    cfg = model.cfg
    logits_bskv, seq_bsk = teacher_forced_logits(model, batch, rng, train)
    b, t, k = jnp.shape(batch["tokens"])
    # Targets in the pad slots are the pad id V, outside the heads' range; masked out below.
    targets_bsk = jnp.minimum(seq_bsk, cfg.codebook_size - 1)
    ce_bsk = optax.softmax_cross_entropy_with_integer_labels(logits_bskv, targets_bsk)
    weight_bsk = jnp.broadcast_to(valid_mask(t, k)[None], ce_bsk.shape).astype(jnp.float32)
    correct_bsk = (jnp.argmax(logits_bskv, axis=-1) == targets_bsk).astype(jnp.float32)
    count_k = jnp.sum(weight_bsk, axis=(0, 1))
    ce_k = jnp.sum(ce_bsk * weight_bsk, axis=(0, 1)) / count_k
    acc_k = jnp.sum(correct_bsk * weight_bsk, axis=(0, 1)) / count_k
    loss = objective = jnp.sum(ce_bsk * weight_bsk) / jnp.sum(weight_bsk)
    if train and "loss_weight_t" in batch:
        frame_w_btk = jnp.broadcast_to(
            jnp.asarray(batch["loss_weight_t"], jnp.float32)[:, :, None], (b, t, k)
        )
        w_bsk = build_delay(frame_w_btk, 0.0) * weight_bsk  # codebook k's frame t sits at t + k
        objective = jnp.sum(ce_bsk * w_bsk) / jnp.sum(w_bsk)
    metrics = {"loss": loss, "accuracy": jnp.sum(correct_bsk * weight_bsk) / jnp.sum(weight_bsk)}
    for i in range(k):
        metrics[f"ce_k{i}"] = ce_k[i]
        metrics[f"acc_k{i}"] = acc_k[i]
    return objective, metrics
