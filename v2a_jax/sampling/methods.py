"""Sampling methods as objects: pure jax functions from logits to token ids.

Legend: B batch (one row per sample), K codebooks, V vocabulary.

Each method is a frozen (hashable) dataclass, so it can be a static argument of ``jax.jit``: a
new method or a new ``k`` compiles a new sampler, the same one reuses the compiled program.
``method(logits_bkv, rng) -> ids_bk`` samples one token per (row, codebook). ``rng`` is either
one key for the whole batch or ``[B]`` keys, one per row; with per-row keys row ``b``'s tokens
depend only on ``logits_bkv[b]`` and ``rng[b]``, which is what makes sample ``i`` of a batched
call reproducible from its own seed whatever the batch size.

Temperature composes with every stochastic method (``TopK(k=250, temperature=0.8)``); it divides
the logits before the truncation and the draw.

Example:
    ids_bk = TopP(p=0.9, temperature=0.9)(logits_bkv, jax.random.key(0))
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

_NEG_INF = -1e30  # finite: -inf - -inf would give NaN in softmax of an all-masked row


def _is_batch_of_keys(rng: jax.Array) -> bool:
    return rng.ndim == (1 if jnp.issubdtype(rng.dtype, jax.dtypes.prng_key) else 2)


def _per_row(draw, logits_bkv: jax.Array, rng: jax.Array) -> jax.Array:
    """Applies ``draw(logits_kv, key) -> ids_k`` per row with per-row keys, or batched."""
    if _is_batch_of_keys(rng):
        if rng.shape[0] != logits_bkv.shape[0]:
            raise ValueError(f"got {rng.shape[0]} keys for {logits_bkv.shape[0]} rows of logits")
        return jax.vmap(draw)(logits_bkv, rng)
    return draw(logits_bkv, rng)


def _categorical(logits: jax.Array, rng: jax.Array) -> jax.Array:
    return jax.random.categorical(rng, logits, axis=-1).astype(jnp.int32)


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (use Greedy() for argmax), got {temperature}")


@dataclasses.dataclass(frozen=True)
class Greedy:
    """Argmax: deterministic, ignores ``rng``."""

    def __call__(self, logits_bkv: jax.Array, rng: jax.Array | None = None) -> jax.Array:
        return jnp.argmax(logits_bkv, axis=-1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Temperature:
    """Samples from ``softmax(logits / temperature)`` over the whole vocabulary."""

    temperature: float = 1.0

    def __post_init__(self):
        _check_temperature(self.temperature)

    def __call__(self, logits_bkv: jax.Array, rng: jax.Array) -> jax.Array:
        scaled_bkv = logits_bkv.astype(jnp.float32) / self.temperature
        return _per_row(_categorical, scaled_bkv, rng)


@dataclasses.dataclass(frozen=True)
class TopK:
    """Samples among the ``k`` most likely tokens (AudioCraft's default: k=250, T=1)."""

    k: int = 250
    temperature: float = 1.0

    def __post_init__(self):
        if self.k < 1:
            raise ValueError(f"TopK needs k >= 1, got {self.k}")
        _check_temperature(self.temperature)

    def __call__(self, logits_bkv: jax.Array, rng: jax.Array) -> jax.Array:
        scaled_bkv = logits_bkv.astype(jnp.float32) / self.temperature
        k = min(self.k, scaled_bkv.shape[-1])
        kth_bk1 = jax.lax.top_k(scaled_bkv, k)[0][..., -1:]
        # Ties with the k-th value are kept: at most a few extra candidates, never fewer than k.
        masked_bkv = jnp.where(scaled_bkv >= kth_bk1, scaled_bkv, _NEG_INF)
        return _per_row(_categorical, masked_bkv, rng)


@dataclasses.dataclass(frozen=True)
class TopP:
    """Nucleus sampling: the smallest set of tokens whose probability reaches ``p``."""

    p: float = 0.9
    temperature: float = 1.0

    def __post_init__(self):
        if not 0 < self.p <= 1:
            raise ValueError(f"TopP needs 0 < p <= 1, got {self.p}")
        _check_temperature(self.temperature)

    def __call__(self, logits_bkv: jax.Array, rng: jax.Array) -> jax.Array:
        scaled_bkv = logits_bkv.astype(jnp.float32) / self.temperature
        sorted_bkv = jnp.sort(scaled_bkv, axis=-1)[..., ::-1]
        probs_bkv = jax.nn.softmax(sorted_bkv, axis=-1)
        # A token is kept when the mass strictly before it is below p: the most likely token is
        # always kept, and the set stops at the first token that brings the mass to p.
        before_bkv = jnp.cumsum(probs_bkv, axis=-1) - probs_bkv
        kept_bkv = before_bkv < self.p
        cutoff_bk1 = jnp.min(jnp.where(kept_bkv, sorted_bkv, jnp.inf), axis=-1, keepdims=True)
        masked_bkv = jnp.where(scaled_bkv >= cutoff_bk1, scaled_bkv, _NEG_INF)
        return _per_row(_categorical, masked_bkv, rng)


SamplingMethod = Greedy | Temperature | TopK | TopP


def parse_method(spec: str) -> SamplingMethod:
    """A method from a short string (CLI): ``greedy``, ``temperature:0.8``, ``topk:250``,
    ``topk:250:0.9`` (k, temperature), ``topp:0.9`` or ``topp:0.9:0.8`` (p, temperature).

    Raises:
        ValueError: an unknown name or malformed numbers, naming ``spec``.
    """
    name, *args = spec.strip().lower().split(":")
    makers = {"greedy": (Greedy, ()), "temperature": (Temperature, (float,)),
              "topk": (TopK, (int, float)), "topp": (TopP, (float, float))}  # fmt: skip
    if name not in makers or len(args) > len(makers[name][1]):
        raise ValueError(
            f"unknown sampling method {spec!r}: expected greedy, temperature:T, topk:K[:T] or "
            "topp:P[:T]"
        )
    cls, types = makers[name]
    try:
        return cls(*(t(a) for t, a in zip(types, args, strict=False)))
    except ValueError as err:
        raise ValueError(f"bad sampling method {spec!r}: {err}") from None
