"""Training batches: padding and masks, the resumable order, clear errors (v2a_jax.train.data)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from v2a_jax.config import DataConfig
from v2a_jax.models.presets import TINY
from v2a_jax.train.checks import check_tokens_fit
from v2a_jax.train.data import BatchIterator, Position, eval_batches, make_batch

CFG = DataConfig(keys=("tokens",), max_text_len=4, shuffle_seed=3)


def _records(n, t=5, text_lens=None):
    return [
        {
            "clip_id": f"c{i}",
            "tokens": np.full((t, 2), i, np.int32),
            "text_emb": np.full(((text_lens or [2] * n)[i], 3), i + 1, np.float16),
        }
        for i in range(n)
    ]


def test_text_is_padded_or_cut_to_max_len_with_a_mask():
    batch = make_batch(_records(2, text_lens=[2, 6]), ("tokens",), 4)
    assert batch["tokens"].shape == (2, 5, 2) and batch["tokens"].dtype == np.int32
    assert batch["text_emb"].shape == (2, 4, 3) and batch["text_emb"].dtype == np.float32
    np.testing.assert_array_equal(batch["text_mask"], [[1, 1, 0, 0], [1, 1, 1, 1]])
    assert (batch["text_emb"][0, 2:] == 0).all() and (batch["text_emb"][1] == 2).all()


def test_order_is_a_function_of_the_position():
    records = _records(10)
    it = BatchIterator(records, 4, CFG)
    seen = [next(it)["tokens"][:, 0, 0].tolist() for _ in range(5)]
    # Two full batches per epoch of 10 (the remainder of 2 is dropped); epochs reshuffle.
    assert it.position == Position(epoch=2, index=4)
    assert sorted(seen[0] + seen[1]) == sorted(set(seen[0] + seen[1]))  # no repeats in an epoch
    assert seen[0] + seen[1] != seen[2] + seen[3]
    # Starting from a saved position continues with the same batches.
    again = BatchIterator(records, 4, CFG, Position(epoch=1, index=4))
    assert next(again)["tokens"][:, 0, 0].tolist() == seen[3]
    # Each process of a multi-host run builds its own half of the same global batch.
    halves = [
        next(BatchIterator(records, 4, CFG, process_index=p, process_count=2)) for p in (0, 1)
    ]
    both = np.concatenate([h["tokens"][:, 0, 0] for h in halves]).tolist()
    assert both == seen[0]


def test_eval_batches_are_in_order_and_bounded():
    got = [b["tokens"][:, 0, 0].tolist() for b in eval_batches(_records(7), 3, CFG)]
    assert got == [[0, 1, 2], [3, 4, 5]]
    assert len(list(eval_batches(_records(7), 3, CFG, max_batches=1))) == 1


def test_clear_errors_for_unusable_data():
    with pytest.raises(ValueError, match="fewer than batch_size 4"):
        BatchIterator(_records(3), 4, CFG)
    mixed = _records(2) + [dict(_records(1, t=7)[0], clip_id="long")]
    with pytest.raises(ValueError, match=r"'tokens' has different shapes.*'long'"):
        make_batch(mixed, ("tokens",), 4)
    with pytest.raises(ValueError, match="has no field 'frames'"):
        make_batch(_records(1), ("tokens", "frames"), 4)


def test_tokens_must_fit_the_model():
    cfg = dataclasses.replace(TINY, codebook_size=16)
    ok = {"tokens": np.full((2, 10, 4), 15, np.int32)}
    check_tokens_fit(cfg, ok, "here")
    with pytest.raises(
        ValueError, match=r"data set X: token ids span \[16, 16\].*codebook_size=16"
    ):
        check_tokens_fit(cfg, {"tokens": ok["tokens"] + 1}, "data set X")
    with pytest.raises(ValueError, match="3 codebooks, model.num_codebooks=4"):
        check_tokens_fit(cfg, {"tokens": ok["tokens"][..., :3]}, "here")
    with pytest.raises(ValueError, match="more than model.max_steps=64"):
        check_tokens_fit(cfg, {"tokens": np.zeros((1, 62, 4), np.int32)}, "here")


def test_crops_cut_every_time_axis_to_one_window():
    rec = {
        "clip_id": "c",
        "tokens": np.arange(20)[:, None].repeat(2, 1).astype(np.int32),  # 50 per second
        "frames": np.arange(10)[:, None, None, None].repeat(2, 1).astype(np.uint8),  # 25 fps
        "fps": np.float32(25),
        "text_emb": np.ones((2, 3), np.float16),
    }
    cfg = DataConfig(keys=("tokens", "frames", "fps"), max_text_len=4, crop_frames=6)
    batches = [next(BatchIterator([rec] * 4, 4, cfg, Position(epoch=e))) for e in range(3)]
    starts = set()
    for batch in batches:
        assert batch["tokens"].shape == (4, 6, 2) and batch["frames"].shape == (4, 3, 2, 1, 1)
        for tokens, frames in zip(
            batch["tokens"][..., 0], batch["frames"][:, :, 0, 0, 0], strict=True
        ):
            assert tokens[0] % 2 == 0 and (np.diff(tokens) == 1).all()
            np.testing.assert_array_equal(frames, tokens[::2] // 2)  # the same time span
            starts.add(int(tokens[0]))
    assert len(starts) > 1  # windows vary
    # Resuming reproduces the windows too.
    again = next(BatchIterator([rec] * 4, 4, cfg, Position(epoch=1)))
    np.testing.assert_array_equal(again["tokens"], batches[1]["tokens"])
    with pytest.raises(ValueError, match="fewer than data.crop_frames=30"):
        next(BatchIterator([rec] * 4, 4, dataclasses.replace(cfg, crop_frames=30)))
    with pytest.raises(ValueError, match="integer rate ratio"):
        next(BatchIterator([rec] * 4, 4, dataclasses.replace(cfg, crop_frames=5)))


def test_each_process_evaluates_its_slice_of_every_batch():
    parts = [
        [b["tokens"][:, 0, 0].tolist() for b in eval_batches(_records(8), 4, CFG, 0, p, 2)]
        for p in (0, 1)
    ]
    assert parts == [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]
