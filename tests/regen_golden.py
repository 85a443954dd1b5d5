"""Regenerates tests/golden/partition_specs_base.json: ``python -m tests.regen_golden``.

Run it when a change to the base model or to ``LOGICAL_RULES`` is intended; review the diff.
"""

import json
from pathlib import Path

from flax import nnx

from v2a_jax.io.atomic import atomic_path
from v2a_jax.models import MODEL_PRESETS, build_model
from v2a_jax.sharding import partition_specs

GOLDEN = Path(__file__).parent / "golden" / "partition_specs_base.json"


def base_partition_specs() -> dict:
    """Every base-config parameter's PartitionSpec, from shapes only (``nnx.eval_shape``)."""
    model = nnx.eval_shape(lambda: build_model(MODEL_PRESETS["base"], nnx.Rngs(0)))
    return partition_specs(nnx.state(model, nnx.Param))


def write_golden(path: Path = GOLDEN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(to_json(base_partition_specs()))


def to_json(specs: dict) -> str:
    """One parameter per line, sorted, so a diff shows exactly which specs changed."""
    lines = [f"  {json.dumps(k)}: {json.dumps(specs[k])}" for k in sorted(specs)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    write_golden()
    print(f"wrote {GOLDEN}")
