"""The optimiser: AdamW with linear warm-up, cosine decay and global-norm gradient clipping."""

from __future__ import annotations

import jax
import optax

from v2a_jax.config import TrainConfig


def learning_rate_schedule(cfg: TrainConfig) -> optax.Schedule:
    """Linear warm-up from 0 to ``cfg.lr`` over ``warmup_steps``, cosine to ``lr * end_lr_factor``.

    ``optax.warmup_cosine_decay_schedule`` counts ``decay_steps`` from step 0 (warm-up included),
    so the decay ends exactly at ``cfg.steps``.
    """
    warmup = min(cfg.warmup_steps, cfg.steps)
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=cfg.lr,
        warmup_steps=warmup,
        decay_steps=max(cfg.steps, warmup + 1),
        end_value=cfg.lr * cfg.end_lr_factor,
    )


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` (when ``clip_norm > 0``) followed by AdamW on the schedule.

    Clipping comes first so the Adam moments only ever see clipped gradients. Weight decay applies
    to matrices only (ndim >= 2): decaying norm scales and biases towards 0 only hurts.
    """
    adamw = optax.adamw(
        learning_rate_schedule(cfg),
        b1=cfg.b1,
        b2=cfg.b2,
        weight_decay=cfg.weight_decay,
        mask=lambda params: jax.tree.map(lambda x: x.ndim >= 2, params),
    )
    if cfg.clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(cfg.clip_norm), adamw)
    return adamw
