"""The codec recipe runs every phase, exports a loadable codec and resumes where it stopped."""

import json

import numpy as np
import pytest

from v2a_jax.codec import Codec
from v2a_jax.codec.config import CodecConfig
from v2a_jax.codec.training.loop import TrainConfig, train_codec


def test_train_export_and_resume(tmp_path):
    codec_cfg = CodecConfig(kmeans_iters=2)
    cfg = TrainConfig(steps=6, batch_size=2, segment_s=0.25, eval_segment_s=0.25,
                      warmup_steps=2, adv_start=4, eval_every=3, save_every=3, num_eval_clips=2,
                      pool_size=3)  # fmt: skip
    card = train_codec(tmp_path, codec_cfg, cfg)
    assert card["steps"] == 6 and [h["step"] for h in card["history"]] == [3, 6]
    assert "train_adv" in card["history"][-1]  # the adversarial phase ran
    codec = Codec.load(tmp_path / "codec")
    tokens = codec.encode(np.zeros(3200, np.float32) + 0.01)
    assert tokens.shape == (10, 4)
    card = train_codec(tmp_path, codec_cfg, TrainConfig(**{**cfg.__dict__, "steps": 9}))
    assert card["steps"] == 9 and [h["step"] for h in card["history"]] == [3, 6, 9]
    saved = json.loads((tmp_path / "codec" / "codec.json").read_text())
    assert saved  # the exported folder carries its config


def test_warmup_evaluation_leaves_the_codebooks_uninitialised(tmp_path):
    """k-means must see the warmed-up latent, so evaluating during warm-up must not init it."""
    from safetensors.numpy import load_file

    cfg = TrainConfig(steps=2, batch_size=2, segment_s=0.25, eval_segment_s=0.25,
                      warmup_steps=5, eval_every=1, save_every=2, num_eval_clips=2,
                      pool_size=2)  # fmt: skip
    train_codec(tmp_path, CodecConfig(kmeans_iters=2), cfg)
    weights = load_file(tmp_path / "codec" / "codec.safetensors")
    inited = [v for k, v in weights.items() if k.endswith("_codebook.inited")]
    assert inited and all(float(v.reshape(-1)[0]) == 0.0 for v in inited)


def test_cli_reconstructs_each_clip_to_its_exact_length(tmp_path):
    from v2a_jax.cli import main
    from v2a_jax.io.audio import read_wav

    data = tmp_path / "data"
    assert main(["data", "build", "syncscenes", "--data-dir", str(data), "--num-train", "0",
                 "--num-validation", "0", "--num-test", "2", "--duration", "1.3"]) == 0  # fmt: skip
    folder = tmp_path / "codec"
    Codec.from_config(CodecConfig(), seed=0).save(folder)
    out = tmp_path / "rec"
    code = main(["codec", "reconstruct", "--data-dir", str(data), "--codec", str(folder),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    wavs = sorted(out.glob("*.wav"))
    assert [w.stem for w in wavs] == ["syncscenes-1100000", "syncscenes-1100001"]
    for wav in wavs:
        audio, sr = read_wav(wav)
        assert sr == 16000 and audio.shape == (round(1.3 * 16000),)
    # --through latent skips the quantizer: same layout and lengths, other audio
    out_latent = tmp_path / "rec_latent"
    assert main(["codec", "reconstruct", "--data-dir", str(data), "--codec", str(folder),
                 "--out", str(out_latent), "--through", "latent"]) == 0  # fmt: skip
    for wav in wavs:
        audio, _ = read_wav(wav)
        latent_audio, sr = read_wav(out_latent / wav.name)
        assert sr == 16000 and latent_audio.shape == audio.shape
        assert not np.allclose(latent_audio, audio)


def test_reconstruct_refuses_an_unknown_path(tmp_path):
    from v2a_jax.codec.reconstruct import reconstruct_split

    with pytest.raises(ValueError, match="through='quantizer'"):
        reconstruct_split(tmp_path, "test", None, tmp_path, through="quantizer")


def test_cli_reconstruct_without_a_shipped_default_says_where_it_looked(
    tmp_path, capsys, monkeypatch
):
    from v2a_jax.cli import main

    monkeypatch.setattr("v2a_jax.codec.encodec_codec.DEFAULT_CODEC_DIR", tmp_path / "none")
    code = main(["codec", "reconstruct", "--data-dir", str(tmp_path), "--out", str(tmp_path)])
    assert code == 2 and "not been trained/shipped yet" in capsys.readouterr().err


def test_max_minutes_stops_early_and_saves_a_resumable_state(tmp_path):
    cfg = TrainConfig(steps=50, batch_size=2, segment_s=0.25, eval_segment_s=0.25,
                      warmup_steps=100, eval_every=10, save_every=10, num_eval_clips=2,
                      pool_size=2, max_minutes=1e-9)  # fmt: skip
    card = train_codec(tmp_path, CodecConfig(kmeans_iters=2), cfg)
    assert card["steps"] < 50 and (tmp_path / "train_state.pt").exists()


def test_reseeded_dead_codes_survive_the_ema_update():
    """encodec's own re-seeding is undone by the EMA step that follows it (embed is recomputed
    from stale averages); ours resets the averages too, so a code moved to the data stays there
    and a latent that drifts away from the codebook is still quantized by many codes."""
    import torch

    from v2a_jax.codec._torchaudio_compat import import_encodec
    from v2a_jax.codec.training.loop import _reseed_dead_codes_

    import_encodec()
    from encodec.quantization.core_vq import EuclideanCodebook

    def used_codes(fixed: bool) -> int:
        torch.manual_seed(0)
        book = EuclideanCodebook(dim=8, codebook_size=64, kmeans_init=False,
                                 threshold_ema_dead_code=0.05)  # fmt: skip
        if fixed:
            book.expire_codes_ = _reseed_dead_codes_.__get__(book)
        book.train()
        for _ in range(30):  # a latent far from the (random) initial codebook
            book(torch.randn(32, 8) * 0.2 + 5.0)
        return len(torch.unique(book.encode(torch.randn(512, 8) * 0.2 + 5.0)))

    assert used_codes(fixed=False) <= 2
    assert used_codes(fixed=True) >= 32


def test_learning_rate_anneals_from_the_decay_start():
    from v2a_jax.codec.training.loop import learning_rate

    cfg = TrainConfig(lr=1e-3, steps=200, lr_decay_start=100, lr_end_factor=0.1)
    assert learning_rate(cfg, 50) == 1e-3 and learning_rate(cfg, 100) == 1e-3
    assert abs(learning_rate(cfg, 150) - 0.55e-3) < 1e-9
    assert abs(learning_rate(cfg, 200) - 1e-4) < 1e-12
    assert learning_rate(TrainConfig(lr=1e-3), 10**6) == 1e-3  # no decay by default


def test_a_decaying_run_resumes_and_old_states_with_numpy_learning_rates_load(tmp_path):
    import pytest
    import torch

    from v2a_jax.codec.training.loop import load_train_state

    cfg = TrainConfig(steps=3, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=1,
                      eval_every=3, save_every=3, num_eval_clips=2, pool_size=3,
                      lr_decay_start=1, lr_end_factor=0.5)  # fmt: skip
    train_codec(tmp_path, CodecConfig(kmeans_iters=2), cfg)
    state_path = tmp_path / "train_state.pt"
    torch.load(state_path, weights_only=True)  # plain Python numbers only
    card = train_codec(
        tmp_path, CodecConfig(kmeans_iters=2), TrainConfig(**{**cfg.__dict__, "steps": 4})
    )
    assert card["steps"] == 4
    # a state written by the earlier recipe, whose learning rate was a numpy float64
    state = torch.load(state_path, weights_only=True)
    state["opt_g"]["param_groups"][0]["lr"] = np.float64(3e-4)
    torch.save(state, state_path)
    assert load_train_state(state_path)["opt_g"]["param_groups"][0]["lr"] == 3e-4
    state_path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="train_state.pt is not a readable codec training state"):
        load_train_state(state_path)


def test_cli_takes_loss_weights_as_name_value_pairs(capsys):
    import argparse

    from v2a_jax.commands import codec as codec_cmd

    parser = argparse.ArgumentParser()
    codec_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["codec", "train", "--out", "x", "--weights", "mel=3,adv=1"])
    assert args.weights == {"mel": 3.0, "adv": 1.0}
    assert args.plain_weights == {"l1": 1.0, "mel": 1.0}  # the default
    with pytest.raises(SystemExit):
        parser.parse_args(["codec", "train", "--out", "x", "--weights", "mel:3"])
    assert "--weights" in capsys.readouterr().err


