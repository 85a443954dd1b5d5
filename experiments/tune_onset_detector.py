"""Tune SyncBench's onset detector on a SyncScenes validation split: onset F1 of the real audio.

    python experiments/tune_onset_detector.py --data-dir workdirs/syncbench_data \\
        --split validation --out out/tune_onset_detector.json

Scores every setting of a small grid (the detector's thresholds: ``ratio``, ``rise_floor``,
``soft_rise_floor``, ``min_band_fraction``) by the onset F1 of the split's ground-truth audio
against its annotations (50 ms), and writes them all, best first, beside the score of the current
defaults (``OnsetConfig()``). It changes nothing: a new default goes into ``OnsetConfig`` by hand,
citing the JSON. Never run it on the test split (the script refuses).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.data.loaders import open_split
from v2a_jax.eval.matching import MatchCounts, match_onsets
from v2a_jax.eval.onsets import OnsetConfig, detect_onsets
from v2a_jax.io.atomic import atomic_path

GRID = {
    "ratio": (2.5, 3.0, 3.5),
    "rise_floor": (0.06, 0.08, 0.1, 0.13),
    "soft_rise_floor": (0.02, 0.03, 0.045),
    "min_band_fraction": (0.7, 0.85),
}


def score(clips, cfg: OnsetConfig, tolerance_s: float = 0.05) -> dict[str, float]:
    """Onset F1, precision, recall and mean offset (ms) of ``clips``' real audio under ``cfg``."""
    counts = MatchCounts()
    for clip in clips:
        events = np.array([e["time_s"] for e in clip["annotation"]["events"]])
        counts += match_onsets(detect_onsets(clip["audio"], clip["sample_rate"], cfg), events,
                               tolerance_s)  # fmt: skip
    return {"onset_f1": counts.f1, "onset_precision": counts.precision,
            "onset_recall": counts.recall, "onset_offset_ms": counts.offset_ms}  # fmt: skip


def tune(clips, grid: dict[str, tuple] = GRID) -> list[dict]:
    """Every setting of ``grid`` with its scores, best onset F1 first."""
    rows = []
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values, strict=True))
        if settings["soft_rise_floor"] > settings["rise_floor"]:
            continue
        rows.append({"settings": settings,
                     **score(clips, dataclasses.replace(OnsetConfig(), **settings))})  # fmt: skip
    return sorted(rows, key=lambda r: -r["onset_f1"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--name", help="builder/config when the folder holds several")
    p.add_argument("--split", default="validation")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.split == "test":
        p.error("--split test: the detector is tuned on validation (or train) clips, never test")
    t0 = time.perf_counter()
    clips = list(open_split(args.data_dir, args.split, args.name))
    current = {f.name: getattr(OnsetConfig(), f.name) for f in dataclasses.fields(OnsetConfig)}
    rows = tune(clips)
    seconds = round(time.perf_counter() - t0, 1)
    result = {"data_dir": args.data_dir, "split": args.split, "num_clips": len(clips),
              "current": {"settings": current, **score(clips, OnsetConfig())},
              "grid": GRID, "rows": rows, "seconds": seconds}  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    cur = result["current"]
    print(f"current defaults: F1 {cur['onset_f1']:.3f} P {cur['onset_precision']:.3f} "
          f"R {cur['onset_recall']:.3f} on {len(clips)} {args.split} clips")  # fmt: skip
    for row in rows[:5]:
        print(f"F1 {row['onset_f1']:.3f} P {row['onset_precision']:.3f} "
              f"R {row['onset_recall']:.3f} {row['settings']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
