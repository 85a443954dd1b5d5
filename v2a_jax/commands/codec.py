"""``v2a codec``: train the project's codec; reconstruct a data set's clips through a codec."""

from __future__ import annotations

import argparse
import dataclasses


def register(subparsers: argparse._SubParsersAction) -> None:
    codec = subparsers.add_parser("codec", help="train a codec or reconstruct clips through one")
    sub = codec.add_subparsers(dest="codec_command", required=True)

    train = sub.add_parser("train", help="train the project's codec (resumes from --out)")
    train.add_argument("--out", required=True, help="work dir: train_state.pt and codec/")
    from v2a_jax.codec.config import DECODERS, ENCODERS, ISTFT_PHASES
    from v2a_jax.codec.training.loop import TrainConfig

    for field in dataclasses.fields(TrainConfig):
        if isinstance(field.default, bool):
            train.add_argument(
                f"--{field.name.replace('_', '-')}", action=argparse.BooleanOptionalAction,
                default=field.default,
            )  # fmt: skip
        elif not isinstance(field.default, dict) and field.default_factory is dataclasses.MISSING:
            kind = type(field.default) if field.default is not None else str
            train.add_argument(
                f"--{field.name.replace('_', '-')}", type=kind, default=field.default
            )
        elif field.default_factory is not dataclasses.MISSING:  # loss weights: NAME=VALUE,...
            default = field.default_factory()
            train.add_argument(
                f"--{field.name.replace('_', '-')}", type=_weights, default=default,
                help="comma-separated NAME=VALUE (default: "
                + ",".join(f"{k}={v}" for k, v in default.items()) + ")",
            )  # fmt: skip
    train.add_argument("--n-q", type=int, default=4, help="codebooks K (4-8)")
    train.add_argument("--n-filters", type=int, default=16, help="SEANet base width")
    train.add_argument("--norm", default="weight_norm", help="SEANet conv normalisation")
    train.add_argument(
        "--encoder", choices=ENCODERS, default="seanet",
        help="seanet (EnCodec's, on the waveform) or stft (ConvNeXt on the log-magnitude STFT)",
    )  # fmt: skip
    train.add_argument("--encoder-dim", type=int, default=128, help="stft encoder width")
    train.add_argument("--encoder-layers", type=int, default=4, help="stft encoder ConvNeXt blocks")
    train.add_argument(
        "--decoder", choices=DECODERS, default="seanet",
        help="seanet (EnCodec's) or istft (Vocos-style: ConvNeXt + inverse STFT)",
    )  # fmt: skip
    train.add_argument("--istft-dim", type=int, default=128, help="istft decoder width")
    train.add_argument("--istft-layers", type=int, default=8, help="istft decoder ConvNeXt blocks")
    train.add_argument(
        "--istft-phase", choices=ISTFT_PHASES, default="integrated",
        help="istft decoder phase: summed per-frame deviations (tones at any pitch), absolute, "
        "or griffin_lim (magnitude only, phase by Griffin-Lim when decoding)",
    )  # fmt: skip
    train.add_argument(
        "--istft-gl-iters", type=int, default=32, help="Griffin-Lim iterations (griffin_lim)"
    )
    train.set_defaults(func=_train)

    rec = sub.add_parser("reconstruct", help="<clip_id>.wav of each clip after a codec round trip")
    rec.add_argument("--data-dir", required=True)
    rec.add_argument("--split", default="test")
    rec.add_argument("--codec", default="default", help="default, encodec_24khz or a folder")
    rec.add_argument("--out", required=True)
    rec.add_argument("--name", help="builder[/config] when the data dir holds several")
    rec.add_argument(
        "--through", choices=("tokens", "latent"), default="tokens",
        help="decode the tokens (default) or the continuous latent, which skips the quantizer",
    )  # fmt: skip
    rec.set_defaults(func=_reconstruct)


def _weights(text: str) -> dict[str, float]:
    """``"mel=3,adv=1"`` -> {"mel": 3.0, "adv": 1.0} (argparse turns the ValueError into a usage
    error naming the flag)."""
    out = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE pairs separated by commas, got {text!r}")
        out[name.strip()] = float(value)
    return out


def _train(args: argparse.Namespace) -> int:
    from v2a_jax.codec.config import CodecConfig
    from v2a_jax.codec.training.loop import TrainConfig, train_codec

    try:
        cfg = TrainConfig(
            **{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
        )
        codec_config = CodecConfig(
            n_q=args.n_q,
            n_filters=args.n_filters,
            norm=args.norm,
            encoder=args.encoder,
            encoder_dim=args.encoder_dim,
            encoder_layers=args.encoder_layers,
            decoder=args.decoder,
            istft_dim=args.istft_dim,
            istft_layers=args.istft_layers,
            istft_phase=args.istft_phase,
            istft_gl_iters=args.istft_gl_iters,
        )
        card = train_codec(args.out, codec_config, cfg)
    except ValueError as err:
        raise SystemExit(f"v2a codec train: {err}") from None
    print(f"codec written to {args.out}/codec after {card['steps']} steps")
    return 0


def _reconstruct(args: argparse.Namespace) -> int:
    from v2a_jax.codec import Codec
    from v2a_jax.codec.reconstruct import reconstruct_split

    codec = Codec.from_pretrained(args.codec)
    ids = reconstruct_split(
        args.data_dir, args.split, codec, args.out, args.name, through=args.through
    )
    print(f"wrote {len(ids)} reconstructions to {args.out}")
    return 0
