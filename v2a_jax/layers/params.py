"""Parameter creation with logical axis names, shared by every layer.

Names are stored as the Variable's ``out_sharding`` metadata (the key Flax NNX reads in
``nnx.get_partition_spec``), with ``eager_sharding=False`` so a model builds on one device without
a mesh; ``v2a_jax.sharding`` maps the names onto mesh axes and places the values (through
``jax.jit(out_shardings=...)``), so nothing large is materialised unsharded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

Initializer = Callable[[jax.Array, Sequence[int], jnp.dtype], jax.Array]


def param(
    rngs: nnx.Rngs,
    init: Initializer,
    shape: Sequence[int],
    names: Sequence[str | None],
    dtype: jnp.dtype = jnp.float32,
) -> nnx.Param:
    """A new ``nnx.Param`` of ``shape`` whose axes carry the logical ``names``."""
    if len(names) != len(shape):
        raise ValueError(f"logical names {tuple(names)} do not match parameter shape {shape}")
    value = init(rngs.params(), tuple(shape), dtype)
    return nnx.Param(value, out_sharding=tuple(names), eager_sharding=False)


def dense_init(in_axes: int | Sequence[int], out_axes: int | Sequence[int]) -> Initializer:
    """LeCun-normal (fan-in) initializer for a kernel with several input/output axes."""
    return jax.nn.initializers.variance_scaling(
        1.0, "fan_in", "truncated_normal", in_axis=in_axes, out_axis=out_axes
    )
