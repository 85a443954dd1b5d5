"""Onset-weighted training loss: the strength from the audio, the batches, the weighted CE."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import optax
import pytest

from v2a_jax.codec.patterns import build_delay
from v2a_jax.config import DataConfig
from v2a_jax.models import init_model
from v2a_jax.models.losses import lm_loss
from v2a_jax.models.presets import TINY
from v2a_jax.models.token_lm import teacher_forcing_inputs
from v2a_jax.train.data import BatchIterator, Position
from v2a_jax.train.onset_weight import onset_strength_t, with_onset_weight

SR, RATE, HOP = 16000, 50.0, 320


def _burst_audio(num_frames=20, burst_frame=8):
    """Quiet noise, then a loud burst from ``burst_frame`` on that decays over a few frames."""
    rng = np.random.default_rng(0)
    audio = 1e-3 * rng.standard_normal(num_frames * HOP).astype(np.float32)
    n = len(audio) - burst_frame * HOP
    audio[burst_frame * HOP :] += 0.5 * np.exp(-np.arange(n) / 2000.0) * rng.standard_normal(n)
    return audio


def test_onset_strength_peaks_where_the_energy_jumps():
    strength = onset_strength_t(_burst_audio(), SR, RATE, 20)
    assert strength.shape == (20,) and strength.dtype == np.float32
    assert strength[8] == 1.0  # a jump of ~50 dB
    assert np.all(np.delete(strength, 8) < 0.1)  # steady noise, then a decay: no rise
    steady = np.sin(np.arange(20 * HOP) * 0.05).astype(np.float32)
    assert np.all(onset_strength_t(steady, SR, RATE, 20) < 0.05)
    # cut or padded to the requested frames
    assert onset_strength_t(_burst_audio()[: 5 * HOP], SR, RATE, 7).shape == (7,)


def test_bad_audio_and_records_without_audio_get_clear_errors():
    with pytest.raises(ValueError, match="finite mono audio"):
        onset_strength_t(np.full(640, np.nan, np.float32), SR, RATE, 2)
    with pytest.raises(ValueError, match="whole hop"):
        onset_strength_t(np.zeros(640, np.float32), 16001, RATE, 2)
    with pytest.raises(ValueError, match="'c0' has no audio"):
        with_onset_weight({"clip_id": "c0", "tokens": np.zeros((4, 2))}, 2.0, RATE)
    with pytest.raises(ValueError, match="onset_weight must be >= 0"):
        DataConfig(onset_weight=-1.0)


def test_training_batches_carry_the_weights_through_the_crop():
    audio = _burst_audio(20, 8)
    rec = {
        "clip_id": "c",
        "tokens": np.arange(20)[:, None].repeat(2, 1).astype(np.int32),
        "audio": audio,
        "sample_rate": np.int32(SR),
        "text_emb": np.ones((2, 3), np.float16),
    }
    cfg = DataConfig(keys=("tokens",), max_text_len=4, crop_frames=10, onset_weight=4.0)
    full = 1.0 + 4.0 * onset_strength_t(audio, SR, RATE, 20)
    for epoch in range(3):
        batch = next(BatchIterator([rec] * 2, 2, cfg, Position(epoch=epoch)))
        assert batch["loss_weight_t"].shape == (2, 10)
        for tokens_t, weight_t in zip(batch["tokens"][..., 0], batch["loss_weight_t"], strict=True):
            np.testing.assert_allclose(weight_t, full[tokens_t])  # the same window
    plain = next(BatchIterator([rec] * 2, 2, dataclasses.replace(cfg, onset_weight=0.0)))
    assert "loss_weight_t" not in plain


def test_the_weighted_loss_is_the_weighted_mean_of_the_slot_cross_entropies():
    cfg = dataclasses.replace(TINY, p_drop_text=0.0, p_drop_video=0.0, p_drop_both=0.0)
    model = init_model(cfg, seed=0)
    rng = np.random.default_rng(0)
    b, t, k = 2, 10, cfg.num_codebooks
    batch = {
        "tokens": rng.integers(0, cfg.codebook_size, (b, t, k)).astype(np.int32),
        "frames": rng.integers(0, 256, (b, 5, 64, 64, 3)).astype(np.uint8),
        "text_emb": rng.normal(size=(b, 6, cfg.text_dim)).astype(np.float32),
        "text_mask": np.ones((b, 6), bool),
    }
    key = jax.random.key(0)
    plain = float(lm_loss(model, batch, key, True)[0])
    same = float(lm_loss(model, {**batch, "loss_weight_t": np.full((b, t), 3.0)}, key, True)[0])
    np.testing.assert_allclose(same, plain, rtol=1e-5)
    # slot cross-entropies, by hand
    seq_bsk = build_delay(batch["tokens"], cfg.pad_id)
    cond = model.prepare_conditions(
        batch["frames"], cfg.video.fps, batch["text_emb"], batch["text_mask"], num_steps=t + k - 1
    )
    logits = model(teacher_forcing_inputs(seq_bsk, cfg.pad_id), cond)
    ce_bsk = np.asarray(optax.softmax_cross_entropy_with_integer_labels(
        logits, np.minimum(seq_bsk, cfg.codebook_size - 1)
    ))  # fmt: skip
    weight_bt = np.ones((b, t), np.float32)
    weight_bt[:, 4] = 5.0
    expected_num, expected_den = 0.0, 0.0
    for i in range(b):
        for f in range(t):
            for c in range(k):
                expected_num += weight_bt[i, f] * ce_bsk[i, f + c, c]
                expected_den += weight_bt[i, f]
    weighted = lm_loss(model, {**batch, "loss_weight_t": weight_bt}, key, True)
    np.testing.assert_allclose(float(weighted[0]), expected_num / expected_den, rtol=1e-4)
    assert abs(float(weighted[0]) - plain) > 1e-4
    # validation (train=False) stays unweighted, and so do the metrics
    unweighted = lm_loss(model, {**batch, "loss_weight_t": weight_bt}, key, False)
    np.testing.assert_allclose(float(unweighted[0]), plain, rtol=1e-5)
    np.testing.assert_allclose(float(weighted[1]["loss"]), plain, rtol=1e-5)
