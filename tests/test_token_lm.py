"""TokenLM: presets, shapes, cached decoding == full pass, overfitting, condition dropout,
time alignment.

Tolerance policy (not loosened to pass): 1e-4 for composite float32 computations (a full
transformer pass against step-by-step decoding), 1e-5 for simple ops (interpolation).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from v2a_jax.codec.patterns import build_delay
from v2a_jax.conditioning.alignment import resample_to_steps
from v2a_jax.conditioning.cfg_dropout import drop_text, null_text, sample_keep
from v2a_jax.models import (
    MODEL_PRESETS,
    ModelConfig,
    build_model,
    init_model,
    teacher_forcing_inputs,
)
from v2a_jax.models.losses import lm_loss

TINY = MODEL_PRESETS["tiny"]


def make_batch(cfg: ModelConfig, b=2, t=10, f=5, l=6, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "tokens": rng.integers(0, cfg.codebook_size, (b, t, cfg.num_codebooks)).astype(np.int32),
        "frames": rng.integers(0, 256, (b, f, cfg.video.height, cfg.video.width, 3)).astype(
            np.uint8
        ),
        "text_emb": rng.normal(size=(b, l, cfg.text_dim)).astype(np.float32),
        "text_mask": np.arange(l)[None] < rng.integers(1, l + 1, (b, 1)),
    }


def param_count(model) -> int:
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


@pytest.fixture(scope="module")
def tiny():
    return init_model(TINY, seed=0)  # one compile; eager op-by-op init is slow on a busy CPU


def conditions_for(model, batch, num_steps=None, use_video_b=None):
    return model.prepare_conditions(
        jnp.asarray(batch["frames"]),
        25.0,
        jnp.asarray(batch["text_emb"]),
        jnp.asarray(batch["text_mask"]),
        num_steps=num_steps,
        use_video_b=use_video_b,
    )


def jitted(model, fn):
    """``fn(model, *args)`` as one jitted function of the model's state (tests stay fast)."""
    graphdef, state = nnx.split(model)
    compiled = jax.jit(lambda state, *args: fn(nnx.merge(graphdef, state), *args))
    return lambda *args: compiled(state, *args)


@pytest.mark.parametrize(
    ("name", "low", "high"), [("tiny", 3e4, 1.5e5), ("small", 5e6, 1e7), ("base", 1e8, 3e8)]
)
def test_presets_build_with_expected_size(name, low, high):
    cfg = MODEL_PRESETS[name]
    model = nnx.eval_shape(lambda: build_model(cfg, nnx.Rngs(0)))  # shapes only, no memory
    n = param_count(model)
    assert low <= n <= high, f"{name}: {n} parameters"


def test_shapes_and_dtypes(tiny):
    batch = make_batch(TINY)

    def run(model, batch):
        seq = build_delay(jnp.asarray(batch["tokens"]), TINY.pad_id)
        cond = conditions_for(model, batch, num_steps=seq.shape[1])
        return cond, model(teacher_forcing_inputs(seq, TINY.pad_id), cond)

    cond, logits = jitted(tiny, run)(batch)
    assert cond.video_bsd.shape == (2, 13, TINY.d_model)
    assert cond.memory_mask_bm.shape == (2, 5 + 6)
    assert len(cond.cross_kv) == TINY.num_layers
    assert logits.shape == (2, 13, TINY.num_codebooks, TINY.codebook_size)
    assert logits.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(logits)))


def test_bfloat16_compute_keeps_float32_logits(tiny):
    cfg = dataclasses.replace(TINY, dtype="bfloat16")
    # Same parameters (param_dtype float32), bf16 compute: reuse the fixture's state.
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: build_model(cfg, nnx.Rngs(0))))
    model = nnx.merge(graphdef, nnx.state(tiny))
    loss = jitted(model, lambda m, b: lm_loss(m, b, jax.random.key(0), False)[0])(make_batch(cfg))
    assert loss.dtype == jnp.float32 and np.isfinite(float(loss))


