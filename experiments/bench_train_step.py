"""Train-step speed of a config on this machine, on synthetic batches of the real shapes.

python experiments/bench_train_step.py --config configs/small.py --seconds 4 --steps 5 \
    --out out/bench_train_small.json [--config.train.batch_size=8 ...]

Builds the config's model and optimiser exactly as ``v2a train`` does (the loop's own init and
jitted step), compiles once (timed separately), then times ``--steps`` steps on random tokens,
frames and text embeddings of a ``--seconds`` clip. Writes {params, compile_s, step_s,
tokens_per_s, clips_per_s, memory (XLA's analysis, where the backend gives one), config} as JSON:
the numbers a config's step count and the wall time of a run are planned from.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np

from v2a_jax.config import config_to_dict, load_config
from v2a_jax.io.atomic import atomic_path
from v2a_jax.train.data import BatchIterator, to_device
from v2a_jax.train.loop import _default_loss, build_token_lm, restore_or_init
from v2a_jax.train.optim import learning_rate_schedule, make_optimizer
from v2a_jax.train.step import jit_steps


def _records(config, seconds: float, n: int) -> list[dict]:
    m = config.model
    rng = np.random.default_rng(0)
    t, f = round(seconds * m.audio_frame_rate), round(seconds * m.video.fps)
    shape = (f, m.video.height, m.video.width, 3)
    return [
        {
            "tokens": rng.integers(0, m.codebook_size, (t, m.num_codebooks)).astype(np.int32),
            "frames": rng.integers(0, 255, shape).astype(np.uint8),
            "text_emb": rng.normal(size=(12, m.text_dim)).astype(np.float16),
        }
        for _ in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--seconds", type=float, default=4.0, help="clip duration")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--out", default="out/bench_train_step.json")
    args, overrides = parser.parse_known_args()
    config = load_config(args.config, overrides)
    tc = config.train
    mesh = None
    if config.mesh is not None:
        from v2a_jax.sharding import make_mesh

        mesh = make_mesh(config.mesh)
    tx, schedule = make_optimizer(tc), learning_rate_schedule(tc)
    workdir = Path(args.out).with_suffix(".workdir")  # never written: no checkpoint is saved
    graphdef, state, *_, shardings = restore_or_init(
        config, workdir, build_token_lm, tx, mesh, None, None
    )
    params = sum(x.size for x in jax.tree.leaves(state.params))
    step_fn, _ = jit_steps(graphdef, _default_loss(), tx, schedule, shardings, mesh)
    batches = BatchIterator(
        _records(config, args.seconds, tc.batch_size), tc.batch_size, config.data
    )
    batch = to_device(next(batches), mesh)
    rng = jax.random.key(0)
    start = time.perf_counter()
    compiled = step_fn.lower(state, batch, rng).compile()
    compile_s = time.perf_counter() - start
    memory = compiled.memory_analysis()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready(metrics)
    start = time.perf_counter()
    for _ in range(args.steps):
        state, metrics = compiled(state, batch, rng)
    jax.block_until_ready(metrics)
    step_s = (time.perf_counter() - start) / args.steps
    tokens = batch["tokens"].size
    result = {
        "params": int(params),
        "compile_s": compile_s,
        "step_s": step_s,
        "tokens_per_s": tokens / step_s,
        "clips_per_s": tc.batch_size / step_s,
        "batch_size": tc.batch_size,
        "seconds_per_clip": args.seconds,
        "devices": [str(d) for d in jax.devices()],
        "memory": None
        if memory is None
        else {
            k: int(getattr(memory, k))
            for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes")
            if hasattr(memory, k)
        },
        "config": config_to_dict(config),
    }
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    print(
        f"{params / 1e6:.2f} M params; compile {compile_s:.1f} s; {step_s:.3f} s/step; "
        f"{result['tokens_per_s']:.0f} tokens/s; {result['clips_per_s']:.2f} clips/s"
    )


if __name__ == "__main__":
    main()
