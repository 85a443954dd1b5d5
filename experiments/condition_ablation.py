"""Does a trained AR model use its conditions? Validation CE with the true video and text, with
the video (or the text) of another clip of the batch, and with the video zeroed.

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
from v2a_jax.models.losses import lm_loss
from v2a_jax.train.checkpoint import load_model
from v2a_jax.train.data import eval_batches, open_records


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
    loss_fn = jax.jit(lambda b: lm_loss(model, b, jax.random.key(0), False)[1])
    sums: dict[str, dict[str, float]] = {}
    batches = eval_batches(records, args.batch_size, data_cfg, args.batches)
    n = 0
    for batch in batches:
        n += 1
        for name, b in variants(batch).items():
            metrics = loss_fn({k: b[k] for k in ("tokens", "frames", "text_emb", "text_mask")})
            for key, value in metrics.items():
                sums.setdefault(name, {}).setdefault(key, 0.0)
                sums[name][key] += float(value)
    report = {name: {k: round(v / n, 4) for k, v in m.items()} for name, m in sums.items()}
    report = {"model": args.model, "split": args.split, "num_batches": n, **report}
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    for name in ("true", "video_of_another_clip", "video_zeroed", "text_of_another_clip"):
        m = report[name]
        print(f"{name:24s} loss {m['loss']:.4f}  ce_k0 {m['ce_k0']:.4f}  acc_k0 {m['acc_k0']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