def test_bfloat16_weights_track_the_float32_logits(tiny):
    """bf16 parameters and compute (float32 accumulation, float32 KV cache): the teacher-forced
    logits stay within bf16 rounding of the float32 ones, and decoding step by step agrees
    with the full pass."""
    cfg = dataclasses.replace(TINY, dtype="bfloat16", param_dtype="bfloat16")
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: build_model(cfg, nnx.Rngs(0))))
    state = jax.tree.map(lambda x: x.astype(jnp.bfloat16), nnx.state(tiny))
    half = nnx.merge(graphdef, state)
    batch = make_batch(TINY, b=2, t=12)

    def full_and_first_steps(model, batch):
        seq = build_delay(jnp.asarray(batch["tokens"]), TINY.pad_id)
        inputs = teacher_forcing_inputs(seq, TINY.pad_id)
        cond = conditions_for(model, batch)
        cache, stepped = model.init_cache(2), []
        for step in range(4):
            logits, cache = model.decode_step(inputs[:, step : step + 1], step, cond, cache)
            stepped.append(logits)
        return model(inputs, cond), jnp.concatenate(stepped, axis=1)

    ref, _ = jitted(tiny, full_and_first_steps)(batch)
    full, stepped = jitted(half, full_and_first_steps)(batch)
    ref, full, stepped = (np.asarray(x, np.float32) for x in (ref, full, stepped))
    assert full.dtype == np.float32 and stepped.dtype == np.float32
    scale = ref.std()
    assert np.abs(full - ref).max() < 0.05 * scale, (np.abs(full - ref).max(), scale)
    assert np.abs(stepped - full[:, :4]).max() < 0.05 * scale
    agree = (full.argmax(-1) == ref.argmax(-1)).mean()
    assert agree > 0.8, agree


def test_step_by_step_decoding_with_cache_matches_full_pass(tiny):
    batch = make_batch(TINY, b=2, t=12)

    def both(model, batch):
        seq = build_delay(jnp.asarray(batch["tokens"]), TINY.pad_id)
        inputs = teacher_forcing_inputs(seq, TINY.pad_id)
        cond = conditions_for(model, batch)  # cfg.max_steps long, as the sampler prepares them
        full = model(inputs, cond)

        # The sampler's shape of loop: a traced step, the cache in the carry, static shapes.
        def body(step, carry):
            cache, out = carry
            tok = jax.lax.dynamic_slice_in_dim(inputs, step, 1, axis=1)
            logits, cache = model.decode_step(tok, step, cond, cache)
            return cache, jax.lax.dynamic_update_slice_in_dim(out, logits, step, axis=1)

        init = (model.init_cache(2), jnp.zeros(full.shape, jnp.float32))
        stepped = jax.lax.fori_loop(0, inputs.shape[1], body, init)[1]
        return full, stepped

    full, stepped = jitted(tiny, both)(batch)
    assert full.shape[1] == 12 + TINY.num_codebooks - 1
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(full), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("use_video", "groups", "runs"),
    [
        (None, 1, 1),
        ((True,) * 4, 1, 1),
        ((True, True, False, False), 2, 2),  # CFG's layout: a run of rows per branch
        ((True, False, True, False), 2, 4),
        ((False,) * 4, 1, 1),
    ],
)
def test_shared_video_memory_gives_the_per_row_logits(tiny, use_video, groups, runs):
    # The sampler's layout (one video's memory stored once per group: video / null video, in
    # runs of rows) against the training layout (the same video copied into every row).
    b = 4
    batch = make_batch(TINY, b=b, t=6, seed=5)
    one_video = jnp.asarray(batch["frames"][:1])
    flags = None if use_video is None else jnp.asarray(use_video)

    def both(model, text, mask):
        seq = build_delay(jnp.asarray(batch["tokens"]), TINY.pad_id)
        inputs = teacher_forcing_inputs(seq, TINY.pad_id)
        per_row = model.prepare_conditions(
            jnp.broadcast_to(one_video, (b, *one_video.shape[1:])), 25.0, text, mask,
            use_video_b=flags,
        )  # fmt: skip
        shared = model.prepare_conditions(
            one_video, 25.0, text, mask, use_video_b=use_video, share_video=True
        )
        return model(inputs, per_row), model(inputs, shared), shared

    per_row, shared, cond = jitted(tiny, both)(batch["text_emb"], batch["text_mask"])
    assert len(cond.shared_blocks) == runs
    assert cond.shared_kv[0][0].shape[0] == groups
    np.testing.assert_allclose(np.asarray(shared), np.asarray(per_row), atol=1e-4, rtol=1e-4)


