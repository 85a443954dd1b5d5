"""Sampling settings against SyncBench: guidance scale and sampling method, same clips and seeds.

Onset F1 is a balance of precision (no spurious onsets) and recall; sampling noise adds onsets
the video does not ask for, and guidance pulls the samples toward the video. Each setting
generates ``--num-samples`` soundtracks for the first ``--num-clips`` clips of a split (prompt:
the clip's caption; seeds ``seed + 100 * clip_index + i``, the quality bar's), writes
``--out/<setting>/<clip_id>/<i>.wav`` and scores them with SyncBench.

    python experiments/sampling_sweep.py --model default --data-dir workdirs/ss_test200 \
        --num-clips 40 --num-samples 2 --settings 3:topk:250 4:topk:250 3:topk:250:0.8 \
        --out out/sampling_sweep

A setting is ``SCALE:METHOD`` (``METHOD`` as ``--method`` of ``v2a generate``). Writes
``--out/results.json``: per setting onset F1 / precision / recall / offset, adherence, FAD,
diversity, and the sampling seconds per second of audio.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from v2a_jax.api import V2A
from v2a_jax.data.loaders import open_split
from v2a_jax.eval import evaluate
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import write_wav
from v2a_jax.sampling.methods import parse_method

KEYS = ("onset_f1", "onset_precision", "onset_recall", "onset_offset_ms", "adherence", "fad",
        "diversity")  # fmt: skip


def parse_setting(spec: str) -> tuple[float, str]:
    """``"3:topk:250"`` -> (3.0, ``"topk:250"``); the method is checked by ``parse_method``."""
    scale, _, method = spec.partition(":")
    try:
        value = float(scale)
    except ValueError:
        raise ValueError(f"setting {spec!r}: expected SCALE:METHOD, e.g. 3:topk:250") from None
    parse_method(method)
    return value, method


def run_setting(pipe: V2A, clips, count: int, scale: float, method: str, args, folder: Path):
    """Generates every clip's samples into ``folder``; returns (sampling seconds, audio seconds)."""
    seconds = audio_s = 0.0
    for index in range(count):
        clip = clips[index]
        sr, n = int(clip["sample_rate"]), len(clip["audio"])
        duration = min(len(clip["frames"]) / float(clip["fps"]), n / sr)
        t = time.perf_counter()
        res = pipe.generate(frames=clip["frames"], fps=float(clip["fps"]), duration=duration,
                            prompt=clip["caption"], num_samples=args.num_samples,
                            seed=args.seed + 100 * index, refine=False, guidance_scale=scale,
                            method=parse_method(method))  # fmt: skip
        seconds += time.perf_counter() - t - res.timings["decode"]
        audio_s += args.num_samples * duration
        for i, wave in enumerate(res.waveforms):
            write_wav(folder / clip["clip_id"] / f"{i}.wav", wave[:n], sr)
    return seconds, audio_s


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=40)
    p.add_argument("--num-samples", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="+", default=["3:topk:250"], help="SCALE:METHOD ...")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    settings = {spec: parse_setting(spec) for spec in args.settings}
    out = Path(args.out)
    pipe = V2A.from_pretrained(args.model)
    clips = open_split(args.data_dir, args.split)
    count = min(args.num_clips, len(clips))
    results = {"model": args.model, "data_dir": args.data_dir, "split": args.split,
               "num_clips": count, "num_samples": args.num_samples, "settings": {}}  # fmt: skip
    for spec, (scale, method) in settings.items():
        folder = out / spec.replace(":", "_")
        seconds, audio_s = run_setting(pipe, clips, count, scale, method, args, folder)
        report = evaluate(args.data_dir, args.split, folder, limit=count)
        row = {k: report[k] for k in KEYS}
        row.update(guidance_scale=scale, method=method, num_problems=report["num_problems"],
                   sample_s_per_audio_s=round(seconds / audio_s, 4))  # fmt: skip
        results["settings"][spec] = row
        print(spec, json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                for k, v in row.items()}), flush=True)  # fmt: skip
        with atomic_path(out / "results.json") as tmp:  # after every setting: nothing is lost
            tmp.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
