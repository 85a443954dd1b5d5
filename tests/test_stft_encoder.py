"""The spectral codec encoder: shapes, locality, a tone's bin, checkpoints and a training run."""

import json

import numpy as np
import pytest
import torch
from experiment_scripts import ROOT, load_script

from v2a_jax.codec import Codec
from v2a_jax.codec.config import CodecConfig
from v2a_jax.codec.stft_encoder import STFTEncoder
from v2a_jax.codec.training.loop import TrainConfig, train_codec

SMALL = dict(encoder="stft", encoder_dim=32, encoder_layers=2, decoder="istft", istft_dim=32,
             istft_layers=2)  # fmt: skip


@pytest.mark.parametrize("num_samples", [8000, 8001, 15995])
def test_encodes_ceil_samples_over_hop_frames_like_seanet(num_samples):
    stft = Codec.from_config(CodecConfig(**SMALL), seed=0)
    seanet = Codec.from_config(CodecConfig(n_filters=4), seed=0)
    wave = np.random.default_rng(0).normal(size=(2, num_samples)).astype(np.float32) * 0.1
    z_btd = stft.encode_latent(wave)
    assert z_btd.shape == seanet.encode_latent(wave).shape
    assert z_btd.shape == (2, -(-num_samples // 320), 64) and z_btd.dtype == np.float32
    assert stft.encode(wave).shape == (2, z_btd.shape[1], 4)
    assert stft.frame_rate == 50 and stft.hop_length == 320


def test_frames_are_encoded_locally():
    """A change in the last 0.1 s leaves the first half of the latent untouched."""
    codec = Codec.from_config(CodecConfig(**SMALL), seed=0)
    wave = np.random.default_rng(1).normal(size=16000).astype(np.float32) * 0.1
    z = codec.encode_latent(wave)
    wave2 = wave.copy()
    wave2[-1600:] = 0.0
    np.testing.assert_allclose(codec.encode_latent(wave2)[:25], z[:25], atol=1e-5)
    assert not np.allclose(codec.encode_latent(wave2)[-3:], z[-3:], atol=1e-3)


def test_a_tone_is_one_bins_peak_in_the_input():
    """The first layer already sees a 1490 Hz beep as the peak at its bin (25 Hz apart)."""
    enc = STFTEncoder(64, (8, 5, 4, 2), dim=16, num_layers=1)
    t = np.arange(8000) / 16000
    wave = torch.from_numpy((0.1 * np.sin(2 * np.pi * 1490 * t)).astype(np.float32))[None]
    log_mag_bqf = enc.log_magnitude(wave)
    assert log_mag_bqf.shape == (1, 321, 50)
    peak_bins = log_mag_bqf[0, :, 2:-2].argmax(0)
    assert torch.all((peak_bins - round(1490 / 25)).abs() <= 1)


def test_checkpoint_round_trip_and_old_configs_read_as_seanet(tmp_path):
    codec = Codec.from_config(CodecConfig(**SMALL), seed=0)
    codec.save(tmp_path / "c")
    loaded = Codec.load(tmp_path / "c")
    assert loaded.config == codec.config and loaded.config.encoder == "stft"
    wave = np.random.default_rng(2).normal(size=4000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(loaded.encode_latent(wave), codec.encode_latent(wave))
    old = CodecConfig().to_dict()
    for key in ("encoder", "encoder_dim", "encoder_layers"):
        old.pop(key)
    assert CodecConfig.from_dict(old).encoder == "seanet"
    with pytest.raises(ValueError, match="encoder must be one of"):
        CodecConfig(encoder="wav2vec")
    with pytest.raises(ValueError, match="encoder_dim must be positive"):
        CodecConfig(encoder="stft", encoder_dim=0)


def test_a_whole_codec_run_with_a_griffin_lim_decoder_trains_and_resumes(tmp_path):
    config = CodecConfig(**SMALL, istft_phase="griffin_lim", istft_gl_iters=2, kmeans_iters=2)
    cfg = TrainConfig(
        steps=3, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=1, adv_start=10,
        eval_every=3, save_every=3, num_eval_clips=2, pool_size=3,
    )  # fmt: skip
    card = train_codec(tmp_path / "run", config, cfg)
    assert card["steps"] == 3 and card["codec_config"]["encoder"] == "stft"
    assert np.isfinite(card["history"][-1]["train_spec"])
    codec = Codec.load(tmp_path / "run" / "codec")
    wave = np.random.default_rng(3).normal(size=8000).astype(np.float32) * 0.1
    tokens = codec.encode(wave)
    assert tokens.shape == (25, 4) and tokens.min() >= 0 and tokens.max() < 1024
    assert codec.decode(tokens).shape == (8000,)
    cfg.steps = 4
    assert train_codec(tmp_path / "run", config, cfg)["steps"] == 4
    # shipped, its card names the spectral encoder
    ship = load_script(ROOT / "tokenizers" / "ship_codec.py")
    (tmp_path / "m.json").write_text(json.dumps({"mel_distance": 1.0}))
    argv = ["--run", str(tmp_path / "run"), "--metrics", str(tmp_path / "m.json"),
            "--hardware", "cpu", "--out", str(tmp_path / "shipped")]  # fmt: skip
    assert ship.main(argv) == 0
    text = (tmp_path / "shipped" / "CARD.md").read_text()
    assert "spectral encoder (log-magnitude STFT, 2 ConvNeXt blocks of width 32" in text
    assert "SEANet" not in text and "n_filters" not in text and "Griffin-Lim" in text