def test_shared_video_memory_needs_one_video(tiny):
    batch = make_batch(TINY, b=2)
    frames, text, mask = (jnp.asarray(batch[k]) for k in ("frames", "text_emb", "text_mask"))
    with pytest.raises(ValueError, match="share_video needs one video"):
        tiny.prepare_conditions(frames, 25.0, text, mask, share_video=True)


def test_loss_decreases_on_a_tiny_batch(tiny):
    model = tiny  # updated functionally below; the fixture itself is left as it is
    batch = make_batch(TINY, b=2, t=8, seed=3)
    graphdef, params = nnx.split(model)
    opt = optax.adam(3e-3)
    opt_state = opt.init(params)

    @jax.jit
    def step(params, opt_state):
        def loss_fn(p):
            return lm_loss(nnx.merge(graphdef, p), batch, jax.random.key(0), train=False)[0]

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    losses = []
    for _ in range(50):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    assert losses[0] > np.log(TINY.codebook_size) * 0.7  # starts near chance
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_loss_metrics_and_pad_masking(tiny):
    batch = make_batch(TINY)
    loss, metrics = jitted(tiny, lambda m, b: lm_loss(m, b, jax.random.key(0), False))(batch)
    ce = [float(metrics[f"ce_k{k}"]) for k in range(TINY.num_codebooks)]
    # every codebook has the same number of real slots (T), so the mean is the mean of the CEs
    np.testing.assert_allclose(float(loss), np.mean(ce), rtol=1e-5)
    assert 0.0 <= float(metrics["accuracy"]) <= 1.0


def test_bad_inputs_get_clear_errors(tiny):
    batch = make_batch(TINY)
    with pytest.raises(ValueError, match="frames must be uint8"):
        tiny.prepare_conditions(
            jnp.zeros((2, 3, 32, 32, 3), jnp.uint8), 25.0, batch["text_emb"], batch["text_mask"]
        )
    with pytest.raises(ValueError, match="text_emb must be"):
        tiny.prepare_conditions(
            batch["frames"], 25.0, np.zeros((2, 4, 7), np.float32), np.ones((2, 4), bool)
        )
    with pytest.raises(ValueError, match=r"batch\['tokens'\] must be"):
        lm_loss(tiny, {**batch, "tokens": batch["tokens"][..., :2]}, jax.random.key(0), False)


# -- condition dropout -----------------------------------------------------------------------


def test_condition_dropout_rates_are_exclusive_and_respected():
    keep_text, keep_video = sample_keep(jax.random.key(0), 40_000, 0.1, 0.2, 0.3)
    keep_text, keep_video = np.asarray(keep_text), np.asarray(keep_video)
    observed = {
        "both": np.mean(~keep_text & ~keep_video),
        "text": np.mean(~keep_text & keep_video),
        "video": np.mean(keep_text & ~keep_video),
    }
    np.testing.assert_allclose(
        [observed["text"], observed["video"], observed["both"]], [0.1, 0.2, 0.3], atol=0.01
    )
    with pytest.raises(ValueError, match="sum to <= 1"):
        sample_keep(jax.random.key(0), 4, 0.5, 0.5, 0.5)


