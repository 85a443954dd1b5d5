"""The refiner end to end on a tiny codec: training loop, checkpoint, evaluation, comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from experiment_scripts import load_experiment

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.refiner_build import build_refiner_model, latent_stats
from v2a_jax.models.refiner_config import RefinerConfig
from v2a_jax.models.refiner_eval import VARIANTS, evaluate_gt_tokens
from v2a_jax.models.refiner_loss import refiner_loss

SR = 16_000
ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    return load_experiment("compare_ar_vs_diffusion")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from v2a_jax.codec import Codec, CodecConfig
    from v2a_jax.train.checkpoint import export_params
    from v2a_jax.train.loop import train

    tmp = tmp_path_factory.mktemp("refiner")
    codec_cfg = CodecConfig(n_q=2, bins=16, dimension=8, n_filters=4, kmeans_init=False)
    codec = Codec.from_config(codec_cfg, seed=0)
    codec.save(tmp / "codec")
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    clips = []
    for i in range(4):
        audio = (0.3 * np.sin(2 * np.pi * (200 + 100 * i) * t)).astype(np.float32)
        audio += 0.01 * rng.normal(size=SR).astype(np.float32)
        clips.append(
            {
                "clip_id": f"clip{i}",
                "tokens": codec.encode(audio),
                "latent": codec.encode_latent(audio),
                "audio": audio,
                "sample_rate": SR,
                "frames": np.full((25, 16, 16, 3), 40 * i, np.uint8),
                "fps": 25.0,
                "caption": f"tone {i}",
                "text_emb": np.zeros((3, 384), np.float16),
            }
        )
    stats = latent_stats(((c["tokens"], c["latent"]) for c in clips), codec.codebooks(), 2)
    model_cfg = RefinerConfig(
        latent_dim=8, num_codebooks=2, codebook_size=16, width=16, num_blocks=1, time_dim=16,
        num_coarse_codebooks=1, codec=str(tmp / "codec"),
    ).with_stats(stats["latent_mean"], stats["latent_std"], stats["residual_std"])  # fmt: skip
    config = Config(
        model=model_cfg,
        train=TrainConfig(
            steps=4,
            batch_size=2,
            warmup_steps=1,
            log_every=2,
            eval_every=4,
            eval_batches=1,
            save_every=4,
            keep_checkpoints=1,
        ),  # fmt: skip
        data=DataConfig(keys=("tokens", "latent")),
    )
    result = train(
        config, tmp / "work", build=build_refiner_model, loss_fn=refiner_loss,
        records=(clips, clips), progress=False,
    )  # fmt: skip
    export_params(tmp / "work", tmp / "export")
    return tmp, codec, clips, result


def test_trained_refiner_restores_codebooks_and_stats(trained):
    from v2a_jax.train.checkpoint import load_model

    tmp, codec, clips, result = trained
    assert result.step == 4 and np.isfinite(result.train_loss)
    refiner, config = load_model(tmp / "export")
    np.testing.assert_array_equal(np.asarray(refiner.codebooks[...]), codec.codebooks())
    np.testing.assert_allclose(refiner.residual_std[...], config.model.residual_std, rtol=1e-6)
    out = evaluate_gt_tokens(refiner, codec, clips, num_steps=2, batch_size=2)
    assert out["num_clips"] == 4 and set(out["mel_distance"]) == set(VARIANTS)
    assert out["refine_s_per_audio_s"] > 0 and len(out["per_clip"]) == 4


def test_comparison_script_writes_results_and_pages(trained, tmp_path, monkeypatch):
    tmp, _, clips, _ = trained
    script = _load_script()
    monkeypatch.setattr(script, "open_split", lambda data_dir, split, name=None: clips)
    out = tmp_path / "compare"
    script.main(
        ["--refiner", str(tmp / "export"), "--data-dir", "unused", "--num-clips", "3",
         "--batch-size", "2", "--num-steps", "2", "--pages", "1", "--no-syncbench",
         "--out", str(out)]
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["num_clips"] == 3
    for entry in ("gt_coarse", "gt_coarse_diffusion"):
        assert results[entry]["mel_distance"] > 0
        assert sorted((out / "predictions" / entry).glob("*.wav")) == [
            out / "predictions" / entry / f"clip{i}.wav" for i in range(3)
        ]
    assert "refine" in results["gt_coarse_diffusion"]["seconds_per_audio_second"]
    page = (out / "clip0.html").read_text()
    assert page.count("<video") == 3 and page.count("<img") == 3 and page.count("<audio") == 3
    assert 'href="clip0.html"' in (out / "index.html").read_text()


@pytest.fixture
def tiny_model_dir():
    from sampling_fixtures import tiny_checkpoint

    path = tiny_checkpoint()  # a fresh temporary folder: removed after the test
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_comparison_script_runs_the_ar_model_too(tiny_model_dir, tmp_path, monkeypatch):
    """AR-only and AR+diffusion from one tiny random AR model's tokens (default codec shape)."""
    import orbax.checkpoint as ocp
    from flax import nnx

    from v2a_jax.codec import Codec
    from v2a_jax.config import config_to_dict
    from v2a_jax.models.refiner_build import build_refiner

    model_dir = tiny_model_dir
    codec = Codec.load(model_dir / "codec")
    cfg = RefinerConfig(width=16, num_blocks=1, time_dim=16, codec=str(model_dir / "codec"))
    refiner = build_refiner(cfg, nnx.Rngs(0))
    _, params, rest = nnx.split(refiner, nnx.Param, ...)
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(tmp_path / "refiner" / "params", {"params": params, "rest": rest})
    ckptr.wait_until_finished()
    card = {"config": config_to_dict(Config(model=cfg)), "step": 0,
            "build": "v2a_jax.models.refiner_build:build_refiner_model"}  # fmt: skip
    (tmp_path / "refiner" / "config.json").write_text(json.dumps(card))
    audio = np.random.default_rng(0).normal(size=SR).astype(np.float32) * 0.1
    clips = [
        {"clip_id": f"c{i}", "tokens": codec.encode(audio), "audio": audio, "sample_rate": SR,
         "frames": np.full((25, 32, 32, 3), 60 * i, np.uint8), "fps": 25.0,
         "caption": "a metal ball bouncing", "negative_prompt": "rain"}
        for i in range(2)
    ]  # fmt: skip
    script = _load_script()
    monkeypatch.setattr(script, "open_split", lambda data_dir, split, name=None: clips)
    out = tmp_path / "compare"
    script.main(
        ["--model", str(model_dir), "--refiner", str(tmp_path / "refiner"), "--data-dir", "x",
         "--num-clips", "2", "--num-steps", "2", "--pages", "1", "--no-syncbench",
         "--out", str(out)]
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    for entry in ("ar", "ar_diffusion", "gt_coarse", "gt_coarse_diffusion"):
        assert np.isfinite(results[entry]["mel_distance"])
    assert set(results["ar_diffusion"]["seconds_per_audio_second"]) >= {"sample", "refine"}
    assert (out / "c0.html").read_text().count("<video") == 5


@pytest.fixture(scope="module")
def cli_export(tokenized_dir, tmp_path_factory):
    """``v2a refiner train`` + ``v2a export`` of the tiny config on the tokenized fixture."""
    from v2a_jax.cli import main

    tmp = tmp_path_factory.mktemp("refiner_cli")
    work, export = tmp / "work", tmp / "export"
    assert main(["refiner", "train", "--config", str(ROOT / "configs" / "refiner_tiny.py"),
                 "--workdir", str(work), "--no-progress", f"--config.data.data_dir={tokenized_dir}",
                 "--config.train.steps=2", "--config.train.batch_size=2"]) == 0  # fmt: skip
    assert main(["export", "--workdir", str(work), "--out", str(export)]) == 0
    return export


def test_cli_train_export_eval_on_the_tokenized_fixture(cli_export, tokenized_dir, tmp_path):
    from v2a_jax.cli import main

    out = tmp_path / "eval.json"
    assert main(["refiner", "eval", "--refiner", str(cli_export), "--data-dir", str(tokenized_dir),
                 "--num-clips", "2", "--num-steps", "2", "--out", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert result["num_clips"] == 2 and set(result["mel_distance"]) == set(VARIANTS)
    saved = json.loads((cli_export / "config.json").read_text())["config"]["model"]
    assert len(saved["residual_std"]) == 64 and saved["codec"]  # statistics and codec recorded
    assert result["codec"] == str(saved["codec"])  # decoded with the refiner's own codec


def test_comparison_scored_by_syncbench(cli_export, tokenized_dir, tmp_path):
    from v2a_jax.eval import classifier

    if not (classifier.ASSET_DIR / classifier.WEIGHTS).is_file():
        pytest.skip("the SyncBench classifier is not shipped yet (v2a_jax/assets/eval/)")
    compare = tmp_path / "compare"
    _load_script().main(
        ["--refiner", str(cli_export), "--data-dir", str(tokenized_dir), "--num-clips", "2",
         "--num-steps", "2", "--pages", "1", "--out", str(compare)]
    )  # fmt: skip
    results = json.loads((compare / "results.json").read_text())
    for entry in ("gt_coarse", "gt_coarse_diffusion"):
        assert results[entry]["syncbench"]["num_clips"] == 2
        assert "onset_f1" in results[entry]["syncbench"]
