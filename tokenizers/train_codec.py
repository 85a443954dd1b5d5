"""Train the project's default codec (run as a file; this folder is not a package).

    python tokenizers/train_codec.py --out workdirs/codec --steps 2000
    python tokenizers/train_codec.py --out workdirs/codec --steps 40 --warmup-steps 10 \
        --adv-start 30 --eval-every 10   # a smoke run of every phase

Re-running with the same --out resumes from its last checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses

from v2a_jax.codec.config import CodecConfig
from v2a_jax.codec.training.loop import TrainConfig, train_codec


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", required=True)
    for field in dataclasses.fields(TrainConfig):
        if field.name == "weights":
            continue
        default = field.default
        kind = type(default) if default is not None else str
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=default)
    parser.add_argument("--n-q", type=int, default=CodecConfig().n_q, help="codebooks K (4-8)")
    args = parser.parse_args(argv)
    train_cfg = TrainConfig(
        **{
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(TrainConfig)
            if f.name != "weights"
        }
    )
    card = train_codec(args.out, CodecConfig(n_q=args.n_q), train_cfg)
    print(f"codec written to {args.out}/codec after {card['steps']} steps")


if __name__ == "__main__":
    main()
