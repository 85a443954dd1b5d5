"""SyncBench sanity table: what the metrics say about ground truth and about clearly bad audio.

    taskset -c 0 python experiments/syncbench_baselines.py --data-dir workdirs/syncbench_data \
        --out out/syncbench_baselines.json

Builds (or reuses) a SyncScenes data set with ``--num-test`` test and ``--num-validation``
validation clips, writes one predictions folder per row and scores each with ``evaluate``:

- ground truth; ground truth delayed by 200 ms; the soundtrack of another test clip; white
  noise at the clip's RMS; silence;
- negative-prompt check: each clip with an ambience or prompt layer, that layer named as the
  negative prompt, predictions = ground truth minus that layer's stem, baseline = ground truth
  (so about all of it is removed), and the no-op (predictions = baseline = ground truth);
- FAD of real test audio against real validation audio (and the noise row's FAD, real vs noise);
- the chance level of onset F1: the annotations themselves (a perfect detector) delayed by 200 ms,
  another clip's annotations, and a Poisson train at the clips' event rate, each scored against
  the annotations. Events are dense (about 2.5 per second), so a sync error cannot score below
  these; the delayed-annotation number is the floor of the shifted row.

Writes the JSON to ``--out`` and a markdown table beside it (``.md``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.data.loaders import find_datasets, open_split
from v2a_jax.data.syncscenes import LAYER_NAMES
from v2a_jax.data.syncscenes.captions import LAYER_WORDS
from v2a_jax.eval import evaluate, load_classifier
from v2a_jax.eval.fad import frechet_distance
from v2a_jax.eval.matching import MatchCounts, match_onsets
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import write_wav

SHIFT_S = 0.2
CHANCE_SHIFTS_MS = (50, 100, 200, 300, 500, 1000)  # delays of the annotations alone
COLUMNS = ("onset_f1", "onset_precision", "onset_recall", "onset_offset_ms", "adherence", "fad",
           "neg_suppression", "neg_suppression_visible", "neg_suppression_not_visible",
           "neg_band_suppression", "num_problems")  # fmt: skip


def _data_dir(args) -> str:
    root = Path(args.data_dir)
    want = f"n0-{args.num_validation}-t{args.num_test}"
    found = [p for p in find_datasets(root) if want in str(p)]
    if not found:
        from v2a_jax.data.builders.syncscenes import build_syncscenes

        build_syncscenes(root, num_train=0, num_validation=args.num_validation,
                         num_test=args.num_test)  # fmt: skip
        found = [p for p in find_datasets(root) if want in str(p)]
    return "/".join(found[0].parts[-3:-1])


def _write_rows(clips, work: Path, rng) -> dict[str, Path]:
    rows = {k: work / k for k in ("ground_truth", "shifted_200ms", "other_clip", "white_noise",
                                  "silence", "gt_minus_negated", "gt_baseline")}  # fmt: skip
    manifest_clips = {}
    for i, clip in enumerate(clips):
        cid, sr, audio = clip["clip_id"], clip["sample_rate"], clip["audio"]
        shift = round(SHIFT_S * sr)
        other = clips[(i + 1) % len(clips)]["audio"]
        rms = float(np.sqrt(np.mean(audio**2)))
        waves = {
            "ground_truth": audio,
            "shifted_200ms": np.concatenate([np.zeros(shift, np.float32), audio[:-shift]]),
            "other_clip": other,
            "white_noise": rng.standard_normal(len(audio)).astype(np.float32) * rms,
            "silence": np.zeros_like(audio),
        }
        layers = clip["annotation"]["ambiences"] + clip["annotation"]["prompt_layers"]
        if layers:
            layer = layers[0]
            removed = audio - clip["stems"][LAYER_NAMES.index(layer)]
            waves["gt_minus_negated"] = removed
            waves["gt_baseline"] = audio
            manifest_clips[cid] = {"negative_prompt": LAYER_WORDS[layer][0]}
        for key, wave in waves.items():
            write_wav(rows[key] / f"{cid}.wav", wave, sr, subtype="FLOAT")
    for key in ("gt_minus_negated", "gt_baseline"):
        (rows[key] / "manifest.json").write_text(json.dumps({"clips": manifest_clips}))
    return rows


def chance_onset_f1(clips, tolerance_s: float = 0.05, seed: int = 0) -> dict:
    """Onset F1 of event trains that carry no sync information, against the annotations.

    ``annotations_shifted`` maps a delay in ms to the F1 of the exact annotations delayed by it: a
    perfect detector's score at that sync error (SyncScenes keeps events 250 ms apart, so delays
    up to 200 ms score 0 and longer ones fall to the chance level of the event rate).
    """
    events = [np.array([e["time_s"] for e in c["annotation"].get("events", [])]) for c in clips]
    duration = [len(c["audio"]) / c["sample_rate"] for c in clips]
    rate = sum(map(len, events)) / sum(duration)
    rng = np.random.default_rng(seed)
    shifted = {ms: MatchCounts() for ms in CHANCE_SHIFTS_MS}
    other, poisson = MatchCounts(), MatchCounts()
    for i, (ev, dur) in enumerate(zip(events, duration, strict=True)):
        for ms in shifted:
            late = ev + ms / 1000
            shifted[ms] += match_onsets(late[late < dur], ev, tolerance_s)
        other += match_onsets(events[(i + 1) % len(events)], ev, tolerance_s)
        poisson += match_onsets(rng.uniform(0, dur, rng.poisson(rate * dur)), ev, tolerance_s)
    return {"events_per_s": rate,
            "annotations_shifted_200ms": shifted[round(SHIFT_S * 1000)].f1,
            "annotations_shifted": {str(ms): c.f1 for ms, c in shifted.items()},
            "annotations_other_clip": other.f1, "poisson_same_rate": poisson.f1}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="workdirs/syncbench_data")
    p.add_argument("--num-test", type=int, default=200)
    p.add_argument("--num-validation", type=int, default=200)
    p.add_argument("--work", default="workdirs/syncbench_baselines", help="prediction folders")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classifier", help="classifier folder (default: the shipped one)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    name = _data_dir(args)
    clips = list(open_split(args.data_dir, "test", name))
    rows = _write_rows(clips, Path(args.work), np.random.default_rng(args.seed))
    clf = load_classifier(args.classifier)
    results = {}
    for key in ("ground_truth", "shifted_200ms", "other_clip", "white_noise", "silence"):
        results[key] = evaluate(args.data_dir, "test", rows[key], name=name, classifier=clf)
        print(key, {c: results[key].get(c) for c in COLUMNS[:6]}, flush=True)
    # Negative prompts: only clips with a negatable layer have files here; the others are
    # reported missing (as they should be), the suppression numbers use the pairs that exist.
    results["neg_prompt_removed"] = evaluate(
        args.data_dir,
        "test",
        rows["gt_minus_negated"],
        rows["gt_baseline"],
        name=name,
        classifier=clf,
    )
    results["neg_prompt_noop"] = evaluate(
        args.data_dir, "test", rows["gt_baseline"], rows["gt_baseline"], name=name, classifier=clf
    )
    val = [c["audio"] for c in open_split(args.data_dir, "validation", name)]
    sr = clips[0]["sample_rate"]
    fad_test_val = frechet_distance(clf.embed([c["audio"] for c in clips], sr), clf.embed(val, sr))
    summary = {
        "data_dir": str(args.data_dir), "name": name, "num_test": len(clips),
        "num_validation": len(val), "shift_s": SHIFT_S,
        "fad_real_test_vs_real_validation": fad_test_val,
        "fad_real_test_vs_white_noise": results["white_noise"]["fad"],
        "onset_chance_f1": chance_onset_f1(clips, seed=args.seed),
        "classifier_card": clf.card.get("validation", {}).get("macro_f1"),
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": {k: {c: v.get(c) for c in COLUMNS} for k, v in results.items()},
    }  # fmt: skip
    out = Path(args.out)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(markdown(summary))
    print(markdown(summary))
    return 0


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def markdown(summary: dict) -> str:
    cols = COLUMNS[:6] + ("neg_suppression_visible", "neg_suppression_not_visible")
    lines = ["| predictions | " + " | ".join(cols) + " |", "|" + " --- |" * (len(cols) + 1)]
    for key, row in summary["rows"].items():
        lines.append(f"| {key} | " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    lines.append("")
    fad_tv = summary["fad_real_test_vs_real_validation"]
    fad_noise = _fmt(summary["fad_real_test_vs_white_noise"])
    lines.append(
        f"FAD real test vs real validation: {fad_tv:.3f}; real test vs white noise: {fad_noise}"
        f" ({summary['num_test']} test, {summary['num_validation']} validation clips)"
    )
    ch = summary["onset_chance_f1"]
    lines.append(
        f"\nOnset F1 chance level ({ch['events_per_s']:.2f} events/s, 50 ms tolerance): "
        f"annotations delayed 200 ms {ch['annotations_shifted_200ms']:.3f}, "
        f"another clip's annotations {ch['annotations_other_clip']:.3f}, "
        f"Poisson onsets at the same rate {ch['poisson_same_rate']:.3f}"
    )
    curve = ", ".join(f"{ms} ms {f1:.3f}" for ms, f1 in ch["annotations_shifted"].items())
    lines.append(f"Annotations delayed by: {curve}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
