"""Guidance: the separate-weights form, its defaults, and how it relates to the common form."""

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
    keys = jax.random.split(jax.random.key(seed), len(Branch))
    return {br: jax.random.normal(keys[int(br)], (b, k, v)) for br in Branch}


def _stacked(logits, guidance):
    return np.stack([logits[b] for b in guidance.branches])


@pytest.mark.parametrize("scale", [1.0, 2.5, 4.0])
@pytest.mark.parametrize("has_negative", [False, True])
def test_separate_form_reduces_to_common_form(scale, has_negative):
    # the defaults without a negative prompt; w_v = 1, w_n = s - 1 against the video with one
    logits = _branches(seed=int(scale * 10) + has_negative)
    if has_negative:
        sep = SeparateCFG.from_scale(
            scale, True, video=1.0, negative=scale - 1.0, negative_reference="video"
        )
    else:
        sep = SeparateCFG.from_scale(scale, False)
    com = CommonCFG(scale, has_negative)
    got = sep.combine(_stacked(logits, sep))
    want = com.combine(_stacked(logits, com))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # and the common form is the formula of the docstring
    neg = logits[Branch.VIDEO_NEGATIVE] if has_negative else logits[Branch.NULL]
    np.testing.assert_allclose(
        want, neg + scale * (logits[Branch.VIDEO_PROMPT] - neg), rtol=1e-5, atol=1e-5
    )


def test_defaults_with_a_negative_prompt_keep_the_video_weight():
    logits = _branches(seed=3)
    g = SeparateCFG.from_scale(3.0, True)
    assert (g.video, g.prompt, g.negative, g.negative_reference) == (3.0, 3.0, 4.0, "null")
    plain = SeparateCFG.from_scale(3.0, False)
    l0, ln = logits[Branch.NULL], logits[Branch.NEGATIVE]
    want = plain.combine(_stacked(logits, plain)) - 4.0 * (ln - l0)
    np.testing.assert_allclose(g.combine(_stacked(logits, g)), want, rtol=1e-5, atol=1e-5)
    # unguided (s = 1) with a negative prompt: the negative prompt still acts
    assert SeparateCFG.from_scale(1.0, True).negative == 1.0


def test_separate_weights_formula_and_overrides():
    logits = _branches(seed=5)
    sep = SeparateCFG.from_scale(3.0, True, video=0.5, negative=6.0, negative_reference="video")
    assert (sep.video, sep.prompt, sep.negative) == (0.5, 3.0, 6.0)
    l0, lv, lvp, lvn = (logits[b] for b in list(Branch)[:4])
    want = l0 + 0.5 * (lv - l0) + 3.0 * (lvp - lv) - 6.0 * (lvn - lv)
    np.testing.assert_allclose(sep.combine(_stacked(logits, sep)), want, rtol=1e-5, atol=1e-5)


def test_negative_weight_pushes_away_from_negative_branch():
    # The negative prompt raises token 0 on top of the video; a larger w_n lowers it further.
    base = np.zeros((1, 1, 4), np.float32)
    logits = {b: base.copy() for b in Branch}
    logits[Branch.VIDEO_NEGATIVE] = base + np.array([2.0, 0, 0, 0], np.float32)
    logits[Branch.NEGATIVE] = logits[Branch.VIDEO_NEGATIVE]
    weak = SeparateCFG.from_scale(2.0, True).combine(
        _stacked(logits, SeparateCFG.from_scale(2.0, True))
    )
    strong_g = SeparateCFG.from_scale(2.0, True, negative=5.0)
    strong = strong_g.combine(_stacked(logits, strong_g))
    assert strong[0, 0, 0] < weak[0, 0, 0] < 0


def test_null_reference_measures_the_negative_without_the_picture():
    logits = _branches(seed=7)
    g = make_guidance(3.0, True, video=3.0, negative=4.0, negative_reference="null")
    assert g.branches[-1] is Branch.NEGATIVE
    assert Branch.NEGATIVE.video is False and Branch.NEGATIVE.text == "negative"
    l0, lv, lvp, ln = (logits[b] for b in (Branch.NULL, Branch.VIDEO, Branch.VIDEO_PROMPT,
                                           Branch.NEGATIVE))  # fmt: skip
    want = l0 + 3.0 * (lv - l0) + 3.0 * (lvp - lv) - 4.0 * (ln - l0)
    np.testing.assert_allclose(g.combine(_stacked(logits, g)), want, rtol=1e-5, atol=1e-5)


def test_null_reference_removes_a_sound_the_video_already_predicts():
    # Token 0 is "rain": the video predicts it, so "rain" adds nothing on top of the video
    # (l_vn == l_v), but alone "rain" raises it (l_n > l_0). Only the null reference lowers it.
    rain = np.array([[[2.0, 0, 0, 0]]], np.float32)
    logits = {b: np.zeros((1, 1, 4), np.float32) for b in Branch}
    for b in (Branch.VIDEO, Branch.VIDEO_PROMPT, Branch.VIDEO_NEGATIVE, Branch.NEGATIVE):
        logits[b] = logits[b] + rain
    no_neg = make_guidance(3.0, False)
    by_video = make_guidance(3.0, True, video=3.0, negative_reference="video")
    by_null = make_guidance(3.0, True, video=3.0, negative_reference="null")
    out = {g: g.combine(_stacked(logits, g))[0, 0, 0] for g in (no_neg, by_video, by_null)}
    assert out[by_video] == pytest.approx(out[no_neg])
    assert out[by_null] < out[no_neg] - 3.0


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
    with pytest.raises(ValueError, match="form='separate'"):
        make_guidance(3.0, True, form="common", negative_reference="null")
    with pytest.raises(ValueError, match="negative_reference"):
        make_guidance(3.0, True, negative_reference="picture")


def test_stack_and_split_round_trip():
    logits = _branches()
    g = SeparateCFG.from_scale(3.0, True)
    rb = stack_branches(logits, g.branches)
    assert rb.shape[0] == 8
    r = split_branches(rb, 4)
    np.testing.assert_array_equal(r[3], logits[Branch.NEGATIVE])
