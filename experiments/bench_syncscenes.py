"""How fast SyncScenes renders on one core (frames + audio + stems + annotation per clip).

python experiments/bench_syncscenes.py --num-clips 200 --out out/bench_syncscenes.json

Writes {clips_per_s, ms_per_clip, num_clips, seconds, cores, config} and prints the figure. The
thread variables are set before numpy loads and the process is pinned to one core, so the number
is what one data-loading worker gets.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"  # one core, before numpy loads

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from v2a_jax.data.syncscenes import SceneConfig, render_clip  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-clips", type=int, default=200)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--out", default="out/bench_syncscenes.json")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cfg = SceneConfig(height=args.height, width=args.width, fps=args.fps, duration_s=args.duration)
    render_clip(10**6, cfg)  # warm-up: imports and caches
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.num_clips):
        render_clip(seed, cfg)
    seconds = time.perf_counter() - start
    result = {
        "clips_per_s": args.num_clips / seconds,
        "ms_per_clip": 1000 * seconds / args.num_clips,
        "num_clips": args.num_clips,
        "seconds": seconds,
        "cores": 1,
        "config": dataclasses.asdict(cfg),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(
        f"{result['clips_per_s']:.1f} clips/s on one core ({args.num_clips} clips, {seconds:.1f} s,"
        f" {result['ms_per_clip']:.1f} ms/clip) at {cfg.height}x{cfg.width}, {cfg.duration_s:g} s"
    )


if __name__ == "__main__":
    main()
