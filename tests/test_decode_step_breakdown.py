"""experiments/decode_step_breakdown.py: the sizes it divides by, and patches that never leak."""

import pytest
from experiment_scripts import load_experiment

from v2a_jax.layers import attention, mlp
from v2a_jax.models import MODEL_PRESETS, token_lm


def test_part_sizes_of_the_small_model_at_batch_8():
    bd = load_experiment("decode_step_breakdown")
    cfg = MODEL_PRESETS["small"]  # D 256, 4 heads of 64, MLP 768, 6 layers, K 4, V 1024
    sizes = bd.part_sizes(cfg, batch=8, steps=203, video_len=100, text_len=32, itemsize=4)
    assert sizes["mlp"]["bytes_per_step"] == 6 * 3 * 256 * 768 * 4
    assert sizes["mlp"]["flops_per_step"] == 6 * 2 * 8 * 3 * 256 * 768
    assert sizes["heads"]["bytes_per_step"] == 4 * 256 * 1024 * 4
    # cross-attention: Q and O kernels, plus keys and values of 100 shared + 8 x 32 text rows
    assert sizes["cross_attention"]["bytes_per_step"] == 6 * (2 * 256 * 256 + 2 * 4 * 356 * 64) * 4
    # self-attention: 4 kernels, plus the cache at its mean length over segments (80, 144, 203)
    mean = (80 * 80 + 64 * 144 + 59 * 203) / 203
    expect = 6 * (4 * 256 * 256 + 8 * 2 * 4 * mean * 64) * 4
    assert sizes["self_attention"]["bytes_per_step"] == pytest.approx(expect, abs=4 * 6)


def test_ablations_restore_the_model_after_each_call_even_when_it_fails():
    bd = load_experiment("decode_step_breakdown")
    originals = (mlp.GatedMLP.__call__, attention.CrossAttention.__call__, attention._attend,
                 token_lm.jnp)  # fmt: skip
    seen = []

    def run():
        seen.append(mlp.GatedMLP.__call__ is bd._identity_mlp)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        bd.ablated(run, bd.ABLATIONS["mlp"])()
    assert seen == [True]
    for name in ("full", "cross_attention", "self_attention", "heads"):
        bd.ablated(lambda: 0, bd.ABLATIONS[name])()
    now = (mlp.GatedMLP.__call__, attention.CrossAttention.__call__, attention._attend,
           token_lm.jnp)  # fmt: skip
    assert all(a is b for a, b in zip(now, originals, strict=True))
