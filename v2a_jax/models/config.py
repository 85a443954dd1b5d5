"""Typed configuration of the token LM (``TokenLM``) and its video encoder.

The parent (``ModelConfig``) owns the shared widths; ``VideoEncoderConfig`` only what is specific to
the encoder. Presets live in ``v2a_jax/models/presets.py``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

# Re-exported: the encoder's config lives beside the encoder (conditioning never imports models).
from v2a_jax.conditioning.video_encoder import VideoEncoderConfig

__all__ = ["ModelConfig", "VideoEncoderConfig"]

_DTYPES = ("float32", "bfloat16", "float16")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The token LM.

    Attributes:
        num_codebooks: K codec codebooks (streams).
        codebook_size: V entries per codebook; id V is the BOS / delay-pad token.
        d_model: model width D.
        num_layers: transformer blocks.
        num_heads: attention heads (D must divide evenly, head width even for RoPE).
        mlp_dim: hidden width of the gated MLP.
        max_steps: longest interleaved sequence (T + K - 1) the model is configured for; the
            default KV cache length.
        text_dim: width E of the text encoder's token states (384 for MiniLM).
        video: the video encoder.
        audio_frame_rate: codec frames (token steps) per second.
        dtype: compute dtype ("float32" or "bfloat16"); logits are always float32.
        param_dtype: parameter dtype.
        p_drop_text, p_drop_video, p_drop_both: exclusive condition-dropout rates in training.
        rope_max_wavelength: RoPE's longest wavelength.
        norm_eps: RMSNorm epsilon.
    """

    num_codebooks: int = 4
    codebook_size: int = 1024
    d_model: int = 256
    num_layers: int = 6
    num_heads: int = 4
    mlp_dim: int = 768
    max_steps: int = 256
    text_dim: int = 384
    video: VideoEncoderConfig = dataclasses.field(default_factory=VideoEncoderConfig)
    audio_frame_rate: float = 50.0
    dtype: str = "float32"
    param_dtype: str = "float32"
    p_drop_text: float = 0.1
    p_drop_video: float = 0.1
    p_drop_both: float = 0.1
    rope_max_wavelength: float = 10_000.0
    norm_eps: float = 1e-6

    def __post_init__(self):
        if self.d_model % self.num_heads or (self.d_model // self.num_heads) % 2:
            raise ValueError(
                f"d_model {self.d_model} must split into {self.num_heads} heads of even width"
            )
        for name in ("dtype", "param_dtype"):
            if getattr(self, name) not in _DTYPES:
                raise ValueError(f"{name} must be one of {_DTYPES}, got {getattr(self, name)!r}")
        rates = (self.p_drop_text, self.p_drop_video, self.p_drop_both)
        if min(rates) < 0 or sum(rates) > 1:
            raise ValueError(f"condition dropout rates must be >= 0 and sum to <= 1, got {rates}")
        if self.max_steps < self.num_codebooks:
            raise ValueError(f"max_steps {self.max_steps} < num_codebooks {self.num_codebooks}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    @property
    def pad_id(self) -> int:
        """The BOS / delay-pad token id of every codebook (one past the codebook)."""
        return self.codebook_size

    @property
    def compute_dtype(self) -> jnp.dtype:
        return jnp.dtype(self.dtype)

    @property
    def weight_dtype(self) -> jnp.dtype:
        return jnp.dtype(self.param_dtype)

    def max_frames_for_steps(self) -> int:
        """Codec frames T that fit in ``max_steps`` interleaved steps."""
        return self.max_steps - self.num_codebooks + 1
