"""Condition dropout for classifier-free guidance, and the null conditions it trains.

Legend: B batch, L text tokens, E text width.

Each training example independently keeps both conditions, or drops the text, the video, or both,
with the exclusive probabilities ``p_drop_text``, ``p_drop_video``, ``p_drop_both``. The sampler
builds the same null branches at inference with the helpers below:

- dropped text = all-zero token states and an all-False mask, exactly what
  ``TextEncoder`` returns for the empty prompt ``""`` (``null_text``);
- dropped video = ``use_video_b`` False: ``TokenLM`` then replaces the video encoder's per-frame
  features by one learned null vector (``TokenLM.video_null``) for the frame-aligned stream and the
  cross-attention memory alike. A learned vector rather than zeros, so "no video" is a state the
  model can recognise instead of a dark clip.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def null_text(batch: int, length: int, dim: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The empty prompt: zeros float32 [B, L, E] and an all-False mask bool [B, L]."""
    return jnp.zeros((batch, length, dim), jnp.float32), jnp.zeros((batch, length), bool)


def sample_keep(
    rng: jax.Array, batch: int, p_drop_text: float, p_drop_video: float, p_drop_both: float
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Draws which conditions each example keeps.

    Returns:
        (keep_text_b, keep_video_b), bool [B] each.
    """
    total = p_drop_text + p_drop_video + p_drop_both
    if min(p_drop_text, p_drop_video, p_drop_both) < 0 or total > 1:
        raise ValueError(
            "condition dropout rates must be >= 0 and sum to <= 1, got "
            f"text={p_drop_text} video={p_drop_video} both={p_drop_both}"
        )
    u_b = jax.random.uniform(rng, (batch,))
    drop_both = u_b < p_drop_both
    drop_text = (u_b >= p_drop_both) & (u_b < p_drop_both + p_drop_text)
    drop_video = (u_b >= p_drop_both + p_drop_text) & (u_b < total)
    return ~(drop_both | drop_text), ~(drop_both | drop_video)


def drop_text(
    text_ble: jnp.ndarray, mask_bl: jnp.ndarray, keep_b: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Replaces the prompts of examples with ``keep_b`` False by the empty prompt."""
    text = jnp.where(keep_b[:, None, None], text_ble, jnp.zeros((), text_ble.dtype))
    return text, mask_bl & keep_b[:, None]
