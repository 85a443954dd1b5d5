"""Train-step speed and model FLOP utilisation (MFU) of configs on this machine's first device.

    python experiments/bench_train.py --presets small,base --out out/bench_train.json \
        [--seconds 2] [--steps 3] [--batch-size 4] [--config.train.batch_size=8 ...]

Each preset is ``configs/<name>.py`` (or ``--config FILE`` for one file), built exactly as
``v2a train`` builds it (the loop's own init and jitted step), on synthetic batches of the real
shapes (random tokens, frames and text embeddings of a ``--seconds`` clip). The step is lowered
and compiled once (``compile_s``), run once, then timed over ``--steps`` steps.

FLOPs per step come from XLA's cost analysis of the compiled step (``flops_source:
"xla_cost_analysis"``) when the backend gives one, else from the analytic estimate
``6 * N * positions + attention`` (``"analytic"``); both are reported. The peak is measured on
the same device: the median time of a large square ``jnp.dot`` in float32 and in bfloat16
(``peak_flops``). MFU = achieved FLOP/s / the peak of the config's compute dtype. Works on any
JAX backend: on a GPU the base config computes in bfloat16 against the bfloat16 peak.

Writes {machine, peak_flops, results: [{preset, params, compile_s, step_s, tokens_per_s,
flops_per_step, achieved_flops, mfu, ...}]} as JSON (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from v2a_jax.config import config_to_dict, load_config
from v2a_jax.io.atomic import atomic_path
from v2a_jax.train.data import BatchIterator, to_device
from v2a_jax.train.loop import _default_loss, build_token_lm, restore_or_init
from v2a_jax.train.optim import learning_rate_schedule, make_optimizer
from v2a_jax.train.step import jit_steps

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


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


def matmul_peak(dtype: str, size: int | None = None, repeats: int = 5) -> dict:
    """FLOP/s of a timed square ``jnp.dot`` of ``size`` (default 2048 on CPU, 8192 elsewhere),
    accumulated in float32 as the model's products are (``v2a_jax/layers/dot.py``; on the CPU a
    bf16 -> bf16 product takes a slower path than bf16 -> f32, so it would understate the peak)."""
    n = size or (2048 if jax.default_backend() == "cpu" else 8192)
    key_a, key_b = jax.random.split(jax.random.key(0))
    a = jax.random.normal(key_a, (n, n), dtype)
    b = jax.random.normal(key_b, (n, n), dtype)
    dot = jax.jit(lambda a, b: jnp.dot(a, b, preferred_element_type=jnp.float32))
    dot(a, b).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        dot(a, b).block_until_ready()
        times.append(time.perf_counter() - start)
    t = statistics.median(times)
    return {"dtype": dtype, "size": n, "median_s": t, "flops_per_s": 2 * n**3 / t}


def analytic_flops(model_cfg, params: int, batch: int, steps: int, memory: int) -> float:
    """``6 N`` per position (forward + backward) + self- and cross-attention scores/mixes."""
    d, layers = model_cfg.d_model, model_cfg.num_layers
    positions = batch * steps
    attention = 12 * layers * d * positions * (steps + memory)  # 3 * (2 QK + 2 AV) * D
    return 6.0 * params * positions + attention


def bench_config(config, seconds: float, num_steps: int, peaks: dict) -> dict:
    """Times ``config``'s jitted train step; returns its numbers (see the module docstring)."""
    tc = config.train
    mesh = None
    if config.mesh is not None:
        from v2a_jax.sharding import make_mesh

        mesh = make_mesh(config.mesh)
    tx, schedule = make_optimizer(tc), learning_rate_schedule(tc)
    workdir = Path("/nonexistent-bench-workdir")  # nothing is restored or saved
    graphdef, state, *_, shardings = restore_or_init(
        config, workdir, build_token_lm, tx, mesh, None, None
    )
    params = sum(x.size for x in jax.tree.leaves(state.params))
    step_fn, _ = jit_steps(graphdef, _default_loss(), tx, schedule, shardings, mesh)
    records = _records(config, seconds, tc.batch_size)
    batch = to_device(next(BatchIterator(records, tc.batch_size, config.data)), mesh)
    rng = jax.random.key(0)
    start = time.perf_counter()
    compiled = step_fn.lower(state, batch, rng).compile()
    compile_s = time.perf_counter() - start
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list | tuple) else cost
    xla_flops = float(cost["flops"]) if cost and cost.get("flops", 0) > 0 else None
    memory = compiled.memory_analysis()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready(metrics)
    times = []
    for _ in range(num_steps):
        start = time.perf_counter()
        state, metrics = compiled(state, batch, rng)
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
    step_s = statistics.median(times)
    m = config.model
    b, t = batch["tokens"].shape[:2]
    video = batch["frames"].shape[1]
    estimate = analytic_flops(m, params, b, t + m.num_codebooks - 1, video + 12)
    flops = xla_flops if xla_flops is not None else estimate
    peak = peaks[m.dtype if m.dtype in peaks else "float32"]["flops_per_s"]
    achieved = flops / step_s
    return {
        "params": int(params),
        "compute_dtype": m.dtype,
        "batch_size": int(b),
        "seconds_per_clip": seconds,
        "codec_frames": int(t),
        "compile_s": compile_s,
        "step_s": step_s,
        "step_times_s": times,
        "tokens_per_s": b * t * m.num_codebooks / step_s,
        "positions_per_s": b * t / step_s,
        "clips_per_s": b / step_s,
        "flops_per_step": flops,
        "flops_source": "xla_cost_analysis" if xla_flops is not None else "analytic",
        "flops_per_step_xla": xla_flops,
        "flops_per_step_analytic": estimate,
        "achieved_flops_per_s": achieved,
        "peak_flops_per_s": peak,
        "mfu": achieved / peak,
        "loss": float(metrics["loss"]),
        "memory": None
        if memory is None
        else {
            k: int(getattr(memory, k))
            for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes")
            if hasattr(memory, k)
        },
        "config": config_to_dict(config),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="small,base", help="configs/NAME.py, comma list")
    parser.add_argument("--config", default=None, help="one config file instead of --presets")
    parser.add_argument("--seconds", type=float, default=2.0, help="clip duration")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (median)")
    parser.add_argument("--batch-size", type=int, default=None, help="override train.batch_size")
    parser.add_argument("--out", default="out/bench_train.json")
    parser.add_argument("--note", default="")
    args, overrides = parser.parse_known_args()
    if args.batch_size is not None:
        overrides = [f"--config.train.batch_size={args.batch_size}", *overrides]
    if args.config:
        files = {Path(args.config).stem: Path(args.config)}
    else:
        files = {p: CONFIG_DIR / f"{p}.py" for p in args.presets.split(",") if p}
    for name, path in files.items():
        if not path.is_file():
            raise SystemExit(f"--presets: no config file {path} for preset {name!r}")
    peaks = {d: matmul_peak(d) for d in ("float32", "bfloat16")}
    results = []
    for name, path in files.items():
        row = bench_config(load_config(str(path), overrides), args.seconds, args.steps, peaks)
        results.append({"preset": name, **row})
        print(
            f"{name}: {row['params'] / 1e6:.1f} M params, compile {row['compile_s']:.1f} s, "
            f"{row['step_s']:.3f} s/step, {row['tokens_per_s']:.0f} tokens/s, "
            f"{row['achieved_flops_per_s'] / 1e9:.2f} GFLOP/s ({row['flops_source']}), "
            f"MFU {100 * row['mfu']:.1f}%"
        )
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "affinity": cpus,
            "devices": [str(d) for d in jax.devices()],
            "backend": jax.default_backend(),
        },
        "note": args.note,
        "peak_flops": peaks,
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    for d, p in peaks.items():
        print(f"peak {d}: {p['flops_per_s'] / 1e9:.1f} GFLOP/s ({p['size']}^2 dot)")


if __name__ == "__main__":
    main()
