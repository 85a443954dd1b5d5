"""Models: the token LM (``TokenLM``), its config and presets, and ``build_model``."""

from __future__ import annotations

from flax import nnx
from jax.sharding import Mesh

from v2a_jax.models.config import ModelConfig, VideoEncoderConfig
from v2a_jax.models.presets import MODEL_PRESETS
from v2a_jax.models.token_lm import Conditions, TokenLM, teacher_forcing_inputs
from v2a_jax.sharding import create_sharded


def build_model(cfg: ModelConfig, rngs: nnx.Rngs) -> TokenLM:
    """The token LM of ``cfg`` with parameters drawn from ``rngs``."""
    return TokenLM(cfg, rngs=rngs)


def init_model(cfg: ModelConfig, seed: int = 0, mesh: Mesh | None = None) -> TokenLM:
    """``build_model(cfg, nnx.Rngs(seed))`` in one jitted call, sharded on ``mesh`` when given
    (same values as the eager build; much faster than op-by-op initialisation)."""
    return create_sharded(lambda: build_model(cfg, nnx.Rngs(seed)), mesh)


__all__ = [
    "MODEL_PRESETS",
    "Conditions",
    "ModelConfig",
    "TokenLM",
    "VideoEncoderConfig",
    "build_model",
    "init_model",
    "teacher_forcing_inputs",
]
