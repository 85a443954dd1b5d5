"""Ceiling of a magnitude-only codec decoder: clips rebuilt from their own |STFT| by Griffin-Lim.

    python experiments/griffin_lim_ceiling.py --data-dir workdirs/ss_val100 --split validation \\
        --out workdirs/gl_ceiling_val
    v2a eval --data-dir workdirs/ss_val100 --split validation \\
        --predictions workdirs/gl_ceiling_val --out workdirs/eval_gl_ceiling_val.json

A decoder with ``istft_phase="griffin_lim"`` (``v2a_jax/codec/istft_decoder.py``) predicts a
magnitude and lets fast Griffin-Lim find the phase. Here the magnitude is the real audio's, at the
decoder's STFT (window 640, hop 160 at 16 kHz, or ``--n-fft``/``--hop``), so whatever SyncBench
loses is what the phase retrieval costs, whatever the decoder learns. Writes ``<clip_id>.wav``
in the layout ``v2a eval`` reads, and prints the clips' mean spectral convergence of the rebuilt
magnitude.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from v2a_jax.data.loaders import open_split
from v2a_jax.io.atomic import write_json
from v2a_jax.io.audio import resample, write_wav


def rebuild(wave: np.ndarray, n_fft: int, hop: int, iters: int) -> tuple[np.ndarray, float]:
    """(audio float32 [S] rebuilt from ``|STFT(wave)|``, spectral convergence of its |STFT|)."""
    import torch

    from v2a_jax.codec.griffin_lim import griffin_lim

    x_bs = torch.from_numpy(np.asarray(wave, np.float32))[None]
    window = torch.hann_window(n_fft)
    mag_bqf = torch.stft(x_bs, n_fft, hop, window=window, return_complex=True).abs()
    out_bs = griffin_lim(mag_bqf, n_fft, hop, window, x_bs.shape[-1], num_iters=iters)
    again = torch.stft(out_bs, n_fft, hop, window=window, return_complex=True).abs()
    sc = torch.linalg.vector_norm(again - mag_bqf) / torch.linalg.vector_norm(mag_bqf).clamp(
        min=1e-8
    )
    return out_bs[0].numpy(), float(sc)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--split", default="validation")
    p.add_argument("--out", required=True, help="folder of <clip_id>.wav")
    p.add_argument("--sample-rate", type=int, default=16000, help="the codec's rate")
    p.add_argument("--n-fft", type=int, default=640)
    p.add_argument("--hop", type=int, default=160)
    p.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations")
    p.add_argument("--num-clips", type=int, default=0, help="0 = all")
    args = p.parse_args(argv)
    source = open_split(args.data_dir, args.split)
    count = len(source) if args.num_clips <= 0 else min(args.num_clips, len(source))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    convergences = []
    for i in tqdm(range(count), desc="griffin-lim", unit="clip"):
        clip = source[i]
        wave = resample(clip["audio"], clip["sample_rate"], args.sample_rate)
        rebuilt, sc = rebuild(wave, args.n_fft, args.hop, args.iters)
        back = resample(rebuilt, args.sample_rate, clip["sample_rate"])[: len(clip["audio"])]
        write_wav(out / f"{clip['clip_id']}.wav", back, clip["sample_rate"])
        convergences.append(sc)
    summary = {"num_clips": count, "iters": args.iters, "n_fft": args.n_fft, "hop": args.hop,
               "mean_spectral_convergence": float(np.mean(convergences))}  # fmt: skip
    write_json(out / "griffin_lim_ceiling.json", summary)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
