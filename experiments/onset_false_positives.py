"""Where a decoder's extra onsets fall: just after an event, just before one, or in between.

    python experiments/onset_false_positives.py --data-dir workdirs/ss_test200 \\
        --pred-dirs seanet=workdirs/rec_v2 istft=workdirs/rec_istft1 \\
        --out out/onset_false_positives.json

For each folder of ``<clip_id>.wav`` (what ``v2a codec reconstruct`` or ``v2a generate`` write),
runs SyncBench's onset detector and keeps the detections farther than the tolerance (50 ms) from
every annotated event: the ones that cost precision. Each is put in one place by its signed
distance d to the nearest event: ``after`` (tolerance < d <= window, a second rise in an event's
decay), ``before`` (-window <= d < -tolerance) or ``between`` (farther: the steady layers). Also
counts them per clip label. Writes JSON and prints a table.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np

from v2a_jax.eval.onsets import detect_onsets
from v2a_jax.eval.report import _references
from v2a_jax.io.atomic import write_json
from v2a_jax.io.audio import read_wav


def classify(detected_s, events_s, tolerance_s: float = 0.05, window_s: float = 0.15) -> dict:
    """Counts of detections farther than ``tolerance_s`` from every event, by where they fall.

    Args:
        detected_s: detected onset times in seconds.
        events_s: annotated event times in seconds.
        tolerance_s: matching tolerance (detections within it of an event are not counted).
        window_s: how far after / before an event a detection counts as ``after`` / ``before``.

    Returns:
        {"after": int, "before": int, "between": int}.
    """
    events = np.asarray(events_s, float)
    out = {"after": 0, "before": 0, "between": 0}
    for t in np.asarray(detected_s, float):
        d = np.inf if events.size == 0 else (t - events)[np.argmin(np.abs(t - events))]
        if abs(d) <= tolerance_s:
            continue
        where = "after" if 0 < d <= window_s else "before" if -window_s <= d < 0 else "between"
        out[where] += 1
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--pred-dirs", nargs="+", required=True, help="NAME=FOLDER of <clip_id>.wav")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    dirs = dict(item.split("=", 1) for item in args.pred_dirs)
    report = {name: {"after": 0, "before": 0, "between": 0, "per_label": {}} for name in dirs}
    per_label = {name: collections.Counter() for name in dirs}
    for ref in _references(args.data_dir, args.split, None, None):
        for name, folder in dirs.items():
            wave, sr = read_wav(Path(folder) / f"{ref['clip_id']}.wav")
            counts = classify(detect_onsets(wave, sr), ref["events_s"])
            for key, n in counts.items():
                report[name][key] += n
            for label in ref["labels"]:
                per_label[name][label] += sum(counts.values())
    for name in dirs:
        report[name]["total"] = sum(report[name][k] for k in ("after", "before", "between"))
        report[name]["per_label"] = dict(per_label[name].most_common())
        print(name, {k: v for k, v in report[name].items() if k != "per_label"})
    write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
