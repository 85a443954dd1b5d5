"""Where a decoding step's time goes: each part of the model taken out in turn, in one process.

    python experiments/decode_step_breakdown.py --out out/decode_step_breakdown.json \\
        [--preset small] [--batches 1 8] [--dtype float32] [--repeats 7]

For each batch size, the sampler of ``bench_sampling.py`` (random init, no guidance, top-k 250,
203 steps) is compiled once as it is (``full``) and once per ablation with that part of the
model replaced by the identity, so that XLA drops its work:

- ``mlp``: every block's gated MLP;
- ``cross_attention``: every block's cross-attention (its projections and the memory reads);
- ``self_attention``: every block's attention core, which also leaves the key/value
  projections, RoPE and the KV-cache writes dead;
- ``heads``: the output heads (the logits become a broadcast of the final state).

The variants are timed in turns over ``--repeats`` rounds (so that a change in the machine's load
hits them alike) and ``cost_ms`` of a part is the median step time of ``full`` minus that of its
ablation. Beside each part, ``bytes_per_step`` (weights, plus the KV cache or the memory it
reads) and ``flops_per_step``; and the machine's own ceilings measured in the same process: a
streaming read of a buffer the size of one step's weights and KV cache (``stream_gb_per_s``) and a
matmul of the MLP's shape with its weights in cache (``mlp_matmul_gflop_per_s``). Together they
say whether a part runs at the machine's speed or below it. The costs overlap: taking a part out
also frees cache for the others, so they can add up to more than the step (``rest_ms`` < 0).
Writes JSON (atomically).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.io.atomic import write_json
from v2a_jax.layers import attention, mlp
from v2a_jax.models import MODEL_PRESETS, build_model, token_lm
from v2a_jax.sampling import sampler
from v2a_jax.sampling.guidance import NoGuidance

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, run as a file too
import bench_sampling  # noqa: E402  (its sampler set-up; MusicGen is not loaded)

NUM_FRAMES = 200  # 4 s at 50 Hz: 203 steps with K = 4


class _HeadlessNumpy:
    """``jnp`` for ``token_lm`` with the decoding heads' product replaced by a broadcast."""

    def __getattr__(self, name):
        if name != "einsum":
            return getattr(jnp, name)

        def einsum(spec, x, w, **kw):
            if spec == "kbd,kdv->kbv":  # the decoding heads (TokenLM._forward, s == 1)
                return jnp.broadcast_to(x[..., :1], (*x.shape[:-1], w.shape[-1]))
            return jnp.einsum(spec, x, w, **kw)

        return einsum


def _identity_mlp(self, x_btd):
    return x_btd


def _identity_cross(self, x_btd, *args, **kwargs):
    return x_btd


def _identity_attend(q_bthk, k_bhsk, v_bhsk, mask_bts, dtype):
    return q_bthk


ABLATIONS = {
    "full": (),
    "mlp": ((mlp.GatedMLP, "__call__", _identity_mlp),),
    "cross_attention": ((attention.CrossAttention, "__call__", _identity_cross),),
    "self_attention": ((attention, "_attend", _identity_attend),),
    "heads": ((token_lm, "jnp", _HeadlessNumpy()),),
}


def ablated(run, patches):
    """``run`` traced and executed with ``patches`` applied, through a jit of its own."""

    @functools.wraps(sampler._sample_window)
    def window(*args, **kwargs):  # a new function: jit's trace cache is keyed on it
        return sampler._sample_window(*args, **kwargs)

    jitted = jax.jit(window, static_argnames=sampler.STATIC_ARGNAMES)

    def call():
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        previous, sampler._sample_window_jit = sampler._sample_window_jit, jitted
        for owner, name, value in patches:
            setattr(owner, name, value)
        try:
            return jax.block_until_ready(run())
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)
            sampler._sample_window_jit = previous

    return call


def part_sizes(cfg, batch: int, steps: int, video_len: int, text_len: int, itemsize: int) -> dict:
    """Bytes and FLOPs per decoding step of each part: weights read once per step; the KV cache
    at its mean length over the window's cache segments; the cross-attention memory as the
    sampler stores it without guidance (the video's keys once for all rows, the text's per row)."""
    d, h, k, m, layers = cfg.d_model, cfg.num_heads, cfg.head_dim, cfg.mlp_dim, cfg.num_layers
    ends = sampler.cache_segments(steps)
    starts = (0, *ends[:-1])
    mean_cache = sum((e - s) * e for s, e in zip(starts, ends, strict=True)) / steps
    weights = {"mlp": 3 * d * m, "cross_attention": 2 * d * h * k, "self_attention": 4 * d * h * k}
    out = {}
    for part, w in weights.items():
        memory = video_len + batch * text_len
        reads = {
            "mlp": 0,
            "cross_attention": 2 * h * memory * k,
            "self_attention": batch * 2 * h * mean_cache * k,
        }[part]
        out[part] = {
            "bytes_per_step": int(layers * (w + reads) * itemsize),
            "flops_per_step": int(layers * (2 * batch * w + 2 * reads)),
        }
    heads = cfg.num_codebooks * d * cfg.codebook_size
    out["heads"] = {"bytes_per_step": heads * itemsize, "flops_per_step": 2 * batch * heads}
    return out


