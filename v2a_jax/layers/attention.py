"""Multi-head attention: causal self-attention with RoPE and a fixed-size KV cache, and
cross-attention to a masked memory.

Legend: B batch, T query positions, L cache length (max decode steps), M memory length,
H heads, K head width, D model width.

The cache has a static length L, so a jitted decode loop never recompiles; the write position is
a traced scalar. Unwritten cache slots are masked by position (key position > query position), so
one decode step per position gives the same numbers as the full causal pass.
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.layers.dot import einsum
from v2a_jax.layers.params import dense_init, param
from v2a_jax.layers.rope import apply_rope

# Finite rather than -inf: a fully masked row then gives a uniform softmax instead of NaNs
# (and is zeroed afterwards), and masked keys still get exactly zero weight.
_MASKED = -1e30


@flax.struct.dataclass
class KVCache:
    """Keys and values of one self-attention layer for positions [0, L).

    Heads-major, so each decode step reads contiguous [L, K] blocks per head: with the cache laid
    out [B, L, H, K] a decode step of the small model spent most of its time in a strided
    attention einsum on the CPU.

    Attributes:
        k_bhlk: keys after RoPE, [B, H, L, K].
        v_bhlk: values, [B, H, L, K].
    """

    k_bhlk: jax.Array
    v_bhlk: jax.Array

    @classmethod
    def zeros(cls, batch: int, length: int, num_heads: int, head_dim: int, dtype) -> KVCache:
        shape = (batch, num_heads, length, head_dim)
        return cls(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))


def _attend(q_bthk, k_bhsk, v_bhsk, mask_bts, dtype) -> jnp.ndarray:
    """Scaled dot-product attention over heads-major keys/values [B, H, S, K]; logits and
    softmax in float32. Returns [B, T, H, K]."""
    scale = q_bthk.shape[-1] ** -0.5
    logits = jnp.einsum("bthk,bhsk->bhts", q_bthk, k_bhsk, preferred_element_type=jnp.float32)
    logits = jnp.where(mask_bts[:, None], logits * scale, _MASKED)
    probs = jax.nn.softmax(logits, axis=-1)
    probs = jnp.where(jnp.any(mask_bts, axis=-1)[:, None, :, None], probs, 0.0)
    return einsum("bhts,bhsk->bthk", probs, v_bhsk, dtype)


def _attend_shared(q_bthk, shared_kv, blocks, k_bhsk, v_bhsk, mask_bts, dtype) -> jnp.ndarray:
    """``_attend`` over [shared memory; per-row memory] with one softmax. Returns [B, T, H, K].

    The shared part (keys/values [G, H, F, K], never masked) is stored once for all rows;
    ``blocks`` (static ``((start, stop, g), ...)`` covering rows 0 .. B) says which group each
    run of rows sees. Per block and head the shared matmuls take all its query rows at once
    ([rows * T, K] x [K, F]), so a step reads each group's keys once, not once per row.
    """
    b, t, h, kd = q_bthk.shape
    k_ghfk, v_ghfk = shared_kv
    f = k_ghfk.shape[2]
    scale = kd**-0.5
    q_hnk = jnp.transpose(q_bthk, (2, 0, 1, 3)).reshape(h, b * t, kd)

    def per_block(fn):  # fn(group, query-row slice) -> [H, rows, X]; rows of all blocks in order
        outs = [fn(g, slice(start * t, stop * t)) for start, stop, g in blocks]
        return outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=1)

    shared_hnf = per_block(
        lambda g, rows: jnp.einsum(
            "hnk,hfk->hnf", q_hnk[:, rows], k_ghfk[g], preferred_element_type=jnp.float32
        )
    )
    own = jnp.einsum("bthk,bhsk->bhts", q_bthk, k_bhsk, preferred_element_type=jnp.float32)
    own = jnp.where(mask_bts[:, None], own * scale, _MASKED)
    own_hns = jnp.transpose(own, (1, 0, 2, 3)).reshape(h, b * t, -1)
    probs = jax.nn.softmax(jnp.concatenate([shared_hnf * scale, own_hns], axis=-1), axis=-1)
    p_shared = probs[..., :f].astype(dtype)
    out_hnk = per_block(lambda g, rows: einsum("hnf,hfk->hnk", p_shared[:, rows], v_ghfk[g], dtype))
    p_own = jnp.transpose(probs[..., f:].reshape(h, b, t, -1), (1, 0, 2, 3)).astype(dtype)
    out_own = einsum("bhts,bhsk->bthk", p_own, v_bhsk, dtype)
    return jnp.transpose(out_hnk.reshape(h, b, t, kd), (1, 2, 0, 3)) + out_own


def _heads_major(x_bthk: jnp.ndarray) -> jnp.ndarray:
    """[B, T, H, K] -> [B, H, T, K]."""
    return jnp.swapaxes(x_bthk, 1, 2)


class _Projections(nnx.Module):
    """Query/key/value kernels [D, H, K] and the output kernel [H, K, D]."""

    def __init__(self, dim, num_heads, head_dim, dtype, param_dtype, rngs):
        self.dtype = dtype
        self.num_heads, self.head_dim = num_heads, head_dim
        qkv, out = dense_init(0, (1, 2)), dense_init((0, 1), 2)
        names = ("embed", "heads", "kv")
        self.w_q = param(rngs, qkv, (dim, num_heads, head_dim), names, param_dtype)
        self.w_k = param(rngs, qkv, (dim, num_heads, head_dim), names, param_dtype)
        self.w_v = param(rngs, qkv, (dim, num_heads, head_dim), names, param_dtype)
        self.w_o = param(
            rngs, out, (num_heads, head_dim, dim), ("heads", "kv", "embed"), param_dtype
        )

    def _proj(self, x_btd, w):
        return einsum("btd,dhk->bthk", x_btd, w[...], self.dtype)

    def _out(self, y_bthk):
        return einsum("bthk,hkd->btd", y_bthk, self.w_o[...], self.dtype)


class SelfAttention(_Projections):
    """Causal multi-head self-attention with rotary positions.

    Args:
        dim: model width D.
        num_heads: H.
        head_dim: K (even, for RoPE).
        rope_max_wavelength: RoPE's longest wavelength.
        dtype: compute dtype; param_dtype: parameter dtype.
        rngs: random streams.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        head_dim: int,
        *,
        rope_max_wavelength: float = 10_000.0,
        dtype=jnp.float32,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        super().__init__(dim, num_heads, head_dim, dtype, param_dtype, rngs)
        self.rope_max_wavelength = rope_max_wavelength

    def init_cache(self, batch: int, length: int) -> KVCache:
        """An empty cache for ``length`` positions, float32 whatever the compute dtype.

        With a bfloat16 cache XLA's CPU backend converted the whole cache to float32 at every
        decoding step for its attention products, which made bfloat16 sampling slower.
        """
        return KVCache.zeros(batch, length, self.num_heads, self.head_dim, jnp.float32)

    def __call__(
        self, x_btd: jnp.ndarray, *, start: jax.Array | int = 0, cache: KVCache | None = None
    ) -> tuple[jnp.ndarray, KVCache | None]:
        """Attends ``x_btd`` (positions ``start .. start + T - 1``) causally.

        Args:
            x_btd: inputs [B, T, D].
            start: absolute position of the first input (int or traced int32 scalar).
            cache: when given, the T new keys/values are written at ``start`` and the queries
                attend to every cached position up to their own; without it, to ``x_btd`` only.

        Returns:
            (outputs [B, T, D], the updated cache or None).
        """
        t = x_btd.shape[1]
        pos_t = jnp.asarray(start, jnp.int32) + jnp.arange(t, dtype=jnp.int32)
        q = apply_rope(self._proj(x_btd, self.w_q), pos_t, self.rope_max_wavelength)
        k = apply_rope(self._proj(x_btd, self.w_k), pos_t, self.rope_max_wavelength)
        v = self._proj(x_btd, self.w_v)
        k, v = _heads_major(k), _heads_major(v)
        if cache is None:
            key_pos = pos_t
        else:
            index = (0, 0, jnp.asarray(start, jnp.int32), 0)
            cache = KVCache(
                jax.lax.dynamic_update_slice(cache.k_bhlk, k.astype(cache.k_bhlk.dtype), index),
                jax.lax.dynamic_update_slice(cache.v_bhlk, v.astype(cache.v_bhlk.dtype), index),
            )
            k, v = cache.k_bhlk, cache.v_bhlk
            key_pos = jnp.arange(k.shape[2], dtype=jnp.int32)
        mask_ts = key_pos[None, :] <= pos_t[:, None]
        mask_bts = jnp.broadcast_to(mask_ts, (x_btd.shape[0], *mask_ts.shape))
        return self._out(_attend(q, k, v, mask_bts, v.dtype)), cache


