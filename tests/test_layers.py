"""Layers: RoPE's relative-position property, masked cross-attention, RMSNorm, logical names."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.layers import CrossAttention, GatedMLP, RMSNorm, SelfAttention, apply_rope


def test_rope_scores_depend_only_on_position_difference():
    rng = np.random.default_rng(0)
    q, k = (jnp.asarray(rng.normal(size=(1, 1, 2, 8)), jnp.float32) for _ in range(2))

    def score(pq, pk):
        rq = apply_rope(q, jnp.array([pq]))
        rk = apply_rope(k, jnp.array([pk]))
        return np.asarray(jnp.sum(rq * rk, axis=-1))

    np.testing.assert_allclose(score(3, 1), score(10, 8), atol=1e-5)
    np.testing.assert_allclose(score(0, 0), np.asarray(jnp.sum(q * k, axis=-1)), atol=1e-5)


def test_cross_attention_with_no_visible_key_gives_zeros():
    attn = CrossAttention(16, 2, 8, rngs=nnx.Rngs(0))
    x = jnp.ones((2, 3, 16))
    kv = attn.memory_kv(jnp.ones((2, 4, 16)))
    mask = jnp.array([[True, True, False, False], [False, False, False, False]])
    y = np.asarray(attn(x, kv, mask))
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y[1], 0.0)
    assert np.abs(y[0]).max() > 0


def test_self_attention_is_causal():
    attn = SelfAttention(16, 2, 8, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(0), (1, 5, 16))
    y1, _ = attn(x)
    y2, _ = attn(x.at[:, 3:].set(7.0))  # changing the future leaves the past unchanged
    np.testing.assert_allclose(np.asarray(y1[:, :3]), np.asarray(y2[:, :3]), atol=1e-6)


def test_rms_norm_normalises_and_every_param_has_logical_names():
    norm = RMSNorm(8, rngs=nnx.Rngs(0))
    y = norm(3.0 * jnp.arange(1.0, 9.0)[None])
    np.testing.assert_allclose(float(jnp.sqrt(jnp.mean(y**2))), 1.0, rtol=1e-5)
    for module in (
        norm,
        GatedMLP(8, 16, rngs=nnx.Rngs(0)),
        SelfAttention(8, 2, 4, rngs=nnx.Rngs(0)),
    ):
        for _, var in nnx.to_flat_state(nnx.state(module, nnx.Param)):
            names = var.get_metadata()["out_sharding"]
            assert len(names) == var.get_value().ndim
