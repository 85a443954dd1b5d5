"""Delay interleaving: round trips, layout and padding."""

import numpy as np
import pytest

from v2a_jax.codec.patterns import build_delay, num_steps, revert_delay, valid_mask


@pytest.mark.parametrize(("t", "k"), [(1, 1), (5, 1), (7, 4), (3, 8), (50, 4)])
def test_build_then_revert_is_identity(t, k):
    rng = np.random.default_rng(t * 10 + k)
    tokens = rng.integers(0, 1024, size=(2, t, k), dtype=np.int32)
    seq = np.asarray(build_delay(tokens, pad_id=1024))
    assert seq.shape == (2, num_steps(t, k), k)
    np.testing.assert_array_equal(np.asarray(revert_delay(seq)), tokens)


def test_layout_shifts_codebook_k_by_k_steps_and_pads_the_rest():
    tokens = np.arange(12, dtype=np.int32).reshape(1, 4, 3)  # value = 3 * t + k
    seq = np.asarray(build_delay(tokens, pad_id=-1))[0]
    for s in range(seq.shape[0]):
        for k in range(3):
            t = s - k
            expected = 3 * t + k if 0 <= t < 4 else -1
            assert seq[s, k] == expected
    np.testing.assert_array_equal(np.asarray(valid_mask(4, 3)), seq >= 0)


def test_revert_rejects_impossible_lengths():
    with pytest.raises(ValueError, match="cannot revert"):
        revert_delay(np.zeros((1, 3, 4), np.int32))
