"""Models: the token LM (``TokenLM``), its config and presets, and ``build_model``."""

from __future__ import annotations

from flax import nnx

from v2a_jax.models.config import ModelConfig, VideoEncoderConfig
from v2a_jax.models.presets import MODEL_PRESETS
from v2a_jax.models.token_lm import Conditions, TokenLM, teacher_forcing_inputs


def build_model(cfg: ModelConfig, rngs: nnx.Rngs) -> TokenLM:
    """The token LM of ``cfg`` with parameters drawn from ``rngs``."""
    return TokenLM(cfg, rngs=rngs)


__all__ = [
    "MODEL_PRESETS",
    "Conditions",
    "ModelConfig",
    "TokenLM",
    "VideoEncoderConfig",
    "build_model",
    "teacher_forcing_inputs",
]