def test_dropped_text_is_the_empty_prompt():
    text, mask = jnp.ones((3, 4, 8)), jnp.ones((3, 4), bool)
    out_text, out_mask = drop_text(text, mask, jnp.array([True, False, True]))
    null, null_mask = null_text(1, 4, 8)
    np.testing.assert_array_equal(np.asarray(out_text[1]), np.asarray(null[0]))
    np.testing.assert_array_equal(np.asarray(out_mask[1]), np.asarray(null_mask[0]))
    np.testing.assert_array_equal(np.asarray(out_text[0]), np.ones((4, 8)))


def test_null_video_ignores_the_frames_and_null_text_ignores_the_states(tiny):
    a, b = make_batch(TINY, seed=1), make_batch(TINY, seed=2)
    inputs = teacher_forcing_inputs(build_delay(jnp.asarray(a["tokens"]), TINY.pad_id), 16)

    def run(model, batch, use_video_b):
        return model(inputs, conditions_for(model, batch, use_video_b=use_video_b))

    compiled = jitted(tiny, run)

    def logits(batch, use_video):
        return np.asarray(compiled(batch, jnp.array([use_video, use_video])))

    # same text, different frames: only the null-video branch is blind to them
    b_same_text = {**b, "text_emb": a["text_emb"], "text_mask": a["text_mask"]}
    np.testing.assert_allclose(logits(a, False), logits(b_same_text, False), atol=1e-6)
    assert np.max(np.abs(logits(a, True) - logits(b_same_text, True))) > 1e-3
    # an all-False mask makes the text states irrelevant, with finite outputs
    empty = {**a, "text_mask": np.zeros_like(a["text_mask"])}
    other = {**empty, "text_emb": b["text_emb"]}
    np.testing.assert_allclose(logits(empty, True), logits(other, True), atol=1e-6)
    assert np.all(np.isfinite(logits(empty, False)))


# -- time alignment --------------------------------------------------------------------------


def test_25fps_onto_50hz_hits_frames_on_even_steps():
    x = np.random.default_rng(0).normal(size=(1, 6, 3)).astype(np.float32)
    lin = np.asarray(resample_to_steps(jnp.asarray(x), 25.0, 50.0, 12))
    np.testing.assert_allclose(lin[0, 0::2], x[0], atol=1e-6)
    np.testing.assert_allclose(lin[0, 1:-1:2], 0.5 * (x[0, :-1] + x[0, 1:]), atol=1e-6)
    np.testing.assert_allclose(lin[0, 11], x[0, 5], atol=1e-6)  # past the end: last frame held
    rep = np.asarray(resample_to_steps(jnp.asarray(x), 25.0, 50.0, 12, mode="repeat"))
    np.testing.assert_array_equal(rep[0], np.repeat(x[0], 2, axis=0))


@pytest.mark.parametrize("fps", [29.97, 24.0, 60.0])
def test_any_fps_maps_time_exactly(fps):
    # Features equal to each frame's timestamp come out as each step's timestamp.
    f = int(2 * fps)
    times = (np.arange(f) / fps).astype(np.float32)[None, :, None]
    out = np.asarray(resample_to_steps(jnp.asarray(times), fps, 50.0, 120))[0, :, 0]
    expected = np.minimum(np.arange(120) / 50.0, (f - 1) / fps)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_per_clip_fps_in_one_batch():
    times = np.stack([np.arange(10) / 25.0, np.arange(10) / 24.0]).astype(np.float32)[..., None]
    out = np.asarray(resample_to_steps(jnp.asarray(times), jnp.array([25.0, 24.0]), 50.0, 16))
    np.testing.assert_allclose(
        out[:, :, 0], np.broadcast_to(np.arange(16) / 50.0, (2, 16)), atol=1e-5
    )
