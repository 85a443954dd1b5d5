"""``v2a demo [--out DIR]``: the default model on a few unseen SyncScenes clips (v2a_jax.demo)."""

from __future__ import annotations

import argparse

from v2a_jax.commands.generate import add_refine_args


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="render unseen SyncScenes clips, generate soundtracks, write a page, print SyncBench",
        description="Renders a few SyncScenes test clips, generates two soundtracks for each with "
        "its caption as the prompt (one clip also with a negative prompt), writes mp4s, wavs and "
        "index.html under --out, and prints the SyncBench metrics of what it made.",
    )
    demo.add_argument("--out", default="v2a_demo", help="output folder (default: ./v2a_demo)")
    demo.add_argument("--model", default="default", help="default, or a checkpoint/export folder")
    demo.add_argument("--num-clips", type=int, default=4)
    demo.add_argument("--num-samples", type=int, default=2, help="soundtracks per clip")
    demo.add_argument("--seed", type=int, default=0)
    add_refine_args(demo)
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from v2a_jax.demo import DemoConfig, format_summary, run_demo

    cfg = DemoConfig(model=args.model, num_clips=args.num_clips, num_samples=args.num_samples,
                     refine=args.refine, seed=args.seed)  # fmt: skip
    summary = run_demo(args.out, cfg)
    print(format_summary(summary))
    print(f"open {args.out}/index.html to watch them ({summary['seconds']['total']:.0f} s in all)")
    return 0
