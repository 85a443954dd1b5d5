"""Sharding: mesh shapes, logical rules, forward + loss on 8 simulated devices equal to one
device, and the golden PartitionSpecs of the base config.

Tolerance: 1e-4 (composite float32 computation, reductions reordered across devices).
Regenerate the golden file after an intended change: ``python -m tests.regen_golden`` (or run
this file with ``V2A_REGEN_GOLDEN=1``), then review the diff.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest
from flax import nnx
from jax.sharding import AbstractMesh, PartitionSpec

from v2a_jax.models import MODEL_PRESETS, build_model
from v2a_jax.sharding import (
    LOGICAL_RULES,
    MeshConfig,
    logical_to_spec,
    make_mesh,
    partition_specs,
    state_shardings,
    use_mesh,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "partition_specs_base.json"


def test_mesh_config_fills_minus_one_and_rejects_bad_shapes():
    assert MeshConfig().shape(8) == (8, 1, 1)
    assert MeshConfig(data=-1, fsdp=2, tensor=2).shape(8) == (2, 2, 2)
    assert MeshConfig(data=1, fsdp=-1).shape(8) == (1, 8, 1)
    with pytest.raises(ValueError, match="does not divide"):
        MeshConfig(data=-1, fsdp=3).shape(8)
    with pytest.raises(ValueError, match="needs 4 devices"):
        MeshConfig(data=2, fsdp=2, tensor=1).shape(8)
    with pytest.raises(ValueError, match="at most one -1"):
        MeshConfig(data=-1, fsdp=-1).shape(8)


def test_logical_rules_cover_the_contract_names():
    names = {name for name, _ in LOGICAL_RULES}
    assert names == {
        "batch",
        "audio_time",
        "video_time",
        "codebook",
        "embed",
        "heads",
        "kv",
        "mlp",
        "vocab",
    }
    assert logical_to_spec(("embed", "mlp")) == PartitionSpec("fsdp", "tensor")
    with pytest.raises(ValueError, match="unknown logical axis"):
        logical_to_spec(("embedding",))
    mesh = AbstractMesh((1, 2, 4), ("data", "fsdp", "tensor"))
    with pytest.raises(ValueError, match="not divisible"):
        logical_to_spec(("heads",), (6,), mesh)


def _base_state():
    model = nnx.eval_shape(lambda: build_model(MODEL_PRESETS["base"], nnx.Rngs(0)))
    return nnx.state(model, nnx.Param)


def test_base_partition_specs_match_golden():
    state = _base_state()
    specs = partition_specs(state)
    # every parameter is annotated
    assert len(specs) == len(jax.tree.leaves(state))
    if os.environ.get("V2A_REGEN_GOLDEN"):
        from tests.regen_golden import write_golden

        write_golden(GOLDEN)
    golden = json.loads(GOLDEN.read_text())
    assert specs == golden, "PartitionSpecs changed; see tests/regen_golden.py to regenerate"


def test_base_config_divides_a_pod_sized_mesh():
    # data 4 x fsdp 16 x tensor 4: every sharded parameter axis divides its mesh axes
    mesh = AbstractMesh((4, 16, 4), ("data", "fsdp", "tensor"))
    for _path, variable in nnx.to_flat_state(_base_state()):
        names = variable.get_metadata()["out_sharding"]
        logical_to_spec(names, variable.get_value().shape, mesh)  # raises if not divisible


def test_flax_sees_the_same_specs_under_use_mesh():
    mesh = make_mesh(MeshConfig(), devices=jax.devices()[:1])
    with use_mesh(mesh):
        state = nnx.state(nnx.eval_shape(lambda: build_model(MODEL_PRESETS["tiny"], nnx.Rngs(0))))
    ours = state_shardings(state, mesh)
    flax_specs = [v.get_value().sharding.spec for _, v in nnx.to_flat_state(state)]
    our_specs = [v.get_value().spec for _, v in nnx.to_flat_state(ours)]
    assert flax_specs == our_specs


def test_forward_and_loss_on_8_devices_match_one_device():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "sharding_worker.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["num_devices"] == 8
    ref = out["single"]
    for mesh in ("8x1x1", "2x2x2", "1x8x1"):
        got = out[mesh]
        assert got["param_diff"] == 0.0, mesh
        assert abs(got["loss"] - ref["loss"]) <= 1e-4, (mesh, got["loss"], ref["loss"])
        assert abs(got["accuracy"] - ref["accuracy"]) <= 1e-4, mesh
    # the shardings are real: tiny d_model 32, mlp 64, batch 8
    assert out["8x1x1"]["tokens_shard"][0] == 1 and out["8x1x1"]["w_gate_shard"] == [32, 64]
    assert out["2x2x2"]["w_gate_spec"] == ["fsdp", "tensor"]
    assert out["2x2x2"]["w_gate_shard"] == [16, 32] and out["2x2x2"]["tokens_shard"][0] == 2
    assert out["1x8x1"]["embed_shard"] == [4, 17, 4] and out["1x8x1"]["tokens_shard"][0] == 1
