"""Products in the compute dtype with float32 accumulation.

``einsum(spec, x, w, dtype)`` multiplies ``x`` and ``w`` cast to ``dtype`` and accumulates in
float32 before casting the result back to ``dtype``. For float32 this is plain ``jnp.einsum``. For
bfloat16 it is the mixed precision that accelerators use anyway, and on XLA's CPU backend it is
also the fast path: a bf16 x bf16 -> f32 product runs in YNNPACK, a bf16 -> bf16 one does not
(``experiments/bench_sampling.py --dtypes``: the small model's decoding step at batch 8).
"""

from __future__ import annotations

import jax.numpy as jnp


def einsum(spec: str, x: jnp.ndarray, w: jnp.ndarray, dtype) -> jnp.ndarray:
    """``jnp.einsum(spec, x, w)`` computed in ``dtype``, accumulated in float32, in ``dtype``."""
    out = jnp.einsum(spec, x.astype(dtype), w.astype(dtype), preferred_element_type=jnp.float32)
    return out.astype(dtype)
