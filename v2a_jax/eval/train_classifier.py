"""Trains the SyncBench classifier on ground-truth SyncScenes training seeds.

    taskset -c 0 python -m v2a_jax.eval.train_classifier --out v2a_jax/assets/eval

Renders ``--num-train`` clips from the train seed range and ``--num-validation`` from the
validation range with ``render_clip`` (4 s, the default scene), computes their log-mels once,
trains with AdamW on binary cross-entropy (random gain as augmentation, a shift of the log-mel),
and writes the weights and a card (data, steps, wall time, per-label validation accuracy and F1).
Legend: N clips, T frames, M mel bands, L labels.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from v2a_jax.data.splits import split_seeds
from v2a_jax.data.syncscenes import LABELS, SceneConfig, render_clip
from v2a_jax.eval.classifier import AudioClassifier, ClassifierConfig, save_classifier
from v2a_jax.eval.features import SAMPLE_RATE, log_mel


def render_set(split: str, num: int, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-mels [N, T, M] and multi-hot labels [N, L] of the first ``num`` seeds of ``split``."""
    cfg = SceneConfig(duration_s=duration_s, sample_rate=SAMPLE_RATE)
    mels, labels = [], []
    for seed in split_seeds(split, num):
        clip = render_clip(seed, cfg)
        mels.append(log_mel(clip.audio, SAMPLE_RATE))
        labels.append([float(lab in clip.annotation["labels"]) for lab in LABELS])
    return np.stack(mels), np.asarray(labels, np.float32)


def label_scores(probs_nl: np.ndarray, labels_nl: np.ndarray, thresholds=0.5) -> dict:
    """Per-label accuracy and F1 at the thresholds (one, or one per label), and their means."""
    pred = probs_nl > np.asarray(thresholds)
    truth = labels_nl > 0.5
    out = {}
    for i, name in enumerate(LABELS):
        tp = float(np.sum(pred[:, i] & truth[:, i]))
        denom = float(pred[:, i].sum() + truth[:, i].sum())
        out[name] = {"accuracy": float(np.mean(pred[:, i] == truth[:, i])),
                     "f1": 2 * tp / denom if denom else 1.0}  # fmt: skip
    out["mean_accuracy"] = float(np.mean([out[n]["accuracy"] for n in LABELS]))
    out["macro_f1"] = float(np.mean([out[n]["f1"] for n in LABELS]))
    return out


def calibrate_thresholds(probs_nl: np.ndarray, labels_nl: np.ndarray) -> list[float]:
    """Per-label decision thresholds that maximise F1 on held-out (validation) clips."""
    grid = np.linspace(0.05, 0.95, 19)
    out = []
    for i in range(labels_nl.shape[1]):
        truth = labels_nl[:, i] > 0.5
        f1s = []
        for th in grid:
            pred = probs_nl[:, i] > th
            denom = pred.sum() + truth.sum()
            f1s.append(2 * np.sum(pred & truth) / denom if denom else 1.0)
        out.append(round(float(grid[int(np.argmax(f1s))]), 3))
    return out


def calibrate(folder: str, num_validation: int, duration_s: float) -> dict:
    """Adds validation-tuned thresholds to an existing classifier's card (weights unchanged)."""
    import json
    from pathlib import Path

    from v2a_jax.eval.classifier import CARD, load_classifier
    from v2a_jax.io.atomic import atomic_path

    clf = load_classifier(folder)
    val_x, val_y = render_set("validation", num_validation, duration_s)
    probs = np.concatenate([
        np.asarray(jax.nn.sigmoid(clf.model(jnp.asarray(val_x[i : i + 64]))))
        for i in range(0, len(val_x), 64)
    ])  # fmt: skip
    card = dict(clf.card)
    card["thresholds"] = calibrate_thresholds(probs, val_y)
    card["validation_at_thresholds"] = label_scores(probs, val_y, card["thresholds"])
    with atomic_path(Path(folder) / CARD) as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
    return card