def test_decoder_only_finetune_keeps_every_token(tmp_path):
    """A decoder-only run changes the decoder alone: tokens (and the latent) stay bit-identical."""
    codec_cfg = CodecConfig(kmeans_iters=2)
    base = tmp_path / "base"
    train_codec(base, codec_cfg, TrainConfig(steps=3, batch_size=2, segment_s=0.25,
                eval_segment_s=0.25, warmup_steps=1, adv_start=10, eval_every=3, save_every=3,
                num_eval_clips=2, pool_size=3))  # fmt: skip
    cfg = TrainConfig(steps=3, batch_size=2, segment_s=0.25, eval_segment_s=0.25, warmup_steps=0,
                      adv_start=1, eval_every=2, save_every=3, num_eval_clips=2, pool_size=3,
                      lr=1e-2, init_from=str(base / "codec"), decoder_only=True,
                      disc_n_ffts="512,128")  # fmt: skip
    card = train_codec(tmp_path / "tuned", codec_cfg, cfg)
    assert card["train_config"]["decoder_only"] and "train_adv" in card["history"][-1]
    before, after = Codec.load(base / "codec"), Codec.load(tmp_path / "tuned" / "codec")
    sb, sa = before.model.state_dict(), after.model.state_dict()
    changed = {k for k in sb if not np.array_equal(sb[k].numpy(), sa[k].numpy())}
    assert changed and all(k.startswith("decoder.") for k in changed)
    wave = np.random.default_rng(0).normal(size=8000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(before.encode(wave), after.encode(wave))
    assert not np.allclose(before.decode(before.encode(wave)), after.decode(after.encode(wave)))


def test_decoder_only_misconfigurations_are_refused(tmp_path):
    with pytest.raises(ValueError, match="needs init_from"):
        TrainConfig(decoder_only=True, warmup_steps=0)
    with pytest.raises(ValueError, match="warmup_steps=0"):
        TrainConfig(decoder_only=True, init_from="default", warmup_steps=300)
    with pytest.raises(ValueError, match="disc_n_ffts"):
        TrainConfig(disc_n_ffts="1024,,512")
    folder = tmp_path / "k8"
    Codec.from_config(CodecConfig(n_q=8), seed=0).save(folder)
    cfg = TrainConfig(steps=1, init_from=str(folder), decoder_only=True, warmup_steps=0)
    with pytest.raises(ValueError, match="same --n-q"):
        train_codec(tmp_path / "run", CodecConfig(), cfg)
