"""``v2a refiner``: train the diffusion refiner on a tokenized set; evaluate it from true tokens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    refiner = subparsers.add_parser("refiner", help="train or evaluate the diffusion refiner")
    sub = refiner.add_subparsers(dest="refiner_command", required=True)

    train = sub.add_parser(
        "train",
        help="train a refiner (resumes from --workdir)",
        description="Computes the latent statistics from the training split, then runs the "
        "generic training loop with the refiner's build and loss.",
        epilog="Any config field can be overridden: --config.train.steps=500",
    )
    train.add_argument("--config", required=True, help="configs/refiner_small.py or another")
    train.add_argument("--workdir", required=True)
    train.add_argument("--codec", help="codec of the tokenized set (default: its codec info)")
    train.add_argument("--stats-clips", type=int, default=512, help="clips for the statistics")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    # The cli passes unrecognised --config.a.b=value arguments through (as for v2a train).
    train.set_defaults(func=_train, accepts_config_overrides=True)

    ev = sub.add_parser("eval", help="mel distance of decode(refined) vs decode(z_q), true tokens")
    ev.add_argument("--refiner", required=True, help="a refiner workdir or export")
    ev.add_argument("--data-dir", required=True, help="tokenized data set")
    ev.add_argument("--name", default="tokenized", help="builder[/config] in --data-dir")
    ev.add_argument("--split", default="test")
    ev.add_argument("--num-clips", type=int, default=100)
    ev.add_argument("--num-steps", type=int, default=8)
    ev.add_argument("--method", choices=("euler", "heun"), help="default: the refiner's")
    ev.add_argument("--noise-scale", type=float, default=1.0, help="starting noise std")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--codec", help="decode with this codec (folder or name) instead of the refiner's own"
    )
    ev.add_argument("--out", required=True, help="results JSON")
    ev.set_defaults(func=_eval)


def _train(args: argparse.Namespace) -> int:
    from v2a_jax.config import load_config
    from v2a_jax.models.refiner_build import build_refiner_model, prepare_refiner_config
    from v2a_jax.models.refiner_config import RefinerConfig
    from v2a_jax.models.refiner_loss import refiner_loss
    from v2a_jax.train.loop import train

    overrides = getattr(args, "extra", [])
    bad = [x for x in overrides if not x.startswith("--config.") or "=" not in x]
    if bad:
        raise ValueError(f"unrecognized arguments {bad}: config overrides are --config.a.b=value")
    config = load_config(args.config, overrides)
    if not isinstance(config.model, RefinerConfig):
        raise ValueError(
            f"{args.config}: model is {type(config.model).__name__}, not RefinerConfig"
        )
    config, _ = prepare_refiner_config(config, args.codec, args.stats_clips)
    result = train(
        config,
        args.workdir,
        build=build_refiner_model,
        loss_fn=refiner_loss,
        progress=not args.no_progress,
    )
    print(json.dumps({"step": result.step, "train_loss": result.train_loss,
                      "eval_loss": result.eval_loss, "source": result.source}))  # fmt: skip
    return 0


def _eval(args: argparse.Namespace) -> int:
    from v2a_jax.codec import Codec
    from v2a_jax.data.loaders import open_split
    from v2a_jax.io.atomic import atomic_path
    from v2a_jax.models.refiner_eval import evaluate_gt_tokens
    from v2a_jax.train.checkpoint import load_model

    refiner, _ = load_model(args.refiner)
    codec_name = args.codec or refiner.cfg.codec
    codec = Codec.from_pretrained(codec_name)
    source = open_split(args.data_dir, args.split, args.name)
    clips = [source[i] for i in range(min(len(source), args.num_clips))]
    result = evaluate_gt_tokens(
        refiner,
        codec,
        clips,
        args.num_steps,
        args.seed,
        noise_scale=args.noise_scale,
        method=args.method,
    )
    result.update(refiner=str(args.refiner), data_dir=str(args.data_dir), split=args.split,
                  codec=str(codec_name))  # fmt: skip
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "per_clip"}, indent=2))
    return 0
