"""The AR sampler: one jitted ``lax.while_loop`` over the delay-pattern steps of one window.

Legend:
    R  guidance branches stacked in the batch (1 to 4, see ``guidance.py``)
    B  samples (variations) of one video
    S  interleaved steps of the window, ``T + K - 1``
    T  codec frames of the window
    K  codebooks
    V  vocabulary (codebook size; id V is BOS / delay pad)
    F  video frames of the window (at the model's fps), H W frame size
    L  text tokens, E text width

Stateless (Gemma's sampler): every call takes the model's split state and the request, runs
``lax.while_loop``s over an explicit ``SamplerState`` and returns tokens. The KV cache grows in
up to ``CACHE_SEGMENTS`` static sizes (``cache_segments``): the steps run in that many
consecutive loops, each carrying a cache just long enough for its own steps, padded once between
loops (step 10 of 203 attends to 80 cached positions, not 203: the result is the same, the cost
is not; slicing one long cache per step instead copies the slice at every step). The number of
prompt frames (continuation) is a traced value, so repeated calls with the same duration, batch,
guidance and method reuse one compiled program (``compiled_programs()`` counts them).

At step ``s`` the input is the delayed token row ``s - 1`` (BOS at step 0); the model's logits for
all R branches come out of ONE forward pass of ``R * B`` rows (whose cross-attention reads the
video's memory once per kind, video or null video, not once per row: ``Conditions``), guidance
combines them into ``[B, K, V]``, the method draws one token per codebook with per-sample keys
``fold_in(key_b, s)`` (so sample b depends only on its own seed, never on B), and slots outside
the delay pattern get the pad id. Slots covered by ``prompt`` are forced to the prompt's tokens
(continuation of a previous window).
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.codec.patterns import build_delay, revert_delay
from v2a_jax.models.token_lm import video_row_runs
from v2a_jax.sampling.guidance import Guidance, split_branches
from v2a_jax.sampling.methods import SamplingMethod


@flax.struct.dataclass
class SamplerState:
    """The loop carry.

    Attributes:
        step: int32 [], the step being decoded.
        seq_bsk: int32 [B, S, K], delayed tokens decoded so far (pad elsewhere).
        cache: the model's KV caches for the ``R * B`` rows, as long as the current loop's end.
        keys_b: [B] per-sample PRNG keys (typed).
        logits_bskv: float32 [B, S, K, V] guided logits per step when recorded (tests), else
            a [B, 0, K, V] placeholder.
    """

    step: jax.Array
    seq_bsk: jax.Array
    cache: Any
    keys_b: jax.Array
    logits_bskv: jax.Array


CACHE_SEGMENTS = 4  # at most this many loops per window, each with its own cache length
MIN_SEGMENT_STEPS = 64  # shorter loops would not repay their compile time (~1 s each on CPU)


def cache_segments(
    num_steps: int, count: int = CACHE_SEGMENTS, min_steps: int = MIN_SEGMENT_STEPS
) -> tuple[int, ...]:
    """The end step of each decoding loop, which is also the cache length it carries.

    Near-equal segments of at least ``min_steps`` steps, at most ``count`` of them, ends
    rounded up to a multiple of 16; the last ends at ``num_steps``. E.g. 203 steps (4 s) ->
    (80, 144, 203); 53 steps -> (53,).
    """
    count = max(1, min(count, num_steps // max(1, min_steps)))
    ends = {min(num_steps, -(-(num_steps * i // count) // 16) * 16) for i in range(1, count + 1)}
    return tuple(sorted(e for e in ends | {num_steps} if e > 0))


def shares_video_memory(use_video_rows: tuple[bool, ...]) -> bool:
    """Whether the sampler's default stores the video memory once per kind for these rows.

    ``use_video_rows``: per row (branch-major), whether it sees the video or the null video.
    Yes for a single run of rows of one kind, or when the runs average 2+ rows. On the CPU
    (``experiments/bench_memory_layout.py``) sharing is faster at batch 8 and for one row, and
    slower for CFG's 2-3 runs of one row each at batch 1.
    """
    runs = len(video_row_runs(use_video_rows)[1])
    return runs == 1 or len(use_video_rows) >= 2 * runs


def _grow(x_bhlk: jax.Array, length: int) -> jax.Array:
    """A cache array [B, H, L, K] zero-padded along L to ``length``."""
    return jnp.pad(x_bhlk, ((0, 0), (0, 0), (0, length - x_bhlk.shape[2]), (0, 0)))


def _sample_window(
    graphdef,
    params,
    frames_1fhwc,
    fps,
    text_rble,
    mask_rbl,
    prompt_btk,
    num_prompt,
    keys_b,
    *,
    guidance: Guidance,
    method: SamplingMethod,
    num_frames: int,
    record_logits: bool,
    cache_segment_steps: int = MIN_SEGMENT_STEPS,
    share_video: bool | None = None,
):
    """Samples one window of ``num_frames`` codec frames. Returns (tokens_btk, logits_bskv)."""
    model = nnx.merge(graphdef, params)
    cfg = model.cfg
    k, v, pad = cfg.num_codebooks, cfg.codebook_size, cfg.pad_id
    r = len(guidance.branches)
    b = keys_b.shape[0]
    num_steps = num_frames + k - 1
    # Static (from the guidance): which rows see the video and which the null video.
    use_video = tuple(branch.video for branch in guidance.branches for _ in range(b))
    if share_video is None:
        share_video = shares_video_memory(use_video)
    conditions = model.prepare_conditions(
        frames_1fhwc,  # one video for all R * B rows: encoded once, not per row
        fps,
        text_rble.reshape(r * b, *text_rble.shape[2:]),
        mask_rbl.reshape(r * b, -1),
        num_steps=num_steps,
        use_video_b=use_video if share_video else jnp.asarray(use_video),
        share_video=share_video,
    )
    prompt_seq_bsk = build_delay(prompt_btk, pad)
    ends = cache_segments(num_steps, min_steps=cache_segment_steps)
    codebook_k = jnp.arange(k)

    def body(state: SamplerState) -> SamplerState:
        s = state.step
        prev_b1k = jax.lax.dynamic_slice_in_dim(state.seq_bsk, jnp.maximum(s - 1, 0), 1, axis=1)
        inputs_b1k = jnp.where(s == 0, pad, prev_b1k)
        inputs_rb1k = jnp.tile(inputs_b1k, (r, 1, 1))
        logits_rb1kv, cache = model.decode_step(inputs_rb1k, s, conditions, state.cache)
        logits_bkv = guidance.combine(split_branches(logits_rb1kv[:, 0], r))
        step_keys_b = jax.vmap(jax.random.fold_in, in_axes=(0, None))(state.keys_b, s)
        ids_bk = method(logits_bkv, step_keys_b)
        frame_k = s - codebook_k  # codec frame each codebook's slot holds at this step
        valid_k = (frame_k >= 0) & (frame_k < num_frames)
        forced_k = valid_k & (frame_k < num_prompt)
        prompt_bk = jax.lax.dynamic_index_in_dim(prompt_seq_bsk, s, axis=1, keepdims=False)
        ids_bk = jnp.where(forced_k, prompt_bk, jnp.where(valid_k, ids_bk, pad))
        seq = jax.lax.dynamic_update_slice_in_dim(state.seq_bsk, ids_bk[:, None], s, axis=1)
        logits = state.logits_bskv
        if record_logits:
            logits = jax.lax.dynamic_update_slice_in_dim(logits, logits_bkv[:, None], s, axis=1)
        return SamplerState(s + 1, seq, cache, state.keys_b, logits)

    init = SamplerState(
        step=jnp.zeros((), jnp.int32),
        seq_bsk=jnp.full((b, num_steps, k), pad, jnp.int32),
        cache=model.init_cache(r * b, ends[0]),
        keys_b=keys_b,
        logits_bskv=jnp.zeros((b, num_steps if record_logits else 0, k, v), jnp.float32),
    )
    state = init
    for end in ends:
        state = state.replace(cache=jax.tree.map(lambda x, end=end: _grow(x, end), state.cache))
        state = jax.lax.while_loop(lambda st, end=end: st.step < end, body, state)
    return revert_delay(state.seq_bsk, num_frames), state.logits_bskv


STATIC_ARGNAMES = (  # of ``_sample_window``: one compiled program per combination
    "graphdef",
    "guidance",
    "method",
    "num_frames",
    "record_logits",
    "cache_segment_steps",
    "share_video",
)
_sample_window_jit = jax.jit(_sample_window, static_argnames=STATIC_ARGNAMES)


def compiled_programs() -> int:
    """How many sampler programs have been compiled in this process (for no-recompile tests)."""
    return _sample_window_jit._cache_size()


def sample_window(
    model,
    frames_fhwc,
    fps: float,
    text_rble,
    mask_rbl,
    guidance: Guidance,
    method: SamplingMethod,
    keys_b,
    num_frames: int,
    prompt_btk=None,
    num_prompt: int = 0,
    record_logits: bool = False,
    split=None,
    cache_segment_steps: int = MIN_SEGMENT_STEPS,
    share_video: bool | None = None,
):
    """Samples ``num_frames`` codec frames for ``B`` variations of one video.

    Args:
        model: a ``TokenLM``.
        frames_fhwc: uint8 [F, H, W, 3] of this window, at ``fps``, frame 0 at the window's start.
        fps: frame rate of ``frames_fhwc``.
        text_rble: float32 [R, B, L, E] text states per branch (``guidance.branches`` order).
        mask_rbl: bool [R, B, L].
        guidance: which branches and how they combine.
        method: how tokens are drawn.
        keys_b: [B] typed PRNG keys, one per sample.
        num_frames: T of the window (static: one program per value).
        prompt_btk: int32 [B, T, K] tokens forced for the first ``num_prompt`` frames (the
            overlap carried over from the previous window); None for none.
        num_prompt: frames of ``prompt_btk`` to force (traced: no recompile per value).
        record_logits: also return the guided logits of every step (tests, analysis).
        split: ``nnx.split(model)`` when the caller keeps it (saves walking the graph per call).
        cache_segment_steps: the shortest decoding loop with a cache of its own (see
            ``cache_segments``); larger compiles faster, smaller decodes long windows faster.
        share_video: store the video's cross-attention memory once per kind (video, null
            video) rather than once per row (``Conditions``); None picks by
            ``shares_video_memory``. The same tokens up to rounding either way.

    Returns:
        int32 tokens_btk [B, T, K] (delay reverted), and float32 logits_bskv [B, S, K, V] when
        ``record_logits`` (else None).
    """
    graphdef, params = split if split is not None else nnx.split(model)
    b, k = keys_b.shape[0], model.cfg.num_codebooks
    r = len(guidance.branches)
    if text_rble.shape[:2] != (r, b) or mask_rbl.shape != text_rble.shape[:3]:
        raise ValueError(
            f"text must be [R={r}, B={b}, L, E] with a [R, B, L] mask for {guidance} and {b} "
            f"keys, got {tuple(text_rble.shape)} and {tuple(mask_rbl.shape)}"
        )
    if prompt_btk is None:
        prompt_btk = jnp.zeros((b, num_frames, k), jnp.int32)
    tokens_btk, logits = _sample_window_jit(
        graphdef,
        params,
        jnp.asarray(frames_fhwc, jnp.uint8)[None],
        jnp.float32(fps),
        jnp.asarray(text_rble, jnp.float32),
        jnp.asarray(mask_rbl, bool),
        jnp.asarray(prompt_btk, jnp.int32),
        jnp.int32(num_prompt),
        keys_b,
        guidance=guidance,
        method=method,
        num_frames=int(num_frames),
        record_logits=record_logits,
        cache_segment_steps=int(cache_segment_steps),
        share_video=share_video,
    )
    return tokens_btk, (logits if record_logits else None)
