"""AR-only versus AR+diffusion on the same clips, tokens and seeds (issue 7's comparison).

For each of the first ``--num-clips`` clips of a tokenized split:

- ``ar``: the AR model samples tokens (seed ``--seed + clip index``), decoded by the codec;
- ``ar_diffusion``: the same tokens' ``z_q`` (first k codebooks) refined, then decoded;
- ``gt_coarse`` and ``gt_coarse_diffusion``: the same two from the clip's ground-truth tokens
  (the first k codebooks), which isolates the refiner from the AR model's errors.

Writes ``--out/results.json`` (per entry: SyncBench metrics, ``mel_distance`` to the ground
truth, wall time of each stage per second of audio), ``--out/predictions/<entry>/<clip_id>.wav``
(the layout ``v2a eval`` reads), and ``--out/index.html`` linking a page per clip (the first
``--pages``) with the video muxed with each soundtrack, audio players and spectrograms.

    python experiments/compare_ar_vs_diffusion.py --model M --data-dir DIR \
        --split test --num-clips 100 --out out/compare

``--refiner`` defaults to the model's own ``refiner/`` folder; ``--model`` may be left out (with
``--refiner``) to run only the ground-truth-token entries.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.loaders import open_split
from v2a_jax.diffusion.metrics import multiscale_mel_distance
from v2a_jax.diffusion.refine import refine_jit
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import fit_length, resample, write_wav
from v2a_jax.train.checkpoint import load_model
from v2a_jax.viz.compare_page import write_clip_page, write_index
from v2a_jax.viz.tracks import write_track

LABELS = {
    "ground_truth": "ground truth",
    "ar": "AR",
    "ar_diffusion": "AR + diffusion",
    "gt_coarse": "true coarse tokens",
    "gt_coarse_diffusion": "true coarse tokens + diffusion",
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="AR model (export or workdir); omit for true tokens only")
    p.add_argument(
        "--refiner",
        help="refiner (export or workdir); default: the model's own "
        "refiner/ (the default model ships one)",
    )
    p.add_argument(
        "--codec",
        help="decode with this codec (a folder or name) instead of the refiner's: a "
        "decoder-only fine-tune of it reads the same tokens and latents",
    )
    p.add_argument("--data-dir", required=True, help="tokenized data set")
    p.add_argument("--name", default="tokenized", help="builder[/config] in --data-dir")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=100)
    p.add_argument("--num-steps", type=int, default=8, help="refiner ODE steps")
    p.add_argument("--method", choices=("euler", "heun"), help="default: the refiner's")
    p.add_argument("--noise-scale", type=float, default=1.0, help="refiner's starting noise std")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--pages", type=int, default=8, help="clips that get an HTML page")
    p.add_argument("--out", required=True)
    p.add_argument("--no-syncbench", action="store_true", help="skip SyncBench (mel only)")
    return p.parse_args(argv)


class Timer:
    """Accumulates wall seconds per stage (device work is awaited before the clock stops)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, stage: str, fn, *args, **kwargs):
        start = time.perf_counter()
        out = jax.block_until_ready(fn(*args, **kwargs))
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
        return out


def ar_tokens(v2a, clips: list[dict], seeds: list[int], num_frames: int) -> np.ndarray:
    """The AR model's tokens [B, T, K] for ``clips`` (video + caption), one seed per clip.

    ``v2a`` is a ``v2a_jax.api.V2A``; tokens only (``refine=False``): this script decodes them.
    """
    out = []
    for clip, seed in zip(clips, seeds, strict=True):
        result = v2a.generate(
            frames=clip["frames"],
            fps=float(clip["fps"]),
            prompt=clip["caption"],
            negative_prompt=clip.get("negative_prompt", ""),
            num_samples=1,
            seed=seed,
            refine=False,
        )
        out.append(fit_frames(result.tokens[0], num_frames))
    return np.stack(out)


def fit_frames(tokens_tk: np.ndarray, num_frames: int) -> np.ndarray:
    """Cut or edge-pad tokens to ``num_frames`` (the clip's true token count)."""
    if len(tokens_tk) >= num_frames:
        return tokens_tk[:num_frames]
    return np.concatenate([tokens_tk, np.repeat(tokens_tk[-1:], num_frames - len(tokens_tk), 0)])


def decode_entries(refiner, codec, tokens_btk, rng, args, timer, prefix) -> dict[str, np.ndarray]:
    """``{prefix: waves, prefix_diffusion: waves}`` for one batch of tokens."""
    k = refiner.cfg.coarse_codebooks
    waves = {prefix: timer.run(f"{prefix}/decode", codec.decode, tokens_btk)}
    z_q = timer.run(f"{prefix}_diffusion/dequantize", refiner.dequantize, tokens_btk[..., :k])
    z = timer.run(
        f"{prefix}_diffusion/refine",
        refine_jit,
        refiner,
        z_q,
        rng,
        num_steps=args.num_steps,
        method=args.method,
        noise_scale=args.noise_scale,
    )
    waves[f"{prefix}_diffusion"] = timer.run(
        f"{prefix}_diffusion/decode", codec.decode_latent, np.array(z)
    )
    return waves


