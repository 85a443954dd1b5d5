"""The token LM: a decoder-only transformer over delay-interleaved codec tokens, conditioned on
frame-aligned video features (added to the stream) and cross-attention to [video; text] memory.

Legend: B batch, S interleaved steps (T + K - 1), K codebooks, V codebook size, D model width,
F video frames, L text tokens, E text width, M memory length (F + L), H heads.

Teacher forcing: the input at step s is the delayed token row s - 1 (row -1 is BOS, id V in
every codebook) and the output predicts row s; so the coarsest codebook of codec frame s is
predicted at step s, which also receives the video features of time s / frame_rate. Decoding
runs the same computation one step at a time against a fixed-size KV cache
(``init_cache`` / ``prepare_conditions`` / ``decode_step``), which the sampler carries through a
``lax.while_loop``.
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.conditioning.alignment import resample_to_steps
from v2a_jax.conditioning.video_encoder import VideoEncoder
from v2a_jax.layers.attention import CrossAttention, KVCache, SelfAttention
from v2a_jax.layers.dot import einsum
from v2a_jax.layers.mlp import GatedMLP
from v2a_jax.layers.norms import RMSNorm
from v2a_jax.layers.params import dense_init, param
from v2a_jax.layers.rope import sinusoidal_embedding
from v2a_jax.models.config import ModelConfig
from v2a_jax.sharding import constrain

_STREAM = ("batch", "audio_time", "embed")


@flax.struct.dataclass
class Conditions:
    """Everything a sample call computes once from the video and the text.

    Two layouts of the cross-attention memory. Per row (training; a video per row): ``cross_kv``
    holds [video; text] of every row. Shared (sampling: one video for every sample and guidance
    branch): ``shared_kv`` holds the video part once per group (G = 1, or 2 with the null video
    of the unconditional branches) and ``cross_kv`` the text part of each row, so a decoding
    step reads the video's keys once instead of once per row (``Block`` attends to both with one
    softmax: the same numbers up to rounding).

    Attributes:
        video_bsd: video features on the token timeline, added to the stream, [B, S_max, D].
        cross_kv: per block, the per-row memory's cross-attention (keys, values), [B, H, M, K]
            each (M = F + L per row, or L with ``shared_kv``).
        memory_mask_bm: bool [B, M], False on padded text tokens.
        shared_kv: per block, the shared video memory's (keys, values), [G, H, F, K] each; or
            None (per-row layout).
        shared_blocks: static ``((start, stop, group), ...)``: the rows of each run that sees
            one shared group (empty without ``shared_kv``).
    """

    video_bsd: jax.Array
    cross_kv: tuple[tuple[jax.Array, jax.Array], ...]
    memory_mask_bm: jax.Array
    shared_kv: tuple[tuple[jax.Array, jax.Array], ...] | None = None
    shared_blocks: tuple[tuple[int, int, int], ...] = flax.struct.field(
        pytree_node=False, default=()
    )

    @property
    def num_steps(self) -> int:
        return self.video_bsd.shape[1]


def teacher_forcing_inputs(seq_bsk: jnp.ndarray, bos_id: int) -> jnp.ndarray:
    """Inputs for predicting ``seq_bsk``: BOS then rows 0 .. S - 2, int32 [B, S, K]."""
    bos = jnp.full_like(seq_bsk[:, :1], bos_id)
    return jnp.concatenate([bos, seq_bsk[:, :-1]], axis=1)


class Block(nnx.Module):
    """Pre-norm block: causal self-attention (RoPE, cache), cross-attention, gated MLP."""

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        kw = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weight_dtype, rngs=rngs)
        d, h, k = cfg.d_model, cfg.num_heads, cfg.head_dim
        norm_kw = dict(eps=cfg.norm_eps, param_dtype=cfg.weight_dtype, rngs=rngs)
        self.norm_self = RMSNorm(d, **norm_kw)
        self.self_attn = SelfAttention(d, h, k, rope_max_wavelength=cfg.rope_max_wavelength, **kw)
        self.norm_cross = RMSNorm(d, **norm_kw)
        self.cross_attn = CrossAttention(d, h, k, **kw)
        self.norm_mlp = RMSNorm(d, **norm_kw)
        self.mlp = GatedMLP(d, cfg.mlp_dim, **kw)

    def __call__(
        self, x_bsd, cross_kv, memory_mask_bm, start, cache, shared_kv=None, shared_blocks=()
    ):
        y, cache = self.self_attn(self.norm_self(x_bsd), start=start, cache=cache)
        x_bsd = x_bsd + y.astype(x_bsd.dtype)
        y = self.cross_attn(
            self.norm_cross(x_bsd), cross_kv, memory_mask_bm, shared_kv, shared_blocks
        )
        x_bsd = x_bsd + y.astype(x_bsd.dtype)
        x_bsd = x_bsd + self.mlp(self.norm_mlp(x_bsd)).astype(x_bsd.dtype)
        return constrain(x_bsd, _STREAM), cache


def video_row_runs(
    use_video_rows: tuple[bool, ...],
) -> tuple[list[bool], tuple[tuple[int, int, int], ...]]:
    """The shared-memory groups and the runs of rows that read them.

    Args:
        use_video_rows: per row, whether it sees the video (True) or the null video.

    Returns:
        (kinds, runs): ``kinds[g]`` is group g's flag (group 0 the video when any row sees
        it); ``runs`` are ``(start, stop, g)`` covering rows 0 .. B in order, each a maximal run
        of consecutive rows of one group.
    """
    kinds = sorted(set(use_video_rows), reverse=True)
    group = [kinds.index(flag) for flag in use_video_rows]
    runs, start = [], 0
    for row in range(1, len(group) + 1):
        if row == len(group) or group[row] != group[start]:
            runs.append((start, row, group[start]))
            start = row
    return kinds, tuple(runs)


class TokenLM(nnx.Module):
    """Autoregressive model of K codebook streams (delay pattern), video- and text-conditioned.

    Args:
        cfg: model configuration.
        rngs: random streams (``params``).
    """

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        d, k, v, pdt = cfg.d_model, cfg.num_codebooks, cfg.codebook_size, cfg.weight_dtype
        # One table per codebook with one extra row, id V: BOS and delay pad. The extra row makes
        # V + 1 rows, rarely divisible by a mesh axis, so the vocabulary axis is not sharded here.
        self.embed = param(
            rngs,
            jax.nn.initializers.normal(k**-0.5),
            (k, v + 1, d),
            ("codebook", None, "embed"),
            pdt,
        )
        self.video_encoder = VideoEncoder(
            cfg.video, d, dtype=cfg.compute_dtype, param_dtype=pdt, rngs=rngs
        )
        self.video_null = param(rngs, jax.nn.initializers.normal(1.0), (d,), ("embed",), pdt)
        self.video_stream = param(rngs, dense_init(0, 1), (d, d), ("embed", None), pdt)
        self.video_memory = param(rngs, dense_init(0, 1), (d, d), ("embed", None), pdt)
        self.text_proj = param(rngs, dense_init(0, 1), (cfg.text_dim, d), (None, "embed"), pdt)
        self.memory_type = param(
            rngs, jax.nn.initializers.normal(1.0), (2, d), (None, "embed"), pdt
        )
        self.blocks = nnx.List([Block(cfg, rngs) for _ in range(cfg.num_layers)])
        self.final_norm = RMSNorm(d, eps=cfg.norm_eps, param_dtype=pdt, rngs=rngs)
        self.heads = param(rngs, dense_init(1, 2), (k, d, v), ("codebook", "embed", "vocab"), pdt)

    # -- conditions ------------------------------------------------------------------------------

    def _w(self, p):
        return p[...].astype(self.cfg.compute_dtype)

    def _dense(self, x_bnd, p):
        """``x_bnd`` [B, N, Din] times the kernel ``p`` [Din, Dout] (float32 accumulation)."""
        return einsum("bnd,de->bne", x_bnd, p[...], self.cfg.compute_dtype)

    def encode_video(self, frames_bfhwc, fps, num_steps: int, use_video_b=None):
        """Encodes frames into the stream features and the cross-attention memory.

        Args:
            frames_bfhwc: uint8 [B, F, H, W, 3]; B may be 1 with ``use_video_b`` of any length
                (one video shared by every row is encoded once).
            fps: frame rate, float or float [B].
            num_steps: S, length of the token timeline to resample onto (static).
            use_video_b: optional bool [B]; False rows get the learned null video instead.

        Returns:
            (video_bsd [B, S, D] frame-aligned stream features, memory_bfd [B, F, D]).
        """
        feats_bfd = self.video_encoder(frames_bfhwc)
        if use_video_b is not None:
            null = self._w(self.video_null)
            feats_bfd = jnp.where(jnp.asarray(use_video_b)[:, None, None], feats_bfd, null)
        rate = self.cfg.audio_frame_rate
        video_bsd = self._dense(
            resample_to_steps(feats_bfd, fps, rate, num_steps), self.video_stream
        )
        # Memory positions in token steps (f * rate / fps), so both kinds of conditioning share
        # one clock whatever the frame rate.
        fps_b = jnp.atleast_1d(jnp.asarray(fps, jnp.float32))
        steps_bf = jnp.arange(feats_bfd.shape[1], dtype=jnp.float32)[None] * (rate / fps_b[:, None])
        pos_bfd = sinusoidal_embedding(steps_bf, self.cfg.d_model).astype(feats_bfd.dtype)
        memory_bfd = (
            self._dense(feats_bfd, self.video_memory) + pos_bfd + self._w(self.memory_type)[0]
        )
        return video_bsd, memory_bfd

    def encode_text(self, text_ble, mask_bl):
        """Projects text-encoder states float [B, L, E] to the memory [B, L, D] (mask unchanged)."""
        if text_ble.ndim != 3 or text_ble.shape[-1] != self.cfg.text_dim:
            raise ValueError(f"text_emb must be [B, L, {self.cfg.text_dim}], got {text_ble.shape}")
        if mask_bl.shape != text_ble.shape[:2]:
            raise ValueError(f"text_mask {mask_bl.shape} must be [B, L] of text {text_ble.shape}")
        return self._dense(text_ble, self.text_proj) + self._w(self.memory_type)[1]

    def prepare_conditions(
        self,
        frames_bfhwc,
        fps,
        text_ble,
        mask_bl,
        *,
        num_steps=None,
        use_video_b=None,
        share_video: bool = False,
    ) -> Conditions:
        """Computes the conditions once per sample call (or training batch).

        Args:
            frames_bfhwc: uint8 [B, F, H, W, 3], or [1, F, H, W, 3]: one video for every row,
                encoded once (the sampler's guidance branches and samples share one video).
            fps: frame rate, float or float [B].
            text_ble: text-encoder token states [B, L, E] (zeros for the empty prompt).
            mask_bl: bool [B, L] (all False for the empty prompt).
            num_steps: token timeline length (static); default ``cfg.max_steps``.
            use_video_b: optional bool [B]; False rows are the null-video (unconditional) branch.
            share_video: keep the video memory once (``Conditions.shared_kv``) instead of once
                per row; needs ``frames_bfhwc`` of batch 1, and ``use_video_b`` (if any) as
                static Python bools (the rows' grouping is part of the program). The sampler's
                layout.

        Returns:
            ``Conditions`` for ``__call__`` / ``decode_step``.
        """
        num_steps = self.cfg.max_steps if num_steps is None else num_steps
        b = text_ble.shape[0]
        if frames_bfhwc.shape[0] not in (1, b):
            raise ValueError(
                f"frames batch {frames_bfhwc.shape[0]} != text batch {b} (or 1: one shared video)"
            )
        text_bld = self.encode_text(text_ble, mask_bl)
        if share_video:
            if frames_bfhwc.shape[0] != 1:
                raise ValueError(
                    f"share_video needs one video (frames batch 1), got {frames_bfhwc.shape[0]}"
                )
            return self._shared_conditions(
                frames_bfhwc, fps, text_bld, mask_bl, num_steps, use_video_b
            )
        video_bsd, memory_bfd = self.encode_video(frames_bfhwc, fps, num_steps, use_video_b)
        video_bsd = jnp.broadcast_to(video_bsd, (b, *video_bsd.shape[1:]))
        memory_bfd = jnp.broadcast_to(memory_bfd, (b, *memory_bfd.shape[1:]))
        memory_bmd = jnp.concatenate([memory_bfd, text_bld], axis=1)
        mask_bm = jnp.concatenate(
            [jnp.ones(memory_bfd.shape[:2], bool), jnp.asarray(mask_bl, bool)], axis=1
        )
        cross_kv = tuple(block.cross_attn.memory_kv(memory_bmd) for block in self.blocks)
        return Conditions(constrain(video_bsd, _STREAM), cross_kv, mask_bm)

    def _shared_conditions(self, frames_1fhwc, fps, text_bld, mask_bl, num_steps, use_video_b):
        """``prepare_conditions`` with one shared video: a group for the video (rows whose
        ``use_video_b`` is True) and one for the null video (False), only those present."""
        b = text_bld.shape[0]
        flags = (True,) * b if use_video_b is None else tuple(bool(x) for x in use_video_b)
        if len(flags) != b:
            raise ValueError(f"use_video_b has {len(flags)} rows for a text batch of {b}")
        kinds, blocks = video_row_runs(flags)
        video_gsd, memory_gfd = self.encode_video(frames_1fhwc, fps, num_steps, jnp.asarray(kinds))
        video_bsd = jnp.concatenate(
            [jnp.broadcast_to(video_gsd[g], (stop - begin, *video_gsd.shape[1:]))
             for begin, stop, g in blocks], axis=0,
        )  # fmt: skip
        shared_kv = tuple(block.cross_attn.memory_kv(memory_gfd) for block in self.blocks)
        cross_kv = tuple(block.cross_attn.memory_kv(text_bld) for block in self.blocks)
        return Conditions(
            constrain(video_bsd, _STREAM), cross_kv, jnp.asarray(mask_bl, bool), shared_kv,
            blocks,
        )  # fmt: skip

    # -- transformer -----------------------------------------------------------------------------

    def _forward(self, inputs_bsk, conditions: Conditions, start, caches):
        cfg = self.cfg
        if inputs_bsk.ndim != 3 or inputs_bsk.shape[-1] != cfg.num_codebooks:
            raise ValueError(
                f"tokens must be int [B, S, {cfg.num_codebooks}], got shape {inputs_bsk.shape}"
            )
        s = inputs_bsk.shape[1]
        if s > conditions.num_steps:
            raise ValueError(
                f"{s} steps exceed the {conditions.num_steps} steps the conditions were made for"
            )
        table_kvd = self._w(self.embed)
        codebook = jnp.arange(cfg.num_codebooks)
        x_bsd = jnp.sum(table_kvd[codebook, inputs_bsk], axis=2)  # [B, S, K, D] -> [B, S, D]
        x_bsd = x_bsd + jax.lax.dynamic_slice_in_dim(conditions.video_bsd, start, s, axis=1)
        x_bsd = constrain(x_bsd, _STREAM)
        new_caches = []
        for i, block in enumerate(self.blocks):
            cache = None if caches is None else caches[i]
            shared = None if conditions.shared_kv is None else conditions.shared_kv[i]
            x_bsd, cache = block(
                x_bsd, conditions.cross_kv[i], conditions.memory_mask_bm, start, cache,
                shared, conditions.shared_blocks,
            )  # fmt: skip
            new_caches.append(cache)
        x_bsd = self.final_norm(x_bsd)
        heads_kdv = self._w(self.heads)
        if s == 1:
            # Decoding: one matmul per codebook against the [K, D, V] kernel as stored. The fused
            # "bsd,kdv->bskv" form multiplies by a [D, K * V] copy of it, which XLA re-made at
            # every step of the sampler's loop (4 MB for the small model).
            x_kbd = jnp.broadcast_to(x_bsd[:, 0], (cfg.num_codebooks, *x_bsd[:, 0].shape))
            logits_kbv = jnp.einsum(
                "kbd,kdv->kbv", x_kbd, heads_kdv, preferred_element_type=jnp.float32
            )
            logits_bskv = jnp.swapaxes(logits_kbv, 0, 1)[:, None]
        else:
            logits_bskv = jnp.einsum(
                "bsd,kdv->bskv", x_bsd, heads_kdv, preferred_element_type=jnp.float32
            )
        return logits_bskv, (None if caches is None else tuple(new_caches))

    def __call__(self, inputs_bsk: jnp.ndarray, conditions: Conditions) -> jnp.ndarray:
        """Teacher-forced logits over the delayed stream.

        Args:
            inputs_bsk: int [B, S, K], ``teacher_forcing_inputs(build_delay(tokens), pad_id)``.
            conditions: from ``prepare_conditions`` with at least S steps.

        Returns:
            logits_bskv float32 [B, S, K, V]: row s predicts delayed row s.
        """
        return self._forward(inputs_bsk, conditions, 0, None)[0]

    def init_cache(self, batch: int, max_steps: int | None = None) -> tuple[KVCache, ...]:
        """Zeroed KV caches, one per block, of static length ``max_steps`` (default config's)."""
        length = self.cfg.max_steps if max_steps is None else max_steps
        return tuple(block.self_attn.init_cache(batch, length) for block in self.blocks)

    def decode_step(self, tokens_b1k, step, conditions: Conditions, cache):
        """One decoding step: the input row at ``step`` in, the logits of row ``step`` out.

        Args:
            tokens_b1k: int [B, 1, K], BOS (``cfg.pad_id``) at step 0, else the delayed row
                ``step - 1`` (pad where the delay pattern has no token).
            step: int32 scalar, may be traced (``0 <= step < cache length``).
            conditions: from ``prepare_conditions``.
            cache: from ``init_cache`` or the previous step.

        Returns:
            (logits_b1kv float32 [B, 1, K, V], updated cache).
        """
        return self._forward(tokens_b1k, conditions, jnp.asarray(step, jnp.int32), cache)
