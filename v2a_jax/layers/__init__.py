"""Transformer building blocks with no knowledge of audio or video.

Every parameter is created through ``params.param`` and carries logical axis names
(``out_sharding`` metadata) that ``v2a_jax.sharding`` maps onto a device mesh.
"""

from v2a_jax.layers.attention import CrossAttention, KVCache, SelfAttention
from v2a_jax.layers.mlp import GatedMLP
from v2a_jax.layers.norms import RMSNorm
from v2a_jax.layers.rope import apply_rope, sinusoidal_embedding

__all__ = [
    "CrossAttention",
    "GatedMLP",
    "KVCache",
    "RMSNorm",
    "SelfAttention",
    "apply_rope",
    "sinusoidal_embedding",
]
