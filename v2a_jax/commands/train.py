"""``v2a train``: train a model from a config file; ``v2a export``: params-only export.

    v2a train --config configs/small.py --workdir DIR [--resume-from P] [--init-from P] \
        [--config.train.lr=3e-4 ...]
    v2a export --workdir DIR --out DIR2 [--step N]

Overrides are ``--config.a.b=value`` (with ``=``), applied in order after the file's
``get_config()``; rerunning the same command resumes from the workdir's latest checkpoint.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train from a config file (resumes from the workdir)",
        epilog="Any config field can be overridden: --config.train.lr=3e-4 --config.seed=1",
    )
    train.add_argument("--config", required=True, help="a config file, e.g. configs/small.py")
    train.add_argument("--workdir", required=True, help="checkpoints, metrics.jsonl, tensorboard/")
    train.add_argument("--resume-from", help="continue another run's checkpoint (full state)")
    train.add_argument("--init-from", help="start from these params (export or checkpoint)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    multi = train.add_argument_group(
        "multi-host", "run the same command on every host; each reads its slice of each batch"
    )
    multi.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (TPU pods, SLURM, Open MPI: from the "
        "environment; elsewhere give the three flags below)",
    )
    multi.add_argument("--coordinator", help="host:port of process 0")
    multi.add_argument("--num-processes", type=int)
    multi.add_argument("--process-id", type=int)
    # The cli passes unrecognised --config.a.b=value arguments through to this command.
    train.set_defaults(func=_train, accepts_config_overrides=True)

    export = subparsers.add_parser("export", help="write a checkpoint's params for sampling")
    export.add_argument("--workdir", required=True, help="a training workdir (or checkpoint)")
    export.add_argument("--out", required=True, help="folder for params/ and config.json")
    export.add_argument("--step", type=int, help="which checkpoint (default: the latest)")
    export.add_argument(
        "--storage-dtype", help="store float arrays as this dtype, e.g. bfloat16 (half the size)"
    )
    export.set_defaults(func=_export)


def _overrides(extra: list[str]) -> list[str]:
    for item in extra:
        if not item.startswith("--config.") or "=" not in item:
            raise ValueError(
                f"unrecognized argument {item!r}: config overrides are --config.a.b=value"
            )
    return list(extra)


def _train(args: argparse.Namespace) -> int:
    from v2a_jax.config import load_config
    from v2a_jax.train.loop import train

    config = load_config(args.config, _overrides(getattr(args, "extra", [])))
    if args.distributed or args.coordinator:
        import jax

        # Before any other JAX call: every process must see the global device set.
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
    sample_fn = None
    if config.train.sample_every:  # wavs of validation clips every sample_every steps
        from v2a_jax.sampling.train_samples import make_sample_fn

        sample_fn = make_sample_fn(split=config.data.eval_split)
    try:
        result = train(
            config,
            args.workdir,
            resume_from=args.resume_from,
            init_from=args.init_from,
            sample_fn=sample_fn,
            progress=not args.no_progress,
        )
    except FloatingPointError as err:
        print(f"v2a train: error: {err}", file=sys.stderr)
        return 3
    eval_text = "" if result.eval_loss is None else f", validation loss {result.eval_loss:.4f}"
    state = "stopped by SIGTERM at" if result.preempted else "finished at"
    print(
        f"{state} step {result.step} (start: {result.source}): train loss "
        f"{result.train_loss:.4f}{eval_text}; workdir {args.workdir}"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from v2a_jax.train.checkpoint import export_params

    out = export_params(args.workdir, args.out, args.step, args.storage_dtype)
    print(f"exported params to {out}")
    return 0
