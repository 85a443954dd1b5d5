"""Shared fixtures: a tiny tokenized data set that any test can read.

``tokenized_dir`` is built once per session: SyncScenes 4 train + 2 validation + 2 test clips of
1 s, tokenized with ``tiny_codec_dir`` (the default architecture, random weights, codebooks
k-means-initialised on noise so tokens vary) and the real MiniLM text encoder. Read it with
``v2a_jax.data.loaders.open_split(tokenized_dir, split)`` and
``v2a_jax.data.tokenized.read_codec_info(tokenized_dir)``.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_codec_dir(tmp_path_factory):
    """A saved codec folder: untrained weights, initialised codebooks (non-constant tokens)."""
    import numpy as np
    import torch

    from v2a_jax.codec import Codec
    from v2a_jax.codec.config import CodecConfig

    codec = Codec.from_config(CodecConfig(kmeans_iters=2), seed=0)
    model = codec.model
    noise = np.random.default_rng(0).normal(0, 0.1, (4, 1, 16000)).astype(np.float32)
    with torch.no_grad():
        model.train()  # the quantizer's first training call runs the k-means initialisation
        model.quantizer(model.encoder(torch.from_numpy(noise)), model.frame_rate, model.bandwidth)
        model.eval()
    folder = tmp_path_factory.mktemp("tiny_codec") / "codec"
    codec.save(folder, card={"name": "tiny-untrained", "steps": 0})
    return folder


@pytest.fixture(scope="session")
def tokenized_dir(tmp_path_factory, tiny_codec_dir):
    """Out-dir of ``v2a data tokenize`` over a 4/2/2-clip, 1 s SyncScenes build."""
    from v2a_jax.cli import main

    root = tmp_path_factory.mktemp("tokenized")
    source, out = root / "syncscenes", root / "tokenized"
    build = ["data", "build", "syncscenes", "--data-dir", str(source), "--num-train", "4",
             "--num-validation", "2", "--num-test", "2", "--duration", "1"]  # fmt: skip
    assert main(build) == 0
    tokenize = ["data", "tokenize", "--data-dir", str(source), "--codec", str(tiny_codec_dir),
                "--out-dir", str(out)]  # fmt: skip
    assert main(tokenize) == 0
    return out


@pytest.fixture(scope="module")
def jax_compilation_cache(tmp_path_factory):
    """Runs of one module compile the same programs again (a resumed run, a second config):
    share them through JAX's persistent cache, then restore the settings."""
    import jax

    old = (
        jax.config.jax_compilation_cache_dir,
        jax.config.jax_persistent_cache_min_compile_time_secs,
    )
    jax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("jax_cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    yield
    jax.config.update("jax_compilation_cache_dir", old[0])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", old[1])
