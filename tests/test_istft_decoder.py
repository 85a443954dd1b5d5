"""The inverse-STFT codec decoder: shapes, checkpoints, and a decoder swap that keeps the tokens."""

import dataclasses
import json

import numpy as np
import pytest
from experiment_scripts import ROOT, load_script

from v2a_jax.codec import Codec
from v2a_jax.codec.config import CodecConfig
from v2a_jax.codec.training.loop import TrainConfig, train_codec


def test_decodes_each_token_frame_to_one_hop_of_samples():
    codec = Codec.from_config(CodecConfig(decoder="istft", istft_dim=32, istft_layers=2), seed=0)
    z_btd = np.random.default_rng(0).normal(size=(3, 20, codec.latent_dim)).astype(np.float32)
    wave = codec.decode_latent(z_btd)
    assert wave.shape == (3, 20 * codec.hop_length) and wave.dtype == np.float32
    assert np.isfinite(wave).all()
    # Frames are decoded locally (receptive field: 3 + 3 + 1 token frames each side here):
    # changing the last frame leaves the first 12 frames untouched.
    z2 = z_btd.copy()
    z2[:, -1] += 1.0
    half = 12 * codec.hop_length
    np.testing.assert_allclose(codec.decode_latent(z2)[:, :half], wave[:, :half], atol=1e-6)


