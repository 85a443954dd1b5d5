"""The AR sampler: cache equivalence, no recompiles, per-seed reproducibility, guidance stacking,
prompt forcing and windowed continuation over a video several times the model's window."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from sampling_fixtures import tiny_model

from v2a_jax.codec.patterns import build_delay
from v2a_jax.models import MODEL_PRESETS, teacher_forcing_inputs
from v2a_jax.sampling.continuation import generate_tokens, plan_windows
from v2a_jax.sampling.guidance import CommonCFG, NoGuidance, SeparateCFG
from v2a_jax.sampling.methods import Greedy, TopK
from v2a_jax.sampling.sampler import cache_segments, compiled_programs, sample_window

CFG = MODEL_PRESETS["tiny"]  # max_steps 64: windows of 61 codec frames (1.22 s)
L, E = 6, CFG.text_dim


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _frames(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


def _text(guidance, b, seed=1):
    r = len(guidance.branches)
    text = np.random.default_rng(seed).normal(size=(1, 1, L, E)).astype(np.float32)
    text_rble = np.broadcast_to(text, (r, b, L, E)).copy()
    mask_rbl = np.ones((r, b, L), bool)
    for i, br in enumerate(guidance.branches):
        if br.text == "none":
            text_rble[i], mask_rbl[i] = 0.0, False
    return text_rble, mask_rbl


def _keys(seeds):
    return jnp.stack([jax.random.key(s) for s in seeds])


@pytest.mark.parametrize("segment_steps", [64, 8])  # one loop; loops with a growing cache
def test_cached_decoding_matches_one_full_forward_pass(model, segment_steps):
    g, b, t = NoGuidance(), 2, 24
    text, mask = _text(g, b)
    frames = _frames(12)
    segments = cache_segments(t + CFG.num_codebooks - 1, min_steps=segment_steps)
    assert (len(segments) > 1) == (segment_steps == 8)
    tokens, logits = sample_window(
        model, frames, 25.0, text, mask, g, Greedy(), _keys([0, 1]), t, record_logits=True,
        cache_segment_steps=segment_steps,
    )  # fmt: skip
    assert tokens.shape == (b, t, CFG.num_codebooks)
    assert int(tokens.min()) >= 0 and int(tokens.max()) < CFG.codebook_size
    seq = build_delay(tokens, CFG.pad_id)

    @nnx.jit
    def full_pass(model, frames_bfhwc, seq_bsk):  # jitted: eager dispatch is slow on a busy CPU
        cond = model.prepare_conditions(
            frames_bfhwc, 25.0, text[0], mask[0], num_steps=seq_bsk.shape[1],
            use_video_b=jnp.ones(b, bool),
        )  # fmt: skip
        return model(teacher_forcing_inputs(seq_bsk, CFG.pad_id), cond)

    full = full_pass(model, jnp.broadcast_to(frames[None], (b, *frames.shape)), seq)
    np.testing.assert_allclose(logits, full, atol=1e-4, rtol=1e-4)


G3 = SeparateCFG.from_scale(3.0, True)  # all four branches
METHOD = TopK(5, temperature=1.5)


def test_no_recompile_prompt_forcing_and_per_seed_reproducibility(model):
    b, t, p = 2, 16, 6
    text, mask = _text(G3, b)
    first, _ = sample_window(model, _frames(8), 25.0, text, mask, G3, METHOD, _keys([0, 1]), t)
    before = compiled_programs()
    prompt = np.random.default_rng(0).integers(0, CFG.codebook_size, (b, t, CFG.num_codebooks))
    for seeds, n_prompt in (([3, 4], 0), ([5, 6], p), ([7, 8], 9)):
        out, _ = sample_window(
            model, _frames(8, seed=seeds[0]), 25.0, text, mask, G3, METHOD, _keys(seeds), t,
            prompt_btk=prompt.astype(np.int32), num_prompt=n_prompt,
        )  # fmt: skip
        np.testing.assert_array_equal(out[:, :n_prompt], prompt[:, :n_prompt])  # forced
        assert not np.array_equal(out[:, n_prompt:], prompt[:, n_prompt:])
    assert compiled_programs() == before  # new seeds, frames and prompt lengths: same program
    # Sample 1 of the batch of 2 again, alone: same tokens (its own seed, whatever N).
    text1, mask1 = _text(G3, 1)
    one, _ = sample_window(model, _frames(8), 25.0, text1, mask1, G3, METHOD, _keys([1]), t)
    np.testing.assert_array_equal(one[0], first[1])
    assert not np.array_equal(first[0], first[1])  # different seeds, different samples
    assert compiled_programs() == before + 1  # a new batch size compiles once


def test_guidance_branches_are_stacked_in_the_right_order(model):
    # With unit weights every form reduces to the video+prompt branch alone: same logits.
    frames, t, keys = _frames(8), 12, _keys([0, 1])
    ref_g = NoGuidance()
    text, mask = _text(ref_g, 2)
    _, ref = sample_window(
        model, frames, 25.0, text, mask, ref_g, Greedy(), keys, t, record_logits=True
    )
    for g in (SeparateCFG(video=1.0, prompt=1.0, negative=0.0), CommonCFG(1.0, False)):
        text, mask = _text(g, 2)
        _, got = sample_window(
            model, frames, 25.0, text, mask, g, Greedy(), keys, t, record_logits=True
        )
        np.testing.assert_allclose(got, ref, atol=1e-5, rtol=1e-5)


def test_plan_windows_cover_and_align():
    assert plan_windows(50, 61, 25, 2) == [plan_windows(50, 61, 25, 2)[0]]
    wins = plan_windows(300, 61, 25, 2)
    assert wins[0].start == 0 and wins[0].num_prompt == 0
    assert all(w.start % 2 == 0 and w.length == 61 for w in wins)
    for prev, cur in zip(wins, wins[1:], strict=False):
        assert cur.num_prompt == prev.start + 61 - cur.start >= 25
    assert wins[-1].start + 61 >= 300 > wins[-2].start + 61
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(300, 61, 61, 2)


def test_long_video_by_windowed_continuation(model):
    # 6 s of video: 300 codec frames, about 5 windows of the tiny model's 61.
    g = G3
    frames = _frames(150)
    text, mask = _text(g, 2)
    calls = []
    before = compiled_programs()
    out = generate_tokens(
        model, frames, 25.0, text, mask, g, METHOD, [0, 1], num_frames=300, overlap_s=0.5,
        progress=lambda i, n: calls.append((i, n)),
    )  # fmt: skip
    assert out.shape == (2, 300, CFG.num_codebooks)
    assert len(calls) >= 5 and calls[-1][0] == calls[-1][1]
    assert compiled_programs() - before <= 1  # every window reuses one program
    text1, mask1 = _text(g, 1)
    again = generate_tokens(
        model, frames, 25.0, text1, mask1, g, METHOD, [1], num_frames=300, overlap_s=0.5
    )
    np.testing.assert_array_equal(again[0], out[1])  # per-seed reproducible across windows
    # the later windows are sampled, not copies of the first one
    assert not np.array_equal(out[:, 61:122], out[:, :61])
