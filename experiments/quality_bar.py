"""Issue 8's quality bar: SyncBench of a model on SyncScenes test clips, AR-only and AR+diffusion.

For each of the first ``--num-clips`` clips of a built SyncScenes split, with the clip's caption
as the prompt, one batched ``generate`` call draws ``--num-samples`` token sequences (seeds
``seed + 100 * clip_index + i``); each is decoded twice from the *same tokens*: straight through
the codec (``ar``) and through the diffusion refiner (``ar_diffusion``), with
``V2A.decode_tokens``. For every clip that has a layer a negative prompt can name (an ambience
or a prompt-only layer), the same prompt plus a negative prompt naming it is sampled with the
same seeds, for ``neg_suppression``.

    python experiments/quality_bar.py --model default --data-dir workdirs/ss_test200 \
        --num-clips 100 --num-samples 4 --out out/quality_bar [--codec CODEC_DIR]

Writes ``--out/results.json``: for ``ar`` and ``ar_diffusion`` the SyncBench report (onset
F1/precision/recall/offset, adherence, FAD, diversity over the samples of a clip,
``neg_suppression`` overall, visible and not visible, ``neg_onset_f1``: onset F1 of the
negative-prompt samples), ``adherence_per_label``, wall times, and (``--baselines``) the
SyncBench baseline rows beside them; and ``--out/results.md``, the table. ``--rescore`` scores the
wavs of an earlier run again without sampling.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.api import V2A
from v2a_jax.data.loaders import open_split
from v2a_jax.data.syncscenes.captions import LAYER_WORDS
from v2a_jax.eval import evaluate
from v2a_jax.eval.suppression import NEGATABLE
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import write_wav

MODES = ("ar", "ar_diffusion")
KEYS = ("onset_f1", "onset_precision", "onset_recall", "onset_offset_ms", "adherence", "fad",
        "diversity", "neg_suppression", "neg_suppression_visible",
        "neg_suppression_not_visible")  # fmt: skip


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument(
        "--codec",
        help="decode with this codec (a folder or name) instead of the "
        "model's own: a decoder-only fine-tune of it makes the same tokens",
    )
    p.add_argument("--dtype", choices=("float32", "bfloat16"),
                   help="run the AR model in this dtype (default: its saved one)")  # fmt: skip
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=100)
    p.add_argument("--num-samples", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--refine-steps", type=int, default=8)
    p.add_argument("--rescore", action="store_true",
                   help="score the wavs already in --out again (no sampling; the model, clip and "
                   "sample counts and timings are those of the run that made them)")  # fmt: skip
    p.add_argument(
        "--syncbench-baselines",
        help="experiments/syncbench_baselines.py's JSON: its "
        "ground_truth and white_noise rows go beside",
    )
    p.add_argument("--report", nargs="*", default=[],
                   help="NAME=report.json: a `v2a eval` report to put beside (e.g. codec "
                   "reconstructions)")  # fmt: skip
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def negated_layer(annotation: dict) -> str | None:
    """The first layer of the clip a negative prompt can name, or None."""
    labels = annotation.get("labels", [])
    return next((name for name in NEGATABLE if name in labels), None)


def _write(folder: Path, cid: str, waves: np.ndarray, sr: int, n: int) -> None:
    for i, wave in enumerate(waves):
        write_wav(folder / cid / f"{i}.wav", wave[:n], sr)


def _manifest(folder: Path, entries: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "manifest.json") as tmp:
        tmp.write_text(json.dumps({"clips": entries}, indent=2) + "\n")


def generate_all(pipe: V2A, clips, count: int, args, out: Path) -> dict:
    """Writes ``out/<mode>/{main,neg}/<clip_id>/<i>.wav``; returns wall times (seconds)."""
    times = {"sample": 0.0, "decode_ar": 0.0, "decode_ar_diffusion": 0.0, "audio_s": 0.0}
    entries = {"main": {}, "neg": {}}
    for index in range(count):
        clip = clips[index]
        cid, sr = clip["clip_id"], int(clip["sample_rate"])
        n = len(clip["audio"])
        duration = min(len(clip["frames"]) / float(clip["fps"]), n / sr)
        layer = negated_layer(clip["annotation"])
        runs = [("main", "")] + ([("neg", LAYER_WORDS[layer][0])] if layer else [])
        for run, negative in runs:
            t = time.perf_counter()
            res = pipe.generate(frames=clip["frames"], fps=float(clip["fps"]), duration=duration,
                                prompt=clip["caption"], negative_prompt=negative,
                                num_samples=args.num_samples, seed=args.seed + 100 * index,
                                refine=False)  # fmt: skip
            times["sample"] += time.perf_counter() - t - res.timings["decode"]
            times["decode_ar"] += res.timings["decode"]
            _write(out / "ar" / run, cid, res.waveforms, sr, n)
            t = time.perf_counter()
            waves, _ = pipe.decode_tokens(res.tokens, res.seeds, True, args.refine_steps)
            times["decode_ar_diffusion"] += time.perf_counter() - t
            _write(out / "ar_diffusion" / run, cid, waves, sr, n)
            entries[run][cid] = {"prompt": clip["caption"], "negative_prompt": negative}
            times["audio_s"] += args.num_samples * duration
        print(f"{index + 1}/{count} {cid}: {len(runs)} runs", flush=True)
    for mode in MODES:
        for run in ("main", "neg"):
            _manifest(out / mode / run, entries[run])
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = open_split(args.data_dir, args.split)
    count = min(args.num_clips, len(clips))
    if args.rescore:
        path = out / "results.json"
        if not path.is_file():
            raise SystemExit(f"--rescore: no earlier run in {out} (expected {path})")
        previous = json.loads(path.read_text())
        for key in ("data_dir", "split"):
            if previous[key] != getattr(args, key):
                raise SystemExit(f"--rescore: {out} was made with --{key.replace('_', '-')} "
                                 f"{previous[key]}, not {getattr(args, key)}")  # fmt: skip
        # what the wavs were made with, not this command line's sampling flags
        for key in ("model", "codec", "dtype", "num_samples", "refine_steps"):
            setattr(args, key, previous.get(key))
        count = min(previous["num_clips"], len(clips))
        times = previous["seconds"]
    else:
        pipe = V2A.from_pretrained(args.model, codec=args.codec, dtype=args.dtype)
        if pipe.refiner is None:
            raise SystemExit(
                f"model {args.model!r} has no refiner: AR+diffusion cannot be measured"
            )
        t0 = time.perf_counter()
        times = generate_all(pipe, clips, count, args, out)
        times["wall"] = time.perf_counter() - t0
    results = {"model": args.model, "codec": args.codec, "dtype": args.dtype,
               "data_dir": args.data_dir,
               "split": args.split, "num_clips": count, "num_samples": args.num_samples,
               "refine_steps": args.refine_steps}  # fmt: skip
    for mode in MODES:
        main_report = evaluate(args.data_dir, args.split, out / mode / "main", limit=count)
        # The baseline of each negative-prompt run: the same clip's samples without it.
        neg_report = evaluate(args.data_dir, args.split, out / mode / "neg",
                              baseline_predictions=out / mode / "main", limit=count)  # fmt: skip
        row = {k: main_report[k] for k in KEYS if not k.startswith("neg_")}
        row.update({k: neg_report[k] for k in KEYS if k.startswith("neg_")})
        row["adherence_per_label"] = main_report["adherence_per_label"]
        row["neg_num_clips"] = neg_report["neg_num_clips"]
        # sync with the negative prompt on (over the clips that have a layer to negate)
        row["neg_onset_f1"] = neg_report["onset_f1"]
        row["num_problems"] = main_report["num_problems"]
        results[mode] = row
    audio = times["audio_s"]
    results["seconds"] = {k: round(v, 2) for k, v in times.items()}
    results["seconds_per_audio_second"] = {
        "ar_sample": round(times["sample"] / audio, 4),
        "decode_ar": round(times["decode_ar"] / audio, 4),
        "decode_ar_diffusion": round(times["decode_ar_diffusion"] / audio, 4),
    }
    baselines = {}
    if args.syncbench_baselines:
        rows = json.loads(Path(args.syncbench_baselines).read_text())["rows"]
        baselines.update({k: rows[k] for k in ("ground_truth", "white_noise")})
    for spec in args.report:
        name, path = spec.split("=", 1)
        baselines[name] = json.loads(Path(path).read_text())
    results["baselines"] = baselines
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown_table(results)
    with atomic_path(out / "results.md") as tmp:
        tmp.write_text(table + "\n")
    print(table)
    return 0


def markdown_table(results: dict) -> str:
    rows = [(mode, results[mode]) for mode in MODES]
    rows += [(name, rep) for name, rep in results.get("baselines", {}).items()]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    lines = ["| | " + " | ".join(KEYS) + " |", "|---" * (len(KEYS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(fmt(rep.get(k)) for k in KEYS) + " |"
              for name, rep in rows]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