def train(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    train_x, train_y = render_set("train", args.num_train, args.duration)
    val_x, val_y = render_set("validation", args.num_validation, args.duration)
    t_data = time.perf_counter() - t0
    prior_steps = 0
    if args.init:  # continue from a trained classifier (its input normalisation included)
        from v2a_jax.eval.classifier import load_classifier

        init = load_classifier(args.init)
        model, prior_steps = init.model, int(init.card.get("total_steps", init.card["steps"]))
    else:
        model = AudioClassifier(ClassifierConfig(), nnx.Rngs(args.seed))
        model.mean[...] = jnp.asarray(train_x.mean(axis=(0, 1)))
        model.std[...] = jnp.asarray(train_x.std(axis=(0, 1)) + 1e-3)
    warmup = min(100, args.steps // 4)
    schedule = optax.warmup_cosine_decay_schedule(0.0, args.lr, warmup, args.steps, args.lr * 0.02)
    opt = nnx.Optimizer(model, optax.adamw(schedule, weight_decay=1e-4), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt, x_btm, y_bl):
        def loss_fn(m):
            return optax.sigmoid_binary_cross_entropy(m(x_btm), y_bl).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        opt.update(model, grads)
        return loss

    rng = np.random.default_rng(args.seed)
    losses = []
    for i in range(args.steps):
        idx = rng.integers(0, len(train_x), args.batch_size)
        gain = rng.uniform(-1.5, 1.5, (args.batch_size, 1, 1)).astype(np.float32)  # +-6.5 dB
        losses.append(float(step(model, opt, jnp.asarray(train_x[idx] + gain), train_y[idx])))
        if (i + 1) % 100 == 0:
            print(f"step {i + 1}/{args.steps} loss {np.mean(losses[-100:]):.4f}", flush=True)
    probs = np.concatenate([
        np.asarray(jax.nn.sigmoid(model(jnp.asarray(val_x[i : i + 64]))))
        for i in range(0, len(val_x), 64)
    ])  # fmt: skip
    scores = label_scores(probs, val_y)
    card = {
        "data": {"train_seeds": [0, args.num_train], "validation_seeds":
                 [1_000_000, 1_000_000 + args.num_validation], "duration_s": args.duration,
                 "sample_rate": SAMPLE_RATE, "source": "render_clip ground-truth mixes"},
        "labels": list(LABELS),
        "steps": args.steps, "total_steps": prior_steps + args.steps,
        "init_from_steps": prior_steps, "batch_size": args.batch_size, "lr": args.lr,
        "seed": args.seed,
        "final_train_loss": float(np.mean(losses[-100:])),
        "wall_time_s": round(time.perf_counter() - t0, 1), "data_time_s": round(t_data, 1),
        "validation": scores,
    }  # fmt: skip
    save_classifier(model, card, args.out)
    return calibrate(args.out, args.num_validation, args.duration)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the weights and the card")
    p.add_argument("--num-train", type=int, default=3000)
    p.add_argument("--num-validation", type=int, default=300)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--init", default=None, help="folder of a trained classifier to continue from (warm start)"
    )
    p.add_argument("--calibrate-only", action="store_true",
                   help="only add validation-tuned thresholds to the card in --out")  # fmt: skip
    args = p.parse_args(argv)
    if args.calibrate_only:
        card = calibrate(args.out, args.num_validation, args.duration)
        print(f"thresholds {card['thresholds']}, validation macro-F1 at them "
              f"{card['validation_at_thresholds']['macro_f1']:.4f}")  # fmt: skip
        return 0
    card = train(args)
    v = card["validation"]
    print(f"validation macro-F1 {v['macro_f1']:.4f}, mean accuracy {v['mean_accuracy']:.4f}, "
          f"wall {card['wall_time_s']} s")  # fmt: skip
    return 0


__all__ = ["label_scores", "main", "render_set", "train"]

if __name__ == "__main__":
    raise SystemExit(main())