def test_checkpoint_round_trip_and_old_configs_read_as_seanet(tmp_path):
    codec = Codec.from_config(CodecConfig(decoder="istft", istft_dim=32, istft_layers=2), seed=0)
    codec.save(tmp_path / "c")
    loaded = Codec.load(tmp_path / "c")
    assert loaded.config == codec.config
    z = np.random.default_rng(1).normal(size=(5, codec.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(loaded.decode_latent(z), codec.decode_latent(z))
    # A config written before the decoder fields existed is a SEANet codec.
    old = CodecConfig().to_dict()
    for key in ("decoder", "istft_dim", "istft_layers", "istft_upsample", "istft_phase"):
        old.pop(key)
    assert CodecConfig.from_dict(old).decoder == "seanet"
    with pytest.raises(ValueError, match="decoder must be one of"):
        CodecConfig(decoder="wavenet")


def test_decoder_only_run_swaps_in_an_istft_decoder_and_keeps_every_token(tmp_path):
    base = tmp_path / "base"
    train_codec(base, CodecConfig(kmeans_iters=2), TrainConfig(steps=2, batch_size=2,
                segment_s=0.25, eval_segment_s=0.25, warmup_steps=1, adv_start=10,
                eval_every=2, save_every=2, num_eval_clips=2, pool_size=3))  # fmt: skip
    istft_cfg = CodecConfig(kmeans_iters=2, decoder="istft", istft_dim=32, istft_layers=2)
    cfg = TrainConfig(steps=2, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=0,
                      adv_start=10, eval_every=2, save_every=2, num_eval_clips=2, pool_size=3,
                      init_from=str(base / "codec"), decoder_only=True,
                      continuous_latent_prob=0.5)  # fmt: skip
    train_codec(tmp_path / "istft", istft_cfg, cfg)
    before, after = Codec.load(base / "codec"), Codec.load(tmp_path / "istft" / "codec")
    assert after.config.decoder == "istft"
    assert json.loads((tmp_path / "istft" / "codec" / "codec.json").read_text())["card"]["steps"]
    wave = np.random.default_rng(0).normal(size=8000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(before.encode(wave), after.encode(wave))
    assert after.decode(after.encode(wave)).shape == (8000,)
    # Another encoder is refused: its tokens would not be the ones the data was made with.
    other = CodecConfig(kmeans_iters=2, decoder="istft", n_filters=8)
    with pytest.raises(ValueError, match="may change the decoder"):
        train_codec(tmp_path / "bad", other, cfg)
    with pytest.raises(ValueError, match="share in"):
        TrainConfig(continuous_latent_prob=1.5)


def test_shipping_a_decoder_only_run_keeps_the_tokens_lineage(tmp_path):
    ship = load_script(ROOT / "tokenizers" / "ship_codec.py")
    base = Codec.from_config(CodecConfig(kmeans_iters=2), seed=0)
    base.save(tmp_path / "base", card={"name": "base-codec", "steps": 7, "wall_time_s": 1.0})
    run = tmp_path / "run"
    cfg = TrainConfig(steps=1, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=0,
                      adv_start=10, eval_every=1, save_every=1, num_eval_clips=2, pool_size=3,
                      init_from=str(tmp_path / "base"), decoder_only=True)  # fmt: skip
    istft_cfg = CodecConfig(kmeans_iters=2, decoder="istft", istft_dim=32, istft_layers=2)
    train_codec(run, istft_cfg, cfg)
    (tmp_path / "m.json").write_text(json.dumps({"mel_distance": 1.0}))
    out = tmp_path / "shipped"
    argv = ["--run", str(run), "--metrics", str(tmp_path / "m.json"), "--hardware", "cpu",
            "--out", str(out)]  # fmt: skip
    assert ship.main(argv) == 0
    card = Codec.load(out).card
    assert card["init_card"]["name"] == "base-codec" and card["init_card"]["steps"] == 7
    text = (out / "CARD.md").read_text()
    assert "EnCodec SEANet encoder" in text and "inverse-STFT decoder" in text
    assert "frozen from `base-codec`, trained 7 steps" in text
    # A decoder-only run from that shipped decoder keeps the whole chain down to the encoder.
    train_codec(tmp_path / "run2", istft_cfg, dataclasses.replace(cfg, init_from=str(out)))
    out2 = tmp_path / "shipped2"
    argv2 = ["--run", str(tmp_path / "run2"), "--metrics", str(tmp_path / "m.json"),
             "--hardware", "cpu", "--out", str(out2)]  # fmt: skip
    assert ship.main(argv2) == 0
    card2 = Codec.load(out2).card
    assert card2["init_card"]["init_card"]["name"] == "base-codec"
    text2 = (out2 / "CARD.md").read_text()
    assert "decoder started from" in text2 and "frozen from `base-codec`, trained 7 steps" in text2


@pytest.mark.parametrize("phase", ["integrated", "absolute"])
def test_a_held_frame_is_a_tone_off_the_frame_rate_grid_only_with_integrated_phase(phase):
    """A stationary decoder output (one bin, a fixed phase term) is a steady tone at the bin's
    frequency plus the deviation when phases are summed, and hop-periodic when absolute."""
    import torch

    from v2a_jax.codec.istft_decoder import ISTFTDecoder

    dec = ISTFTDecoder(dimension=8, hop_length=320, dim=16, num_layers=1, phase=phase)
    bins = dec.n_fft // 2 + 1  # 321 bins of 25 Hz at 16 kHz
    with torch.no_grad():
        dec.head.weight.zero_()
        dec.head.bias[:bins].fill_(-30.0)
        dec.head.bias[40] = 0.0  # 1000 Hz
        dec.head.bias[bins:].fill_(0.8)  # per-frame phase term
        wave = dec(torch.zeros(1, 8, 50))[0, 0].numpy()
    power = np.abs(np.fft.rfft(wave[1000:-1000] * np.hanning(14000))) ** 2
    freqs = np.fft.rfftfreq(14000, 1 / 16000)
    peak = freqs[power.argmax()]
    expected = 1000 + 0.8 * 16000 / (2 * np.pi * dec.stft_hop)  # 1012.7 Hz
    if phase == "integrated":
        assert abs(peak - expected) < 2.0, peak
        assert power[np.abs(freqs - expected) < 10].sum() > 0.9 * power.sum()
    else:  # the same frame every hop: only multiples of 16000 / 160 = 100 Hz
        assert min(peak % 100, 100 - peak % 100) < 2.0, peak


def test_griffin_lim_recovers_a_tone_between_bins_from_its_magnitude_alone():
    """A 1013 Hz tone (between two 25 Hz bins), given only its STFT magnitude, comes back at its
    pitch with most of its power; the zero-phase start without iterations does not."""
    import torch

    from v2a_jax.codec.griffin_lim import griffin_lim

    sr, n_fft, hop, n = 16000, 640, 160, 16000
    t = np.arange(n) / sr
    tone = torch.from_numpy((0.3 * np.sin(2 * np.pi * 1013.0 * t)).astype(np.float32))
    window = torch.hann_window(n_fft)
    mag_bqf = torch.stft(tone[None], n_fft, hop, window=window, return_complex=True).abs()
    freqs = np.fft.rfftfreq(n - 2000, 1 / sr)

    def tone_share_and_rms(wave):
        """Share of the power within 15 Hz of the tone, and the RMS (edges cut)."""
        middle = wave[1000:-1000]
        power = np.abs(np.fft.rfft(middle * np.hanning(n - 2000))) ** 2
        return power[np.abs(freqs - 1013.0) < 15].sum() / power.sum(), np.sqrt(np.mean(middle**2))

    out = griffin_lim(mag_bqf, n_fft, hop, window, n, num_iters=32)[0].numpy()
    assert out.shape == (n,)
    rebuilt = torch.stft(torch.from_numpy(out)[None], n_fft, hop, window=window,
                         return_complex=True).abs()  # fmt: skip
    assert torch.linalg.vector_norm(rebuilt - mag_bqf) / torch.linalg.vector_norm(mag_bqf) < 0.2
    share, rms = tone_share_and_rms(out)
    assert share > 0.95 and rms > 0.9 * 0.3 / np.sqrt(2)  # the tone, at its loudness
    # Zero phase in every frame: the frames' overlap-add cancels most of the tone.
    _, rms_zero_phase = tone_share_and_rms(
        griffin_lim(mag_bqf, n_fft, hop, window, n, num_iters=0)[0].numpy()
    )
    assert rms_zero_phase < 0.3 * rms
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(mag_bqf, n_fft, hop, window, n, momentum=1.0)


def test_griffin_lim_decoder_decodes_its_magnitude_and_its_loss_is_zero_on_the_truth():
    import torch

    from v2a_jax.codec.istft_decoder import ISTFTDecoder
    from v2a_jax.codec.training.losses import stft_magnitude_loss

    dec = ISTFTDecoder(dimension=8, hop_length=320, dim=16, num_layers=1, phase="griffin_lim")
    with torch.no_grad():
        wave = dec(torch.randn(2, 8, 10))
        log_mag_bfq, _ = dec.log_magnitude_and_phase(torch.randn(2, 8, 10))
    assert wave.shape == (2, 1, 3200) and torch.isfinite(wave).all()
    assert log_mag_bfq.shape == (2, 21, dec.n_fft // 2 + 1)
    y = 0.1 * torch.randn(2, 1, 3200)
    truth = torch.stft(y[:, 0], dec.n_fft, dec.stft_hop, window=dec.window, return_complex=True)
    truth_log_bfq = truth.abs().clamp(min=1e-5).log().transpose(1, 2)
    assert stft_magnitude_loss(truth_log_bfq, y, dec.n_fft, 16000) < 1e-4
    assert stft_magnitude_loss(truth_log_bfq + 0.5, y, dec.n_fft, 16000) > 0.5
    with pytest.raises(ValueError, match="predicted frames"):
        stft_magnitude_loss(truth_log_bfq[:, :-1], y, dec.n_fft, 16000)


def test_griffin_lim_decoder_run_starts_from_a_trained_istft_decoder_and_keeps_the_tokens(
    tmp_path,
):
    import torch

    istft_cfg = CodecConfig(kmeans_iters=2, decoder="istft", istft_dim=32, istft_layers=2)
    train_codec(tmp_path / "run", istft_cfg, TrainConfig(steps=2, batch_size=2, segment_s=0.25,
                eval_segment_s=0.25, warmup_steps=1, adv_start=10, eval_every=2, save_every=2,
                num_eval_clips=2, pool_size=3))  # fmt: skip
    base = Codec.load(tmp_path / "run" / "codec")
    base.save(tmp_path / "base")
    gl_cfg = dataclasses.replace(base.config, istft_phase="griffin_lim", istft_gl_iters=4)
    cfg = TrainConfig(steps=2, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=0,
                      adv_start=2, eval_every=2, save_every=2, num_eval_clips=2, pool_size=3,
                      init_from=str(tmp_path / "base"), decoder_only=True, init_decoder=True,
                      lr=0.0)  # fmt: skip
    train_codec(tmp_path / "gl", gl_cfg, cfg)
    after = Codec.load(tmp_path / "gl" / "codec")
    assert after.config.istft_phase == "griffin_lim" and after.config.istft_gl_iters == 4
    # lr 0: the decoder is exactly the one it started from
    for key, value in base.model.decoder.state_dict().items():
        torch.testing.assert_close(after.model.decoder.state_dict()[key], value)
    wave = np.random.default_rng(0).normal(size=8000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(base.encode(wave), after.encode(wave))
    assert after.decode(after.encode(wave)).shape == (8000,)
    # no adversarial phase for a decoder trained on its spectrogram alone
    with pytest.raises(ValueError, match="Griffin-Lim decoder"):
        train_codec(tmp_path / "adv", gl_cfg, dataclasses.replace(cfg, adv_start=1))
    with pytest.raises(ValueError, match="init_decoder needs init_from"):
        TrainConfig(init_decoder=True)
