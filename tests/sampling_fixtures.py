"""Shared helpers of the sampling tests: a tiny random model and a tiny exported checkpoint.

Built once per process (``functools.cache``), so every test file that imports them shares them.
Parameters are drawn with numpy (fan-in scaled normals, ones for norm scales) instead of the
model's own initialisers: the same shapes and structure, without compiling one XLA program per
parameter shape, which costs about ten seconds on a loaded 2-core machine. The sampling tests
check plumbing, not what a trained model says.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.models import MODEL_PRESETS, build_model

TINY = MODEL_PRESETS["tiny"]
# The untrained project codec (Codec.from_config()): 16 kHz, hop 320 (50 frames/s), K=4, V=1024.
TINY_1024 = dataclasses.replace(TINY, codebook_size=1024)


def random_model(cfg, seed: int = 0):
    """A ``TokenLM`` of ``cfg`` with numpy-drawn parameters."""
    abstract = nnx.eval_shape(lambda: build_model(cfg, nnx.Rngs(seed)))
    graphdef, state = nnx.split(abstract)
    rng = np.random.default_rng(seed)

    def draw(path, leaf):
        name = jax.tree_util.keystr(path)
        if "norm" in name or "scale" in name:
            return jnp.ones(leaf.shape, leaf.dtype)
        fan_in = int(np.prod(leaf.shape[:-1])) if leaf.ndim > 1 else leaf.shape[0]
        x = rng.normal(0.0, fan_in**-0.5, leaf.shape)
        return jnp.asarray(x, leaf.dtype)

    return nnx.merge(graphdef, jax.tree.map_with_path(draw, state))


@functools.cache
def tiny_model():
    """The ``tiny`` preset (V = 16, windows of 61 codec frames)."""
    return random_model(TINY)


@functools.cache
def tiny_checkpoint() -> Path:
    """An export folder as ``v2a_jax.train.checkpoint.export_params`` writes it (``params/`` +
    ``config.json``), holding the tiny model with V = 1024 and, in ``codec/``, an untrained
    ``Codec.from_config(seed=0)``. Loadable with ``load_model`` and ``V2A.from_pretrained``."""
    import orbax.checkpoint as ocp

    from v2a_jax.codec import Codec
    from v2a_jax.config import Config, DataConfig, config_to_dict

    out = Path(tempfile.mkdtemp(prefix="v2a_tiny_ckpt_"))
    config = Config(model=TINY_1024, data=DataConfig(data_dir=str(out / "no_data")), seed=0)
    model = random_model(TINY_1024)
    _, params, rest = nnx.split(model, nnx.Param, ...)
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(out / "params", {"params": params, "rest": rest}, force=True)
    ckptr.wait_until_finished()
    card = {
        "config": config_to_dict(config),
        "build": "v2a_jax.train.loop:build_token_lm",
        "step": 0,
    }
    (out / "config.json").write_text(json.dumps(card, indent=2))
    Codec.from_config(seed=0).save(out / "codec")
    return out
