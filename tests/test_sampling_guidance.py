"""Guidance: the separate-weights form reduces to the common form at its defaults."""

import jax
import numpy as np
import pytest

from v2a_jax.sampling.guidance import (
    Branch,
    CommonCFG,
    NoGuidance,
    SeparateCFG,
    make_guidance,
    split_branches,
    stack_branches,
)


def _branches(seed=0, b=2, k=3, v=11):
    keys = jax.random.split(jax.random.key(seed), 4)
    return {br: jax.random.normal(keys[int(br)], (b, k, v)) for br in Branch}


def _stacked(logits, guidance):
    return np.stack([logits[b] for b in guidance.branches])


@pytest.mark.parametrize("scale", [1.0, 2.5, 4.0])
@pytest.mark.parametrize("has_negative", [False, True])
def test_default_weights_reduce_to_common_form(scale, has_negative):
    logits = _branches(seed=int(scale * 10) + has_negative)
    sep = SeparateCFG.from_scale(scale, has_negative)
    com = CommonCFG(scale, has_negative)
    got = sep.combine(_stacked(logits, sep))
    want = com.combine(_stacked(logits, com))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # and the common form is the formula of the docstring
    neg = logits[Branch.VIDEO_NEGATIVE] if has_negative else logits[Branch.NULL]
    np.testing.assert_allclose(
        want, neg + scale * (logits[Branch.VIDEO_PROMPT] - neg), rtol=1e-5, atol=1e-5
    )


def test_separate_weights_formula_and_overrides():
    logits = _branches(seed=5)
    sep = SeparateCFG.from_scale(3.0, True, video=0.5, negative=6.0)
    assert (sep.video, sep.prompt, sep.negative) == (0.5, 3.0, 6.0)
    l0, lv, lvp, lvn = (logits[b] for b in Branch)
    want = l0 + 0.5 * (lv - l0) + 3.0 * (lvp - lv) - 6.0 * (lvn - lv)
    np.testing.assert_allclose(sep.combine(_stacked(logits, sep)), want, rtol=1e-5, atol=1e-5)


def test_negative_weight_pushes_away_from_negative_branch():
    # The negative prompt raises token 0 on top of the video; a larger w_n lowers it further.
    base = np.zeros((1, 1, 4), np.float32)
    logits = {b: base.copy() for b in Branch}
    logits[Branch.VIDEO_NEGATIVE] = base + np.array([2.0, 0, 0, 0], np.float32)
    weak = SeparateCFG.from_scale(2.0, True).combine(
        _stacked(logits, SeparateCFG.from_scale(2.0, True))
    )
    strong_g = SeparateCFG.from_scale(2.0, True, negative=5.0)
    strong = strong_g.combine(_stacked(logits, strong_g))
    assert strong[0, 0, 0] < weak[0, 0, 0] < 0


def test_branch_sets_and_make_guidance():
    assert make_guidance(1.0, False) == NoGuidance()
    assert NoGuidance().branches == (Branch.VIDEO_PROMPT,)
    assert make_guidance(3.0, False, form="common").branches == (Branch.NULL, Branch.VIDEO_PROMPT)
    assert make_guidance(3.0, True, form="common").branches[0] is Branch.VIDEO_NEGATIVE
    assert len(make_guidance(3.0, False).branches) == 3  # w_n = 0: l_vn is not computed
    assert len(make_guidance(3.0, True).branches) == 4
    assert Branch.NULL.video is False and Branch.VIDEO_NEGATIVE.text == "negative"
    with pytest.raises(ValueError, match="needs a negative prompt"):
        make_guidance(3.0, False, negative=2.0)
    with pytest.raises(ValueError, match=">= 1"):
        make_guidance(0.5, False)
    with pytest.raises(ValueError, match="form"):
        make_guidance(3.0, False, form="other")
    with pytest.raises(ValueError, match="form='separate'"):
        make_guidance(3.0, True, form="common", video=1.0)


def test_stack_and_split_round_trip():
    logits = _branches()
    g = SeparateCFG.from_scale(3.0, True)
    rb = stack_branches(logits, g.branches)
    assert rb.shape[0] == 8
    r = split_branches(rb, 4)
    np.testing.assert_array_equal(r[3], logits[Branch.VIDEO_NEGATIVE])
