"""``v2a generate`` (one video, or a CSV of them) and ``v2a generate-split`` (a data set split).

Outputs:
    generate VIDEO --out DIR           DIR/<stem>_<i>.mp4, DIR/<stem>_<i>.wav, DIR/manifest.json
    generate --batch list.csv --out D  D/<row>_<stem>/ as above for each row, D/batch.json
    generate-split --out DIR           DIR/<clip_id>/<i>.wav, DIR/manifest.json (what
                                       ``v2a eval`` reads)
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from v2a_jax.io.atomic import atomic_path

BATCH_COLUMNS = ("video", "prompt")
BATCH_OPTIONAL = ("negative_prompt", "seed")


def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="default", help="default, or a checkpoint/export folder")
    p.add_argument("--codec", help="codec name or folder (default: the model's own)")
    p.add_argument("--dtype", choices=("float32", "bfloat16"),
                   help="run the AR model in this dtype (default: its saved one)")  # fmt: skip
    p.add_argument("-n", "--num-samples", type=int, default=4, help="variations per video")
    p.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    p.add_argument("--guidance-scale", type=float, default=3.0)
    p.add_argument("--guidance-form", choices=("separate", "common"), default="separate")
    p.add_argument("--video-weight", type=float, help="separate-form weight w_v")
    p.add_argument("--prompt-weight", type=float, help="separate-form weight w_p")
    p.add_argument("--negative-weight", type=float, help="separate-form weight w_n")
    p.add_argument("--negative-reference", choices=("null", "video"),
                   help="what the negative prompt is measured against: null (default: also "
                   "removes a sound the picture shows) or video")  # fmt: skip
    p.add_argument("--method", default="topk:250:0.7", help="greedy, temperature:T, topk:K[:T], "
                   "topp:P[:T]")  # fmt: skip
    p.add_argument("--overlap", type=float, default=1.0, help="seconds carried between windows")
    p.add_argument(
        "--max-duration", type=float, default=300.0, help="longest soundtrack accepted (seconds)"
    )
    add_refine_args(p)


def add_refine_args(p: argparse.ArgumentParser) -> None:
    """``--refine`` / ``--no-refine`` into ``args.refine`` (None: the model's default)."""
    refine = p.add_mutually_exclusive_group()
    refine.add_argument(
        "--refine",
        dest="refine",
        action="store_true",
        default=None,
        help="apply the diffusion refiner (error if the model has none; default: on when the "
        "model has one)",
    )
    refine.add_argument("--no-refine", dest="refine", action="store_false",
                        help="decode the AR tokens directly")  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    gen = subparsers.add_parser(
        "generate",
        help="soundtracks for a video (or a CSV of videos): mp4 + wav per sample + manifest",
        description="Without --refine/--no-refine the refiner runs when the model has one; the "
        "manifest's settings.refined says whether it did.",
    )
    gen.add_argument("video", nargs="?", help="the video file")
    gen.add_argument("--batch", help="CSV with columns video,prompt[,negative_prompt][,seed]")
    gen.add_argument("--prompt", default="", help="what should be heard")
    gen.add_argument("--negative-prompt", default="", help="what should not be heard")
    gen.add_argument("--duration", type=float, help="seconds of soundtrack (default: all)")
    gen.add_argument("--out", required=True, help="output folder")
    _add_sampling_args(gen)
    gen.set_defaults(func=_generate)

    split = subparsers.add_parser(
        "generate-split",
        help="<clip_id>/<i>.wav for every clip of a data set split (for v2a eval)",
    )
    split.add_argument("--data-dir", required=True)
    split.add_argument("--split", default="test")
    split.add_argument("--name", help="builder[/config] when the data dir holds several")
    split.add_argument("--negative-layer", help="a SyncScenes layer (rain, water, wind, music, "
                       "hum) given as the negative prompt of every clip")  # fmt: skip
    split.add_argument("--limit", type=int, help="only the first N clips")
    split.add_argument("--out", required=True)
    _add_sampling_args(split)
    split.set_defaults(func=_generate_split)


def _pipeline(args):
    from v2a_jax.api import V2A

    return V2A.from_pretrained(
        args.model, codec=args.codec, max_duration_s=args.max_duration, dtype=args.dtype
    )


def _gen_kwargs(args) -> dict:
    from v2a_jax.sampling.methods import parse_method

    return dict(
        num_samples=args.num_samples,
        refine=args.refine,
        guidance_scale=args.guidance_scale,
        guidance_form=args.guidance_form,
        video_weight=args.video_weight,
        prompt_weight=args.prompt_weight,
        negative_weight=args.negative_weight,
        negative_reference=args.negative_reference,
        method=parse_method(args.method),
        overlap_s=args.overlap,
    )


class _Progress:
    """A tqdm bar over the windows of one generation, opened at the first window (so a request
    that fails before sampling prints only its error)."""

    def __init__(self, desc: str):
        self.desc, self.bar = desc, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit="window", leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_one(pipe, video, out_dir: Path, kwargs: dict, stem: str | None = None):
    progress = _Progress(Path(video).name)
    try:
        out = pipe.generate(video=video, progress=progress, **kwargs)
    finally:
        progress.close()
    return out, out.save(out_dir, stem=stem or Path(video).stem)


def _check_mode(args) -> None:
    if (args.video is None) == (args.batch is None):
        raise ValueError("give a VIDEO or --batch list.csv (one of the two)")
    if args.batch and (args.prompt or args.negative_prompt or args.duration):
        raise ValueError("with --batch the prompts come from the CSV; drop --prompt/--duration")


def _generate(args: argparse.Namespace) -> int:
    _check_mode(args)
    if args.batch:
        rows = _read_batch(Path(args.batch))  # bad CSVs fail before the model loads
        return _generate_batch(args, rows)
    kwargs = _gen_kwargs(args)
    pipe = _pipeline(args)
    kwargs.update(prompt=args.prompt, negative_prompt=args.negative_prompt, seed=args.seed,
                  duration=args.duration)  # fmt: skip
    out, manifest = _run_one(pipe, args.video, Path(args.out), kwargs)
    t = out.timings
    print(
        f"wrote {out.num_samples} samples of {out.duration_s:.2f} s to {args.out} "
        f"(manifest {manifest.name}; sampling {t['sample']:.2f} s, total {t['total']:.2f} s)"
    )
    return 0


def _read_batch(path: Path) -> list[dict]:
    """The CSV's rows with ``video`` resolved against the CSV's folder; one clear error if the
    file or its header is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"batch file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in BATCH_COLUMNS if c not in header]
        unknown = [c for c in header if c not in BATCH_COLUMNS + BATCH_OPTIONAL]
        if missing or unknown:
            raise ValueError(
                f"{path}: columns must be video,prompt[,negative_prompt][,seed]; "
                f"missing {missing}, unknown {unknown}"
            )
        rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        raise ValueError(f"{path}: no rows")
    for row in rows:
        video = Path(row["video"])
        row["video"] = str(video if video.is_absolute() else path.parent / video)
    return rows


def _generate_batch(args, rows: list[dict]) -> int:
    from tqdm import tqdm

    base = _gen_kwargs(args)
    pipe = _pipeline(args)
    out_root = Path(args.out)
    report = []
    for i, row in enumerate(tqdm(rows, desc="batch", unit="video")):
        entry = {"row": i + 1, "video": row["video"], "prompt": row["prompt"]}
        try:
            seed = int(row["seed"]) if row.get("seed") else args.seed
            kwargs = dict(base, prompt=row["prompt"], seed=seed,
                          negative_prompt=row.get("negative_prompt", ""))  # fmt: skip
            folder = out_root / f"{i + 1:04d}_{Path(row['video']).stem}"
            _, manifest = _run_one(pipe, row["video"], folder, kwargs)
            entry.update(status="ok", manifest=str(manifest.relative_to(out_root)), seed=seed)
        except Exception as err:  # one bad row is reported and the rest still run
            entry.update(status="error", error=f"{type(err).__name__}: {err}")
            print(f"v2a generate: row {i + 1} ({row['video']}): error: {err}", file=sys.stderr)
        report.append(entry)
    with atomic_path(out_root / "batch.json") as tmp:
        tmp.write_text(json.dumps({"model": args.model, "rows": report}, indent=2) + "\n")
    failed = sum(e["status"] != "ok" for e in report)
    print(f"{len(rows) - failed} of {len(rows)} videos done; report in {out_root / 'batch.json'}")
    return 1 if failed else 0


def _negative_for_layer(layer: str | None) -> str | None:
    if layer is None:
        return None
    from v2a_jax.data.syncscenes.captions import LAYER_WORDS

    if layer not in LAYER_WORDS:
        raise ValueError(f"--negative-layer must be one of {sorted(LAYER_WORDS)}, got {layer!r}")
    return LAYER_WORDS[layer][0]


def _generate_split(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from v2a_jax.data.loaders import open_split
    from v2a_jax.io.audio import write_wav

    negative = _negative_for_layer(args.negative_layer)
    source = open_split(args.data_dir, args.split, args.name)
    kwargs = _gen_kwargs(args)
    pipe = _pipeline(args)
    count = len(source) if args.limit is None else min(args.limit, len(source))
    out = Path(args.out)
    clips, failed, t0 = {}, 0, time.perf_counter()
    for index in tqdm(range(count), desc=f"generate {args.split}", unit="clip"):
        clip = source[index]
        clip_id = clip["clip_id"]
        neg = negative if negative is not None else clip.get("negative_prompt", "")
        # The clip's audio is the reference length: its frame count is rounded up or down.
        duration = min(len(clip["frames"]) / float(clip["fps"]),
                       len(clip["audio"]) / float(clip["sample_rate"]))  # fmt: skip
        try:
            res = pipe.generate(frames=clip["frames"], fps=float(clip["fps"]), duration=duration,
                                prompt=clip["caption"], negative_prompt=neg, seed=args.seed,
                                **kwargs)  # fmt: skip
            written = []
            for i in range(res.num_samples):
                write_wav(out / clip_id / f"{i}.wav", res.waveforms[i], res.sample_rate)
                written.append(f"{clip_id}/{i}.wav")
        except Exception as err:  # reported per clip; the rest of the split still runs
            failed += 1
            print(f"v2a generate-split: clip {clip_id}: error: {err}", file=sys.stderr)
            continue
        clips[clip_id] = {"prompt": res.prompt, "negative_prompt": res.negative_prompt,
                          "seeds": res.seeds, "files": written,
                          "timings": {k: round(v, 4) for k, v in res.timings.items()}}  # fmt: skip
    manifest = {
        "model": args.model, "data_dir": str(args.data_dir), "split": args.split,
        "negative_layer": args.negative_layer, "num_samples": args.num_samples,
        "sample_rate": pipe.sample_rate, "settings": _settings(args),
        "seconds": round(time.perf_counter() - t0, 3), "clips": clips,
    }  # fmt: skip
    with atomic_path(out / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(clips)} clips x {args.num_samples} samples to {out} ({failed} failed)")
    return 1 if failed else 0


def _settings(args) -> dict:
    keys = ("guidance_scale", "guidance_form", "video_weight", "prompt_weight",
            "negative_weight", "negative_reference", "method", "overlap", "refine", "seed",
            "codec")  # fmt: skip
    return {k: getattr(args, k) for k in keys}