def stream_read(num_bytes: int, repeats: int = 5) -> float:
    """GB/s of a jitted sum over a float32 buffer of ``num_bytes``."""
    x = jnp.asarray(np.random.default_rng(0).random(num_bytes // 4, np.float32))
    total = jax.jit(jnp.sum)
    total(x).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        total(x).block_until_ready()
        times.append(time.perf_counter() - start)
    return num_bytes / min(times) / 1e9


def matmul_in_cache(batch: int, d: int, m: int, dtype, repeats: int = 5) -> float:
    """GFLOP/s of [batch, d] x [d, m] products against one weight matrix (in cache), 200 in a
    jitted loop."""
    w = jnp.asarray(np.random.default_rng(0).normal(size=(d, m)) * 0.02, dtype)

    @jax.jit
    def run(x, w):
        return jax.lax.fori_loop(0, 200, lambda i, x: x + 1e-3 * (x @ w)[:, :d], x)

    x = jnp.ones((batch, d), dtype)
    run(x, w).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x, w).block_until_ready()
        times.append(time.perf_counter() - start)
    return 200 * 2 * batch * d * m / min(times) / 1e9


def breakdown(preset: str, batch: int, dtype: str, repeats: int) -> dict:
    """Step times of the full sampler and of each ablation, and each part's cost."""
    cfg = dataclasses.replace(MODEL_PRESETS[preset], dtype=dtype, param_dtype=dtype)
    model = build_model(cfg, nnx.Rngs(0))
    split = nnx.split(model)
    run, memory_len = bench_sampling.our_sampler(model, split, batch, NUM_FRAMES, NoGuidance())
    steps = NUM_FRAMES + cfg.num_codebooks - 1
    calls = {name: ablated(run, patches) for name, patches in ABLATIONS.items()}
    for call in calls.values():  # compile, then warm up
        call()
        call()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    step_ms = {name: 1e3 * statistics.median(ts) / steps for name, ts in times.items()}
    itemsize = jnp.dtype(dtype).itemsize
    text_len = bench_sampling.TEXT_LEN
    sizes = part_sizes(cfg, batch, steps, memory_len - text_len, text_len, itemsize)
    parts = {}
    for part, size in sizes.items():
        cost = step_ms["full"] - step_ms[part]
        parts[part] = {
            "cost_ms": cost,
            "step_ms_without": step_ms[part],
            **size,
            "gb_per_s": size["bytes_per_step"] / max(cost, 1e-9) / 1e6,
            "gflop_per_s": size["flops_per_step"] / max(cost, 1e-9) / 1e6,
        }
    total_bytes = sum(s["bytes_per_step"] for s in sizes.values())
    return {
        "batch": batch,
        "dtype": dtype,
        "steps": steps,
        "memory_len": memory_len,
        "step_ms": step_ms["full"],
        "parts": parts,
        "rest_ms": step_ms["full"] - sum(p["cost_ms"] for p in parts.values()),
        "bytes_per_step": total_bytes,
        "stream_gb_per_s": stream_read(total_bytes),
        "mlp_matmul_gflop_per_s": matmul_in_cache(batch, cfg.d_model, cfg.mlp_dim, dtype),
        "times_s": times,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="JSON report")
    p.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS))
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    report = {
        "preset": args.preset,
        "backend": jax.default_backend(),
        "runs": [breakdown(args.preset, b, args.dtype, args.repeats) for b in args.batches],
    }
    for run in report["runs"]:
        print(
            f"batch {run['batch']}: {run['step_ms']:.3f} ms per step; "
            f"{run['bytes_per_step'] / 1e6:.1f} MB read, streamed alone at "
            f"{run['stream_gb_per_s']:.1f} GB/s; an MLP matmul in cache "
            f"{run['mlp_matmul_gflop_per_s']:.1f} GFLOP/s"
        )
        for part, r in run["parts"].items():
            print(
                f"  {part:16s} {r['cost_ms']:6.3f} ms  {r['bytes_per_step'] / 1e6:5.1f} MB "
                f"({r['gb_per_s']:5.1f} GB/s)  {r['flops_per_step'] / 1e6:6.1f} MFLOP "
                f"({r['gflop_per_s']:5.1f} GFLOP/s)"
            )
        print(f"  {'rest':16s} {run['rest_ms']:6.3f} ms")
    write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