def write_page(out: Path, clip: dict, waves: dict[str, np.ndarray], mels: dict[str, float]) -> str:
    cid, sr = clip["clip_id"], int(clip["sample_rate"])
    tracks = [
        write_track(out, f"media/{cid}/{entry}", LABELS[entry], wave, sr, clip["frames"],
                    float(clip["fps"]), {"mel_distance": mels[entry]} if entry in mels else {})
        for entry, wave in waves.items()
    ]  # fmt: skip
    write_clip_page(out / f"{cid}.html", cid, tracks, caption=clip.get("caption", ""))
    return f"{cid}.html"


def refiner_path(args) -> Path:
    """``--refiner``, else the ``refiner/`` folder shipped beside ``--model``."""
    if args.refiner:
        return Path(args.refiner)
    if not args.model:
        raise SystemExit("--refiner is needed when --model is not given")
    from v2a_jax.api import DEFAULT_MODEL_DIR

    model_dir = DEFAULT_MODEL_DIR if args.model == "default" else Path(args.model)
    if not (model_dir / "refiner").is_dir():
        raise SystemExit(f"model {args.model!r} has no refiner/ folder: pass --refiner")
    return model_dir / "refiner"


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    refiner, _ = load_model(refiner_path(args))
    codec_name = args.codec or refiner.cfg.codec
    codec = Codec.from_pretrained(codec_name)
    source = open_split(args.data_dir, args.split, args.name)
    n = min(len(source), args.num_clips)
    prefixes = ["gt_coarse"] + (["ar"] if args.model else [])
    v2a = None
    if args.model:
        from v2a_jax.api import V2A

        v2a = V2A.from_pretrained(args.model, codec=codec)
    timer, mel, pages, audio_s = Timer(), {}, [], 0.0
    for start in range(0, n, args.batch_size):
        clips = [source[i] for i in range(start, min(start + args.batch_size, n))]
        k = refiner.cfg.coarse_codebooks
        gt_btk = np.stack([c["tokens"] for c in clips]).astype(np.int32)
        tokens = {"gt_coarse": gt_btk[..., :k]}
        if args.model:
            seeds = [args.seed + start + i for i in range(len(clips))]
            tokens["ar"] = timer.run("ar/sample", ar_tokens, v2a, clips, seeds, gt_btk.shape[1])
        rng = jax.random.fold_in(jax.random.key(args.seed), start)
        waves = {}
        for prefix in prefixes:
            waves.update(decode_entries(refiner, codec, tokens[prefix], rng, args, timer, prefix))
        for i, clip in enumerate(clips):
            sr, truth = int(clip["sample_rate"]), np.asarray(clip["audio"], np.float32)
            audio_s += len(truth) / sr
            clip_waves = {"ground_truth": truth}
            for entry, w in waves.items():
                wave = fit_length(resample(w[i], codec.sample_rate, sr), len(truth))
                write_wav(out / "predictions" / entry / f"{clip['clip_id']}.wav", wave, sr)
                mel.setdefault(entry, {})[clip["clip_id"]] = multiscale_mel_distance(
                    wave, truth, sr
                )
                clip_waves[entry] = wave
            if start + i < args.pages:
                clip_mels = {e: mel[e][clip["clip_id"]] for e in waves}
                pages.append((clip["clip_id"], write_page(out, clip, clip_waves, clip_mels)))

    results = {
        "num_clips": n,
        "split": args.split,
        "num_steps": args.num_steps,
        "noise_scale": args.noise_scale,
        "method": args.method or refiner.cfg.method,
        "seed": args.seed,
        "coarse_codebooks": refiner.cfg.coarse_codebooks,
        "codec": str(codec_name),
        "audio_seconds": audio_s,
    }
    for entry in mel:
        stages = {
            s.split("/", 1)[1]: t for s, t in timer.seconds.items() if s.startswith(entry + "/")
        }
        if entry.endswith("_diffusion"):  # the same tokens: their sampling cost counts too
            base = entry.removesuffix("_diffusion")
            stages.update({s.split("/", 1)[1]: t for s, t in timer.seconds.items()
                           if s.startswith(base + "/") and not s.endswith("/decode")})  # fmt: skip
        results[entry] = {
            "mel_distance": float(np.mean(list(mel[entry].values()))),
            "seconds_per_audio_second": {s: t / audio_s for s, t in stages.items()},
        }
        if not args.no_syncbench:
            from v2a_jax.eval import evaluate

            results[entry]["syncbench"] = evaluate(
                args.data_dir,
                args.split,
                predictions=str(out / "predictions" / entry),
                name=args.name,
                limit=n,
            )
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2, default=float))
    rows = "".join(
        f"<tr><td>{LABELS[e]}</td><td>{results[e]['mel_distance']:.4f}</td></tr>" for e in mel
    )
    summary = f"<table><tr><th>entry</th><th>mel distance</th></tr>{rows}</table>"
    write_index(out / "index.html", "AR vs AR + diffusion", pages, summary)
    print(json.dumps({e: results[e]["mel_distance"] for e in mel}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
