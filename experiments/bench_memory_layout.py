"""The sampler's two cross-attention memory layouts, timed against each other in one process.

    python experiments/bench_memory_layout.py --out out/bench_memory_layout.json \
        [--preset small] [--batches 1 8] [--rounds 7] [--frames 200]

``sample_window(..., share_video=False)`` keeps the [video; text] memory once per row (the
training layout); ``share_video=True`` keeps the video part once per kind (video, null video)
and attends to it with one per-head matmul over all rows of a run (``Conditions`` in
``v2a_jax/models/token_lm.py``). For each batch and guidance (``nocfg``: 1 branch, ``cfg``: 2,
``cfg_separate``: 3) both are compiled, then timed in alternation, ``--rounds`` rounds, so that
the machine's load hits both alike; medians are reported as ms per decoding step, with
``speedup`` = per-row time / shared time and ``default`` = the layout ``sample_window`` picks
(``shares_video_memory``). The model is the ``--preset`` at random init, ``--frames`` codec frames
(200: a 4 s window, 203 steps),
top-k 250, the video encoder inside the timed call as in ``bench_sampling.py``. JSON is written
atomically, with a markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import jax
from flax import nnx

from v2a_jax.io.atomic import atomic_path
from v2a_jax.models import MODEL_PRESETS, build_model
from v2a_jax.sampling.guidance import CommonCFG, NoGuidance, SeparateCFG
from v2a_jax.sampling.sampler import shares_video_memory

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, run as a file too
import bench_sampling  # noqa: E402  (its sampler set-up; MusicGen is not loaded)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS))
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--frames", type=int, default=200, help="codec frames per window")
    args = p.parse_args(argv)
    if min(args.rounds, args.frames, *args.batches) < 1:
        p.error("--rounds, --frames and every --batches value must be >= 1")
    model = build_model(MODEL_PRESETS[args.preset], nnx.Rngs(0))
    split = nnx.split(model)
    guidances = {"nocfg": NoGuidance(), "cfg": CommonCFG(3.0),
                 "cfg_separate": SeparateCFG.from_scale(3.0, False)}  # fmt: skip
    steps = args.frames + model.cfg.num_codebooks - 1
    rows = []
    for batch in args.batches:
        for name, guidance in guidances.items():
            fns = {share: bench_sampling.our_sampler(model, split, batch, args.frames, guidance,
                                                share_video=share)[0]
                   for share in (False, True)}  # fmt: skip
            for fn in fns.values():
                jax.block_until_ready(fn())  # compile
            times = {share: [] for share in fns}
            for _ in range(args.rounds):
                for share, fn in fns.items():
                    start = time.perf_counter()
                    jax.block_until_ready(fn())
                    times[share].append(time.perf_counter() - start)
            per_row, shared = (statistics.median(times[s]) / steps * 1e3 for s in (False, True))
            flags = tuple(br.video for br in guidance.branches for _ in range(batch))
            row = {"batch": batch, "guidance": name, "rows": len(flags),
                   "per_row_ms_per_step": round(per_row, 3), "shared_ms_per_step": round(shared, 3),
                   "speedup": round(per_row / shared, 3),
                   "default": "shared" if shares_video_memory(flags) else "per_row"}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = {"preset": args.preset, "steps": steps, "rounds": args.rounds,
           "backend": jax.default_backend(), "rows": rows}  # fmt: skip
    table = ["| batch | guidance | rows | per row ms/step | shared ms/step | speedup | default |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    keys = ("batch", "guidance", "rows", "per_row_ms_per_step", "shared_ms_per_step", "speedup",
            "default")  # fmt: skip
    table += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    out_path = Path(args.out)
    with atomic_path(out_path) as tmp:
        tmp.write_text(json.dumps(out, indent=1))
    with atomic_path(out_path.with_suffix(".md")) as tmp:
        tmp.write_text("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
