"""Ship a trained codec as the package default, with its card (run as a file).

    python tokenizers/ship_codec.py --run workdirs/codec_final \\
        --metrics out/codec_metrics.json --hardware "1 shared CPU core" \\
        --out v2a_jax/assets/codec/default

Reads ``<run>/codec`` (what the recipe exports), adds the measured reconstruction numbers
(``experiments/codec_metrics.py``'s JSON, plus any further ``--extra`` JSON files such as a
SyncBench report) and the hardware to its card, and writes ``codec.safetensors`` +
``codec.json`` (the card inside) + ``CARD.md`` (the same, for people) into ``--out``.
"""

import argparse
import json
import sys
from pathlib import Path


def _markdown(card: dict) -> str:
    cfg, train = card.get("codec_config", {}), card.get("train_config", {})
    lines = [
        "# v2a_jax default codec",
        "",
        card.get("summary", ""),
        "",
        "- architecture: "
        + _encoder_words(cfg)
        + " + RVQ (the `encodec` package's), "
        + _decoder_words(cfg)
        + ", "
        f"{cfg.get('sample_rate')} Hz mono, hop {card.get('hop_length')} "
        f"({card.get('frame_rate')} frames/s), K={cfg.get('n_q')} x {cfg.get('bins')}, "
        f"D={cfg.get('dimension')}"
        + (", n_filters={n_filters}, norm={norm}".format(**cfg) if _uses_seanet(cfg) else ""),
        f"- trained: {card.get('steps')} steps, {card.get('wall_time_s')} s of training on "
        f"{card.get('hardware')}",
        f"- data: {card.get('data')}",
        *_lineage(card),
        f"- recipe: {json.dumps({k: v for k, v in train.items() if k != 'weights'})}",
        "",
        "## Measured",
        "",
        "```json",
        json.dumps(card.get("metrics", {}), indent=1),
        "```",
        "",
        "## Evaluation curve (fixed batch of 1 s training crops)",
        "",
        "| step | wall s | quantized | mel distance | log-mel distance | SI-SNR dB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for h in card.get("history", []):
        cells = [h["step"], h["wall_time_s"], h.get("quantized"), h.get("mel_distance"),
                 h.get("log_mel_distance", ""), h.get("si_snr_db", "")]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _uses_seanet(cfg: dict) -> bool:
    """Whether n_filters and norm mean anything: they size SEANet's encoder and decoder."""
    return "seanet" in (cfg.get("encoder", "seanet"), cfg.get("decoder", "seanet"))


def _encoder_words(cfg: dict) -> str:
    if cfg.get("encoder", "seanet") == "stft":
        return (
            f"spectral encoder (log-magnitude STFT, {cfg.get('encoder_layers')} ConvNeXt blocks "
            f"of width {cfg.get('encoder_dim')}, a strided conv down to the token rate)"
        )
    return "EnCodec SEANet encoder (the `encodec` package's)"


def _decoder_words(cfg: dict) -> str:
    if cfg.get("decoder", "seanet") == "istft":
        if cfg.get("istft_phase") == "griffin_lim":
            iters = cfg.get("istft_gl_iters")
            synthesis = f"magnitude only, phase by {iters} Griffin-Lim iterations"
        else:
            synthesis = f"{cfg.get('istft_phase', 'absolute')} phase, then torch.istft"
        return (
            f"inverse-STFT decoder (Vocos-style: {cfg.get('istft_layers')} ConvNeXt blocks of "
            f"width {cfg.get('istft_dim')} at {cfg.get('istft_upsample')} STFT frames per token "
            f"frame; {synthesis})"
        )
    return "SEANet decoder"


def _lineage(card: dict) -> list[str]:
    """Where a decoder-only run's decoder started and where its encoder and quantizer (so its
    tokens) came from, down the chain of ``init_card``s."""
    lines, init = [], card.get("init_card")
    while init:
        deeper = init.get("init_card")
        if init.get("train_config", {}).get("decoder_only") and deeper:
            lines.append(
                f"- decoder started from `{init.get('name')}`, itself a decoder-only run of "
                f"{init.get('steps')} steps in {init.get('wall_time_s')} s"
            )
            init = deeper
            continue
        lines.append(
            f"- encoder and quantizer (so every token): frozen from `{init.get('name')}`, trained "
            f"{init.get('steps')} steps in {init.get('wall_time_s')} s (the cards: `init_card` in "
            "codec.json, nested); this run trained the decoder alone"
        )
        break
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="ship a trained codec with its card")
    parser.add_argument("--run", required=True, help="the recipe's --out folder")
    parser.add_argument("--metrics", required=True, help="experiments/codec_metrics.py JSON")
    parser.add_argument("--extra", nargs="*", default=[], help="more JSON reports to include")
    parser.add_argument("--hardware", required=True)
    parser.add_argument("--summary", default="", help="one honest paragraph on what it reaches")
    parser.add_argument("--out", default="v2a_jax/assets/codec/default")
    args = parser.parse_args(argv)

    from v2a_jax.codec import Codec
    from v2a_jax.io.atomic import atomic_path

    codec = Codec.load(Path(args.run) / "codec")
    card = dict(codec.card)
    card.update(
        name="v2a_jax-default-16khz",
        hardware=args.hardware,
        summary=args.summary,
        hop_length=codec.hop_length,
        frame_rate=codec.frame_rate,
        metrics={"reconstruction": json.loads(Path(args.metrics).read_text())},
    )
    init_from = card.get("train_config", {}).get("init_from")
    if init_from:  # keep the card of the codec whose encoder and quantizer this one froze
        init = Codec.from_pretrained(init_from)
        card["init_card"] = dict(init.card)  # with its own init_card: the whole lineage
        card["init_card"].setdefault("name", init.name)
    for path in args.extra:
        card["metrics"][Path(path).stem] = json.loads(Path(path).read_text())
    folder = codec.save(args.out, card=card)
    with atomic_path(Path(args.out) / "CARD.md") as tmp:
        Path(tmp).write_text(_markdown(card))
    size = sum(p.stat().st_size for p in Path(args.out).iterdir())
    print(f"shipped {folder}: {size / 1e6:.2f} MB, {card.get('steps')} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
