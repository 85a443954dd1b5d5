"""Runs in its own process with 8 simulated CPU devices (see tests/test_sharding.py).

Computes the tiny model's forward + loss on one device and on the meshes (8,1,1), (2,2,2),
(1,8,1), and prints one JSON line with the numbers for the parent test to compare.
"""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    # 8 simulated devices; one thread each, the test machine is small and shared
    + " --xla_force_host_platform_device_count=8 --xla_cpu_multi_thread_eigen=false"
).strip()

import json  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from test_token_lm import make_batch  # noqa: E402  (this script runs from tests/)

from v2a_jax.models import MODEL_PRESETS, init_model  # noqa: E402
from v2a_jax.models.losses import lm_loss  # noqa: E402
from v2a_jax.sharding import (  # noqa: E402
    MeshConfig,
    batch_sharding,
    make_mesh,
    shard_model,
    state_shardings,
    use_mesh,
)

MESHES = [(8, 1, 1), (2, 2, 2), (1, 8, 1)]


def main():
    cfg = MODEL_PRESETS["tiny"]
    batch = make_batch(cfg, b=8, t=8, f=4)
    rng = jax.random.key(1)
    out = {"num_devices": len(jax.devices())}

    def loss_fn(graphdef):
        def f(state, batch):
            return lm_loss(nnx.merge(graphdef, state), batch, rng, True)  # dropout included

        return f

    ref_model = init_model(cfg, seed=0)
    ref_graphdef, ref_state = nnx.split(ref_model)
    loss, metrics = jax.jit(loss_fn(ref_graphdef))(ref_state, batch)
    out["single"] = {"loss": float(loss), "accuracy": float(metrics["accuracy"])}
    ref_leaves = [np.asarray(x) for x in jax.tree.leaves(ref_state)]

    for shape in MESHES:
        mesh = make_mesh(MeshConfig(*shape))
        if shape == (2, 2, 2):  # one path creates the model sharded, the others move it there
            model = init_model(cfg, seed=0, mesh=mesh)
        else:
            model = shard_model(nnx.merge(ref_graphdef, ref_state), mesh)
        graphdef, state = nnx.split(model)
        param_diff = max(
            float(np.max(np.abs(np.asarray(a) - b)))
            for a, b in zip(jax.tree.leaves(state), ref_leaves, strict=True)
        )
        w_gate = state["blocks"][0]["mlp"]["w_gate"].get_value()
        embed = state["embed"].get_value()
        shardings = state_shardings(state, mesh)
        data = jax.device_put(batch, batch_sharding(mesh))
        with use_mesh(mesh):
            f = jax.jit(loss_fn(graphdef), in_shardings=(shardings, batch_sharding(mesh)))
            loss, metrics = f(state, data)
        out["x".join(map(str, shape))] = {
            "loss": float(loss),
            "accuracy": float(metrics["accuracy"]),
            "param_diff": param_diff,
            "w_gate_spec": [str(a) for a in w_gate.sharding.spec],
            "w_gate_shard": list(w_gate.addressable_shards[0].data.shape),
            "embed_shard": list(embed.addressable_shards[0].data.shape),
            "tokens_shard": list(data["tokens"].addressable_shards[0].data.shape),
        }
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