class CrossAttention(_Projections):
    """Multi-head attention from a sequence to a memory with a key mask (no positions added here:
    the memory carries its own).

    Args:
        dim: model width D (queries and memory).
        num_heads: H; head_dim: K.
        dtype: compute dtype; param_dtype: parameter dtype.
        rngs: random streams.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        head_dim: int,
        *,
        dtype=jnp.float32,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        super().__init__(dim, num_heads, head_dim, dtype, param_dtype, rngs)

    def memory_kv(self, memory_bmd: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        """Keys and values [B, H, M, K] of the memory: computed once per sample, reused per step."""
        return (
            _heads_major(self._proj(memory_bmd, self.w_k)),
            _heads_major(self._proj(memory_bmd, self.w_v)),
        )

    def __call__(
        self,
        x_btd: jnp.ndarray,
        memory_kv: tuple[jnp.ndarray, jnp.ndarray],
        mask_bm: jnp.ndarray,
        shared_kv: tuple[jnp.ndarray, jnp.ndarray] | None = None,
        shared_blocks: tuple[tuple[int, int, int], ...] = (),
    ) -> jnp.ndarray:
        """Attends ``x_btd`` [B, T, D] to the memory keys/values where ``mask_bm`` is True.

        With ``shared_kv`` (keys/values [G, H, F, K] of a memory shared by all rows, e.g. one
        video for every sample and guidance branch) and ``shared_blocks`` (static
        ``((start, stop, group), ...)``: which shared group each run of rows sees), the memory
        is [shared group; the row's ``memory_kv``], one softmax over both. A row whose whole
        memory is masked gets zeros (attending to nothing), not NaNs.
        """
        k, v = memory_kv
        q = self._proj(x_btd, self.w_q)
        mask_bts = jnp.broadcast_to(
            mask_bm[:, None, :], (x_btd.shape[0], x_btd.shape[1], mask_bm.shape[1])
        )
        if shared_kv is None:
            return self._out(_attend(q, k, v, mask_bts, self.dtype))
        return self._out(_attend_shared(q, shared_kv, shared_blocks, k, v, mask_bts, self.dtype))
