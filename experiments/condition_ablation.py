"""Does a trained AR model use its conditions? Validation CE with the true video and text, with
the video (or the text) of another clip of the batch, and with the video zeroed.

``ce_k0_events`` is the coarsest codebook's CE on the token frames where an annotated event
starts (SyncScenes; the frame of the event's sample and the next one): the timing the video alone
can tell. The gap between ``true`` and ``video_of_another_clip`` there is what synchronization has
been learned; over all frames it is diluted by the texture of the ambience.

    python experiments/condition_ablation.py --model default --data-dir data/tok2k_v2 \
        --batches 8 --out out/condition_ablation.json

A model that follows the video scores clearly worse when the video belongs to another clip.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import numpy as np

from v2a_jax.api import DEFAULT_MODEL_DIR
from v2a_jax.io.atomic import atomic_path
from v2a_jax.models.losses import lm_loss, teacher_forced_logits
from v2a_jax.train.checkpoint import load_model
from v2a_jax.train.data import make_batch, open_records


def event_mask(records, num_frames: int, frame_rate: float) -> np.ndarray:
    """bool [B, T]: token frames holding an annotated event's start (and the frame after it)."""
    mask = np.zeros((len(records), num_frames), bool)
    for i, rec in enumerate(records):
        ann = rec.get("annotation") or {}
        sr = ann.get("sample_rate") or rec.get("sample_rate")
        for event in ann.get("events", []):
            f = int(event["sample"] * frame_rate // sr)
            mask[i, f : f + 2] = True
    return mask


def ce_k0_bt(model, batch: dict) -> jax.Array:
    """Teacher-forced CE of codebook 0 at every token frame, float32 [B, T] (codebook 0 has no
    delay: step t holds frame t)."""
    logits_bskv, seq_bsk = teacher_forced_logits(model, batch, jax.random.key(0), False)
    t = batch["tokens"].shape[1]
    logp_btv = jax.nn.log_softmax(logits_bskv[:, :t, 0], axis=-1)
    return -jax.numpy.take_along_axis(logp_btv, seq_bsk[:, :t, :1], axis=-1)[..., 0]


def variants(batch: dict) -> dict[str, dict]:
    """The batch as it is, and with one condition swapped between clips (rolled by one) or
    zeroed."""
    roll = lambda x: np.roll(x, 1, axis=0)  # noqa: E731
    return {
        "true": batch,
        "video_of_another_clip": {**batch, "frames": roll(batch["frames"])},
        "video_zeroed": {**batch, "frames": np.zeros_like(batch["frames"])},
        "text_of_another_clip": {
            **batch,
            "text_emb": roll(batch["text_emb"]),
            "text_mask": roll(batch["text_mask"]),
        },  # fmt: skip
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--data-dir", required=True, help="tokenized data set")
    p.add_argument("--split", default="validation")
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    path = DEFAULT_MODEL_DIR if args.model == "default" else Path(args.model)
    model, config = load_model(path)
    data_cfg = config.data.__class__(**{**config.data.__dict__, "data_dir": args.data_dir})
    records = open_records(data_cfg, args.split)
    # one program for both: XLA shares the forward pass between them
    eval_fn = jax.jit(
        lambda b: (lm_loss(model, b, jax.random.key(0), False)[1], ce_k0_bt(model, b))
    )
    sums: dict[str, dict[str, float]] = {}
    event_sums: dict[str, list[float]] = {}
    n = min(len(records) // args.batch_size, args.batches)
    if n == 0:
        raise ValueError(f"{args.split} has {len(records)} records, fewer than {args.batch_size}")
    for i in range(n):
        # each record read once: its tokens, frames and text for the batch, its events for the mask
        chunk = [records[j] for j in range(i * args.batch_size, (i + 1) * args.batch_size)]
        batch = make_batch(chunk, data_cfg.keys, data_cfg.max_text_len)
        events_bt = event_mask(chunk, batch["tokens"].shape[1], config.model.audio_frame_rate)
        for name, b in variants(batch).items():
            inputs = {k: b[k] for k in ("tokens", "frames", "text_emb", "text_mask")}
            metrics, ce_bt = eval_fn(inputs)
            for key, value in metrics.items():
                sums.setdefault(name, {}).setdefault(key, 0.0)
                sums[name][key] += float(value)
            ce_bt = np.asarray(ce_bt)
            acc = event_sums.setdefault(name, [0.0, 0.0, 0.0, 0.0])
            acc[0] += float(ce_bt[events_bt].sum())
            acc[1] += int(events_bt.sum())
            acc[2] += float(ce_bt[~events_bt].sum())
            acc[3] += int((~events_bt).sum())
    report = {name: {k: round(v / n, 4) for k, v in m.items()} for name, m in sums.items()}
    for name, (ev, n_ev, rest, n_rest) in event_sums.items():
        report[name]["ce_k0_events"] = round(ev / max(n_ev, 1), 4)
        report[name]["ce_k0_other_frames"] = round(rest / max(n_rest, 1), 4)
        report[name]["num_event_frames"] = int(n_ev)
    report = {"model": args.model, "split": args.split, "num_batches": n, **report}
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    for name in ("true", "video_of_another_clip", "video_zeroed", "text_of_another_clip"):
        m = report[name]
        print(
            f"{name:24s} loss {m['loss']:.4f}  ce_k0 {m['ce_k0']:.4f}  acc_k0 {m['acc_k0']:.4f}  "
            f"ce_k0_events {m['ce_k0_events']:.4f}  "
            f"ce_k0_other_frames {m['ce_k0_other_frames']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
