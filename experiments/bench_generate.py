"""Wall time of ``V2A.generate`` per sample for one 4 s SyncScenes clip, compile included and
excluded, with randomly initialised models (timing only: the audio means nothing).

Run:
    python experiments/bench_generate.py --presets tiny small --out out/bench_generate.json

The first call of a (preset, batch, guidance, duration) compiles the sampler; later calls reuse
the program. Reported per preset: seconds per sample of the first call (compile included) and the
median of ``--repeats`` later calls (compile excluded), split into text, sampling and decoding.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from v2a_jax.api import V2A
from v2a_jax.codec import Codec
from v2a_jax.data.syncscenes import render_clip
from v2a_jax.io.atomic import atomic_path
from v2a_jax.models import MODEL_PRESETS, build_model


def bench(preset: str, num_samples: int, repeats: int, clip) -> dict:
    cfg = MODEL_PRESETS[preset]
    if cfg.codebook_size != 1024:  # the project codec's codebooks
        cfg = dataclasses.replace(cfg, codebook_size=1024)
    model = build_model(cfg, nnx.Rngs(0))
    pipe = V2A(model, None, Codec.from_config(seed=0), name=f"random-{preset}")
    kw = dict(frames=clip.frames, fps=25.0, prompt="a metal ball bouncing, rain",
              negative_prompt="music", num_samples=num_samples, seed=0)  # fmt: skip
    pipe.text_encoder.encode(["warm up"])  # loading MiniLM is not part of a request
    t = time.perf_counter()
    first = pipe.generate(**kw)
    first_s = time.perf_counter() - t
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = pipe.generate(**kw)
        runs.append((time.perf_counter() - t, out.timings))
    warm_s = statistics.median(r[0] for r in runs)
    stages = {k: statistics.median(r[1][k] for r in runs) for k in ("text", "sample", "decode")}
    params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
    return {
        "preset": preset,
        "params": int(params),
        "num_samples": num_samples,
        "duration_s": first.duration_s,
        "window_frames": cfg.max_frames_for_steps(),
        "guidance": first.settings["guidance"],
        "first_call_s": round(first_s, 3),
        "first_call_per_sample_s": round(first_s / num_samples, 3),
        "warm_call_s": round(warm_s, 3),
        "warm_per_sample_s": round(warm_s / num_samples, 3),
        "warm_stages_s": {k: round(v, 3) for k, v in stages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"])
    parser.add_argument("-n", "--num-samples", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="out/bench_generate.json")
    args = parser.parse_args()
    clip = render_clip(1_100_000)
    results = [bench(p, args.num_samples, args.repeats, clip) for p in args.presets]
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "jax_backend": jax.default_backend(),
        },  # fmt: skip
        "clip": {"seed": 1_100_000, "frames": list(np.shape(clip.frames))},
        "results": results,
    }
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
