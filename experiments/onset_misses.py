"""Which annotated events a decoder's audio loses, by material, and how loud it is where it does.

    python experiments/onset_misses.py --data-dir workdirs/ss_test200 --num-clips 100 \\
        --pred-dirs shipped=workdirs/rec_default_v2 --out out/onset_misses.json

The recall side of ``onset_false_positives.py``. For each annotated event that SyncBench's onset
detector finds in the ground-truth audio (within the 50 ms tolerance), it asks whether it also
finds it in each folder of ``<clip_id>.wav`` (what ``v2a codec reconstruct`` or ``v2a generate``
write), and counts the misses per event material (rubber, wood, drum, metal, glass, beep). For
every such event it also takes the power of the 20 ms after the event time in the prediction
over that in the ground truth (``power_after_ratio``): near 1 when the event is there but its
onset is blurred, near 0 when the event is gone. Writes JSON and prints a table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from v2a_jax.data.loaders import open_split
from v2a_jax.eval.onsets import OnsetConfig, detect_onsets
from v2a_jax.io.atomic import write_json
from v2a_jax.io.audio import read_wav


def found(detected_s, time_s: float, tolerance_s: float = 0.05) -> bool:
    """Whether any detection lies within ``tolerance_s`` of ``time_s``."""
    d = np.asarray(detected_s, float)
    return bool(d.size) and float(np.min(np.abs(d - time_s))) <= tolerance_s


def power_after(wave_s: np.ndarray, sr: int, time_s: float, win_s: float) -> float:
    """Mean power of ``wave_s`` [S] over ``win_s`` seconds from ``time_s`` (0 past the end)."""
    start = max(0, round(time_s * sr))
    seg = np.asarray(wave_s[start : start + max(1, round(win_s * sr))], np.float64)
    return float(np.mean(seg * seg)) if seg.size else 0.0


def tally(events, truth_wave, truth_sr, pred_wave, pred_sr, cfg: OnsetConfig) -> list[dict]:
    """One record per event the detector finds in the ground truth.

    Args:
        events: the clip's annotated events (dicts with ``time_s`` and ``material``).
        truth_wave, truth_sr: the ground-truth audio [S] and its rate.
        pred_wave, pred_sr: the prediction [S'] and its rate.
        cfg: the detector's settings (its window length is the power window).

    Returns:
        [{"material", "missed", "power_after_ratio"}] for the events found in the ground truth.
    """
    truth_on, pred_on = (
        detect_onsets(truth_wave, truth_sr, cfg),
        detect_onsets(pred_wave, pred_sr, cfg),
    )
    out = []
    for event in events:
        t = float(event["time_s"])
        if not found(truth_on, t):
            continue
        truth_power = power_after(truth_wave, truth_sr, t, cfg.win_s)
        ratio = power_after(pred_wave, pred_sr, t, cfg.win_s) / max(truth_power, 1e-12)
        out.append(
            {
                "material": str(event.get("material", "?")),
                "missed": not found(pred_on, t),
                "power_after_ratio": ratio,
            }
        )
    return out


def summarize(records: list[dict]) -> dict:
    """Per material and overall: events, misses, miss rate, and the median ``power_after_ratio``
    of the missed and of the found events."""

    def stats(rs):
        missed = [r["power_after_ratio"] for r in rs if r["missed"]]
        kept = [r["power_after_ratio"] for r in rs if not r["missed"]]
        return {
            "events": len(rs),
            "missed": len(missed),
            "miss_rate": len(missed) / len(rs) if rs else None,
            "median_power_after_ratio_missed": float(np.median(missed)) if missed else None,
            "median_power_after_ratio_found": float(np.median(kept)) if kept else None,
        }

    materials = sorted({r["material"] for r in records})
    return {
        "all": stats(records),
        "per_material": {m: stats([r for r in records if r["material"] == m]) for m in materials},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=None, help="the first N clips (default all)")
    p.add_argument("--pred-dirs", nargs="+", required=True, help="NAME=FOLDER of <clip_id>.wav")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    dirs = dict(item.split("=", 1) for item in args.pred_dirs)
    source, cfg = open_split(args.data_dir, args.split), OnsetConfig()
    count = len(source) if args.num_clips is None else min(args.num_clips, len(source))
    records = {name: [] for name in dirs}
    for i in range(count):
        clip = source[i]
        truth, sr = np.asarray(clip["audio"], np.float32), int(clip["sample_rate"])
        events = clip["annotation"].get("events", [])
        for name, folder in dirs.items():
            wave, pred_sr = read_wav(Path(folder) / f"{clip['clip_id']}.wav")
            records[name] += tally(events, truth, sr, wave, pred_sr, cfg)
    report = {
        "data_dir": str(args.data_dir),
        "split": args.split,
        "num_clips": count,
        "results": {name: summarize(rs) for name, rs in records.items()},
    }
    for name, res in report["results"].items():
        print(f"{name}: {res['all']['missed']} of {res['all']['events']} events missed")
        for material, s in res["per_material"].items():
            ratio = s["median_power_after_ratio_missed"]
            print(
                f"  {material:8s} {s['missed']:4d} / {s['events']:4d} missed"
                + (
                    f", power after the event {ratio:.3f} of the truth's"
                    if ratio is not None
                    else ""
                )
            )
    write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
