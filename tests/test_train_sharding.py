"""Sharded training equals single-device training (8 simulated CPU devices, own process).

Three train steps of the tiny LM on meshes (data, fsdp, tensor) = (8,1,1), (2,2,2), (1,8,1)
give the losses of the same three steps on one device, within a relative 1e-5.

Why 1e-5 and not exact: a sharded program sums partial results in another order (psum over
devices, split matmul contractions), and float32 sums of differently ordered terms differ in the
last bits (~1e-7 relative per reduction); three Adam steps carry those differences into the
parameters, where they stay orders of magnitude below 1e-5 (the tolerance policy for composite
float32 ops). A real sharding bug (a wrong spec, a missing all-reduce) shifts the loss at 1e-2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

MESHES = [(8, 1, 1), (2, 2, 2), (1, 8, 1)]
STEPS = 3


def _records(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    return [
        {
            "clip_id": f"c{i}",
            "tokens": rng.integers(0, 1024, (10, 4)).astype(np.int32),
            "frames": rng.integers(0, 255, (5, 64, 64, 3)).astype(np.uint8),
            "text_emb": rng.normal(size=(int(rng.integers(2, 6)), 384)).astype(np.float16),
        }
        for i in range(n)
    ]


def _losses(mesh_shape) -> list[float]:
    """Three steps through the loop's own pieces (init or restore, jitted step, batch placement)."""
    import dataclasses

    import jax
    from flax import nnx  # noqa: F401

    from v2a_jax.config import load_config
    from v2a_jax.sharding import MeshConfig, make_mesh
    from v2a_jax.train.data import BatchIterator, Position, to_device
    from v2a_jax.train.loop import _default_loss, build_token_lm, restore_or_init
    from v2a_jax.train.optim import learning_rate_schedule, make_optimizer
    from v2a_jax.train.step import jit_steps

    config = load_config(
        Path(__file__).parents[1] / "configs" / "tiny.py",
        [
            "--config.train.batch_size=8",
            "--config.train.warmup_steps=0",
            "--config.train.lr=1e-2",
            "--config.model.num_layers=1",  # one block shows every sharded op; compiles faster
        ],
    )
    mesh = None
    if mesh_shape is not None:
        config = dataclasses.replace(config, mesh=MeshConfig(*mesh_shape))
        mesh = make_mesh(config.mesh)
    tx, schedule = make_optimizer(config.train), learning_rate_schedule(config.train)
    workdir = Path(os.environ["WORKDIR"]) / str(mesh_shape)
    graphdef, state, _, _, shardings = restore_or_init(
        config, workdir, build_token_lm, tx, mesh, None, None
    )
    with jax.set_mesh(mesh) if mesh is not None else _null():
        step_fn, _ = jit_steps(graphdef, _default_loss(), tx, schedule, shardings, mesh)
        batches = BatchIterator(_records(16), 8, config.data, Position())
        rng = jax.random.key(0)
        out = []
        for _ in range(STEPS):
            state, metrics = step_fn(state, to_device(next(batches), mesh), rng)
            out.append(float(metrics["loss"]))
        if mesh is not None:  # the parameters really are split as the rules say
            kernel = state.params["heads"]
            assert kernel.get_value().sharding.spec == shardings.params["heads"].get_value().spec
    return out


def _null():
    import contextlib

    return contextlib.nullcontext()


def test_sharded_steps_match_one_device(tmp_path):
    env = dict(
        os.environ,
        # Optimisation level 0: four programs compile in a fraction of the time; both sides of
        # the comparison are compiled alike.
        XLA_FLAGS="--xla_force_host_platform_device_count=8 --xla_backend_optimization_level=0",
        JAX_PLATFORMS="cpu",
        WORKDIR=str(tmp_path),
    )
    proc = subprocess.run(
        [sys.executable, __file__], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    reference = np.array(result["single"])
    assert np.all(np.isfinite(reference)) and reference[-1] < reference[0]  # it does train
    for shape in MESHES:
        got = np.array(result[str(shape)])
        np.testing.assert_allclose(got, reference, rtol=1e-5, err_msg=f"mesh {shape}")


if __name__ == "__main__":
    import jax

    assert jax.device_count() == 8, jax.devices()
    results = {"single": _losses(None)}
    for shape in MESHES:
        results[str(shape)] = _losses(shape)
    print(json.dumps(results))
