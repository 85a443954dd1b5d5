"""SyncScenes *training* clips rich in tonal events, as wavs for the codec recipe's --wav-dir.

    python experiments/render_tonal_clips.py --out-dir workdirs/tonal_train_wavs --num 300 \\
        --first 256 --last 4000

The shipped codec's decoder loses tones (``experiments/onset_misses.py``: beeps, glass, metal)
while a decoder fine-tuned on one beep clip renders them, so the decoder has to see more of them.
This renders training-split seeds ``[first, last)`` in order (never validation or test) and keeps
the clips with at least ``--min-events`` events of ``--materials`` (default: 2 of beep, glass,
metal), until ``--num`` are written as ``seed<N>.wav`` (float32, the data set's sample rate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from v2a_jax.data.splits import split_seeds
from v2a_jax.data.syncscenes import SceneConfig, render_clip
from v2a_jax.io.audio import write_wav

TONAL = ("beep", "glass", "metal")


def tonal_events(annotation: dict, materials=TONAL) -> int:
    """How many of a clip's annotated events are of ``materials``."""
    return sum(e.get("material") in materials for e in annotation.get("events", []))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--num", type=int, default=300, help="clips to write")
    p.add_argument("--first", type=int, default=256, help="first training seed index")
    p.add_argument("--last", type=int, default=4000, help="end of the training seed indices")
    p.add_argument("--materials", nargs="+", default=list(TONAL))
    p.add_argument("--min-events", type=int, default=2)
    args = p.parse_args(argv)
    out, cfg = Path(args.out_dir), SceneConfig()
    written = 0
    for seed in split_seeds("train", args.last)[args.first :]:
        clip = render_clip(seed, cfg)
        if tonal_events(clip.annotation, tuple(args.materials)) < args.min_events:
            continue
        write_wav(out / f"seed{seed}.wav", np.asarray(clip.audio), cfg.sample_rate, "FLOAT")
        written += 1
        if written >= args.num:
            break
    print(f"wrote {written} clips to {out}")
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
