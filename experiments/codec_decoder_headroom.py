"""How much better can the codec's decoder sound with the best latent? The refiner's ceiling.

The refiner (issue 7) outputs a continuous latent for the codec's decoder. Whatever latent it
makes, the audio is ``decoder(latent)``; this measures how close to the real audio any latent can
get: per clip, the encoder's own latent is refined by gradient descent through the (frozen)
decoder on the recipe's multi-scale mel loss, and the decoded audio's multi-scale mel distance
(``v2a_jax.diffusion.metrics``, the one ``compare_ar_vs_diffusion.py`` reports) is compared with
that of the encoder's latent.

    python experiments/codec_decoder_headroom.py --data-dir workdirs/ss_test200 --num-clips 6 \
        --steps 150 --out out/codec_decoder_headroom.json

A small gain says the decoder, not the latent, limits fidelity: no refiner can do much better
than the codec it decodes with. ``--wav-dir`` keeps the best latents' audio, so that
``onset_misses.py`` can say whether any latent brings back what the decoder loses (tones).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.loaders import open_split
from v2a_jax.diffusion.metrics import multiscale_mel_distance
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import write_wav


def best_latent_distance(codec, wave: np.ndarray, sr: int, steps: int, lr: float):
    """(mel distance of the encoder's latent, of the optimised latent, the optimised latent's
    audio float32 [S]) for one clip [S]."""
    import torch

    from v2a_jax.codec.training.losses import MultiScaleMelLoss

    decoder = codec.model.decoder
    target = torch.from_numpy(np.asarray(wave, np.float32))[None, None]
    z0_bdt = torch.from_numpy(codec.encode_latent(wave, sr)).T[None].float()
    loss_fn = MultiScaleMelLoss(sr)

    def decode(z_bdt):
        return decoder(z_bdt)[..., : target.shape[-1]]

    with torch.no_grad():
        before = multiscale_mel_distance(decode(z0_bdt)[0, 0].numpy(), wave, sr)
    z_bdt = z0_bdt.clone().requires_grad_(True)
    opt = torch.optim.Adam([z_bdt], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(decode(z_bdt), target).backward()
        opt.step()
    with torch.no_grad():
        audio = decode(z_bdt)[0, 0].numpy().astype(np.float32)
    return before, multiscale_mel_distance(audio, wave, sr), audio


def main(argv=None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--codec", default="default")
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=6)
    p.add_argument("--steps", type=int, default=150, help="Adam steps on the latent")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--out", required=True)
    p.add_argument("--wav-dir", default=None,
                   help="also write each clip's best-latent audio here as <clip_id>.wav (the "
                        "form v2a eval and onset_misses.py read)")  # fmt: skip
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    codec = Codec.from_pretrained(args.codec)
    for param in codec.model.parameters():
        param.requires_grad_(False)
    clips = open_split(args.data_dir, args.split)
    rows = []
    for i in range(min(args.num_clips, len(clips))):
        clip, t0 = clips[i], time.perf_counter()
        before, after, audio = best_latent_distance(
            codec, np.asarray(clip["audio"], np.float32), int(clip["sample_rate"]), args.steps,
            args.lr,
        )  # fmt: skip
        if args.wav_dir:
            write_wav(Path(args.wav_dir) / f"{clip['clip_id']}.wav", audio, codec.sample_rate)
        rows.append({"clip_id": clip["clip_id"], "encoder_latent": before, "best_latent": after,
                     "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    mean_before = float(np.mean([r["encoder_latent"] for r in rows]))
    mean_after = float(np.mean([r["best_latent"] for r in rows]))
    report = {"codec": args.codec, "data_dir": args.data_dir, "split": args.split,
              "steps": args.steps, "lr": args.lr, "num_clips": len(rows),
              "mel_distance_encoder_latent": mean_before,
              "mel_distance_best_latent": mean_after,
              "relative_gain": 1.0 - mean_after / mean_before, "clips": rows}  # fmt: skip
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(f"mel distance: encoder latent {mean_before:.4f}, best latent {mean_after:.4f} "
          f"({100 * report['relative_gain']:.1f}% lower)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
