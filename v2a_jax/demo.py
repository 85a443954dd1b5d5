"""``v2a demo``: a few unseen SyncScenes clips, two soundtracks each, a page, SyncBench numbers.

What it does, in order (everything under ``out_dir``):

1. renders ``num_clips`` SyncScenes *test* clips (seeds no training run uses) into a TFDS data
   set at ``data/``; the first clip is one with a layer a negative prompt can name;
2. generates ``num_samples`` soundtracks per clip with the clip's caption as the prompt, in one
   batched call per clip: ``clips/<clip_id>/sample_<i>.mp4|.wav`` + ``manifest.json``;
3. for the first clip, the same prompt plus a negative prompt naming that layer, with the same
   seeds: ``clips/<clip_id>/negative/``;
4. scores them with SyncBench (``v2a_jax.eval.evaluate``): onset F1 / offset, adherence,
   diversity, FAD against the clips' real audio, and the negated layer's suppression;
5. writes ``index.html`` (a page per clip: the ground truth and every soundtrack, each as the
   video with it, an audio player and a spectrogram) and ``demo.json``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.io.atomic import atomic_path

# Evaluation runs use the first test seeds; the demo starts well past them.
DEMO_SEED_OFFSET = 5000


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """What the demo makes.

    Attributes:
        model: ``"default"`` or a checkpoint/export folder.
        num_clips: clips rendered (2 to 16).
        num_samples: variations per clip (1 to 8).
        refine: the diffusion refiner on/off; None: on when the model has one.
        seed: the first sample's seed (sample i uses ``seed + i``).
        duration_s: clip length.
    """

    model: str = "default"
    num_clips: int = 4
    num_samples: int = 2
    refine: bool | None = None
    seed: int = 0
    duration_s: float = 4.0

    def __post_init__(self):
        if not 2 <= self.num_clips <= 16:
            raise ValueError(f"num_clips must be in [2, 16], got {self.num_clips}")
        if not 1 <= self.num_samples <= 8:
            raise ValueError(f"num_samples must be in [1, 8], got {self.num_samples}")


def pick_seeds(num_clips: int, duration_s: float) -> tuple[range, str]:
    """``num_clips`` consecutive test seeds whose first clip has a negatable layer, and that layer.

    Raises:
        RuntimeError: no such clip among the first 200 candidates (not expected).
    """
    from v2a_jax.data.splits import SPLIT_SEED_RANGES
    from v2a_jax.data.syncscenes import SceneConfig, render_clip
    from v2a_jax.eval.suppression import NEGATABLE

    first = SPLIT_SEED_RANGES["test"][0] + DEMO_SEED_OFFSET
    cfg = SceneConfig(duration_s=duration_s)
    for seed in range(first, first + 200):
        labels = render_clip(seed, cfg).annotation.get("labels", [])
        layers = [name for name in NEGATABLE if name in labels]
        if layers:
            return range(seed, seed + num_clips), layers[0]
    raise RuntimeError(f"no test clip with a negatable layer in seeds [{first}, {first + 200})")


def _save(result, clip_dir: Path, pred_dir: Path, clip_id: str) -> None:
    """The mp4s/wavs + manifest for people, and ``<clip_id>/<i>.wav`` for ``evaluate``."""
    from v2a_jax.io.audio import write_wav

    result.save(clip_dir)
    for i, wave in enumerate(result.waveforms):
        write_wav(pred_dir / clip_id / f"{i}.wav", wave, result.sample_rate)


def _write_manifest(pred_dir: Path, entries: dict) -> None:
    with atomic_path(pred_dir / "manifest.json") as tmp:
        tmp.write_text(json.dumps({"clips": entries}, indent=2) + "\n")


def run_demo(out_dir: str | Path, cfg: DemoConfig = DemoConfig(), log=print) -> dict:
    """Runs the demo into ``out_dir``; returns the summary it writes to ``demo.json``."""
    from v2a_jax.api import V2A
    from v2a_jax.data.builders.syncscenes import build_syncscenes
    from v2a_jax.data.loaders import open_split
    from v2a_jax.data.syncscenes.captions import LAYER_WORDS
    from v2a_jax.eval import evaluate

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    seeds, layer = pick_seeds(cfg.num_clips, cfg.duration_s)
    negative = LAYER_WORDS[layer][0]
    build_syncscenes(out / "data", duration_s=cfg.duration_s, num_train=0, num_validation=0,
                     num_test=len(seeds), test_seeds=(seeds.start, seeds.stop))  # fmt: skip
    clips = open_split(out / "data", "test")
    log(f"rendered {len(clips)} test clips (seeds {seeds.start}-{seeds.stop - 1}) into {out}/data")
    pipe = V2A.from_pretrained(cfg.model)
    t_load = time.perf_counter()
    gen = dict(num_samples=cfg.num_samples, seed=cfg.seed, refine=cfg.refine)
    pred, neg_pred = out / "predictions", out / "predictions_negative"
    entries, neg_entries = {}, {}
    for index in range(len(clips)):
        clip = clips[index]
        cid, prompt = clip["clip_id"], clip["caption"]
        frames, fps = clip["frames"], float(clip["fps"])
        duration = min(len(frames) / fps, len(clip["audio"]) / float(clip["sample_rate"]))
        res = pipe.generate(frames=frames, fps=fps, duration=duration, prompt=prompt, **gen)
        _save(res, out / "clips" / cid, pred, cid)
        entries[cid] = {"prompt": prompt, "negative_prompt": ""}
        seconds = sum(res.timings.values())
        log(f"{cid}: {res.num_samples} soundtracks for {prompt!r} ({seconds:.1f} s)")
        if index == 0:
            res = pipe.generate(frames=frames, fps=fps, duration=duration, prompt=prompt,
                                negative_prompt=negative, **gen)  # fmt: skip
            _save(res, out / "clips" / cid / "negative", neg_pred, cid)
            neg_entries[cid] = {"prompt": prompt, "negative_prompt": negative}
            log(f"{cid}: the same with negative prompt {negative!r}")
    _write_manifest(pred, entries)
    _write_manifest(neg_pred, neg_entries)
    t_gen = time.perf_counter()
    report = evaluate(out / "data", "test", pred)
    neg = evaluate(out / "data", "test", neg_pred, baseline_predictions=pred, limit=1)
    summary = {
        "model": cfg.model,
        "refined": bool(res.settings.get("refined")),
        "num_clips": report["num_clips"],
        "num_samples_per_clip": cfg.num_samples,
        "seeds": [seeds.start, seeds.stop],
        "negative_clip": clips[0]["clip_id"],
        "negative_prompt": negative,
        "negative_layer": layer,
        "metrics": {k: report[k] for k in ("onset_f1", "onset_precision", "onset_recall",
                                           "onset_offset_ms", "adherence", "diversity", "fad")},
        "neg_suppression": neg["neg_suppression"],
        "neg_band_suppression": neg["neg_band_suppression"],
        "num_problems": report["num_problems"] + neg["num_problems"],
        "seconds": {"load": round(t_load - t0, 2), "generate": round(t_gen - t_load, 2),
                    "total": None},
    }  # fmt: skip
    _write_pages(out, clips, summary)
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    with atomic_path(out / "demo.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _write_pages(out: Path, clips, summary: dict) -> None:
    """``index.html`` and one page per clip (ground truth first, then each soundtrack)."""
    from v2a_jax.io.audio import read_wav
    from v2a_jax.viz.compare_page import write_clip_page, write_index
    from v2a_jax.viz.tracks import write_track

    pages = []
    for index in range(len(clips)):
        clip = clips[index]
        cid, frames, fps = clip["clip_id"], clip["frames"], float(clip["fps"])
        sr = int(clip["sample_rate"])
        truth = np.asarray(clip["audio"], np.float32)
        tracks = [write_track(out, f"media/{cid}/truth", "ground truth", truth, sr, frames, fps)]
        runs = [("", out / "predictions" / cid)]
        if cid == summary["negative_clip"]:
            runs.append((f", negative prompt {summary['negative_prompt']!r}",
                         out / "predictions_negative" / cid))  # fmt: skip
        for suffix, folder in runs:
            for wav in sorted(folder.glob("*.wav"), key=lambda p: int(p.stem)):
                wave, rate = read_wav(wav)
                stem = f"media/{cid}/{'neg_' if suffix else ''}{wav.stem}"
                label = f"sample {wav.stem}{suffix}"
                tracks.append(write_track(out, stem, label, wave, rate, frames, fps))
        write_clip_page(out / f"{cid}.html", cid, tracks, caption=clip["caption"])
        pages.append((f"{cid}: {clip['caption']}", f"{cid}.html"))
    rows = "".join(
        f"<tr><td>{k}</td><td>{'-' if v is None else f'{v:.3f}'}</td></tr>"
        for k, v in {**summary["metrics"], "neg_suppression": summary["neg_suppression"]}.items()
    )
    title = f"v2a demo: {summary['model']} ({'AR + diffusion' if summary['refined'] else 'AR'})"
    write_index(out / "index.html", title, pages, f'<table class="metrics">{rows}</table>')


def format_summary(summary: dict) -> str:
    """The printed table: SyncBench numbers of what the demo made."""
    m = summary["metrics"]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        f"SyncBench on {summary['num_clips']} clips x {summary['num_samples_per_clip']} samples "
        f"({'AR + diffusion' if summary['refined'] else 'AR only'}):",
        f"  onset F1 {fmt(m['onset_f1'])} (precision {fmt(m['onset_precision'])}, recall "
        f"{fmt(m['onset_recall'])}), mean offset {fmt(m['onset_offset_ms'])} ms",
        f"  adherence {fmt(m['adherence'])}, diversity {fmt(m['diversity'])}, "
        f"FAD {fmt(m['fad'])} (few clips: indicative only)",
        f"  negative prompt {summary['negative_prompt']!r} on {summary['negative_clip']}: "
        f"{fmt(summary['neg_suppression'])} of the layer's classifier probability removed",
    ]
    return "\n".join(lines)
