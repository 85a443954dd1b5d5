"""Two codec diagnostics on SyncScenes test clips: how much of its latent a decoder uses, and
how much a set of reconstructions pumps energy from one codec frame to the next.

    python experiments/codec_diagnostics.py --data-dir workdirs/ss_test200 --num-clips 16 \
        --codecs default workdirs/codec_v3/codec \
        --pred-dirs shipped=workdirs/rec_v2 gan=workdirs/rec_dec2_a --out out/codec_diag.json

``latent_use`` (``--codecs``): multi-scale mel distance to the real audio of decoding the
quantized latent of the first k codebooks (``q1`` .. ``qK``) and of the continuous latent
(``continuous``), averaged over clips. Equal values mean the decoder ignores what the later
codebooks (and the quantization error) carry.

``frame_energy_jumps`` (``--pred-dirs NAME=DIR``, ``<clip_id>.wav`` each, as
``v2a codec reconstruct`` writes them; the real audio is added as ``ground_truth``): the 4-8 kHz
band energy in dB per 20 ms frame (one codec frame at 50 frames/s), and the absolute change
between neighbouring frames: its median and 95th percentile over each clip's frames, averaged
over clips. A decoder that pumps at the frame rate shows large jumps on steady noise layers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.loaders import open_split
from v2a_jax.diffusion.metrics import multiscale_mel_distance
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import read_wav

FRAME_S = 0.02  # one codec frame at 50 frames/s
BAND_HZ = (4000.0, 8000.0)


def latent_use(codec: Codec, waves: list[np.ndarray]) -> dict[str, float]:
    """Mean mel distance of decoding ``q1 .. qK`` and the continuous latent (see module doc)."""
    sums: dict[str, list[float]] = {}
    for wave in waves:
        tokens, latent = codec.encode_with_latent(wave[None])
        decoded = {f"q{k}": codec.decode_latent(codec.dequantize(tokens, k))
                   for k in range(1, codec.num_codebooks + 1)}  # fmt: skip
        decoded["continuous"] = codec.decode_latent(latent)
        for key, out in decoded.items():
            pred = np.asarray(out)[0][: len(wave)]
            sums.setdefault(key, []).append(multiscale_mel_distance(pred, wave, codec.sample_rate))
    return {key: round(float(np.mean(v)), 4) for key, v in sums.items()}


def band_energy_db(wave: np.ndarray, sr: int) -> np.ndarray:
    """4-8 kHz energy in dB of each 20 ms Hann-windowed frame [F]."""
    n = int(round(FRAME_S * sr))
    frames = wave[: len(wave) // n * n].reshape(-1, n) * np.hanning(n)
    spectrum = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    band = (freqs >= BAND_HZ[0]) & (freqs < BAND_HZ[1])
    return 10.0 * np.log10(spectrum[:, band].sum(-1) + 1e-9)


def energy_jumps(waves: list[np.ndarray], sr: int) -> dict[str, float]:
    """Median and 95th percentile of |frame-to-frame band energy change| in dB, clip means."""
    jumps = [np.abs(np.diff(band_energy_db(w, sr))) for w in waves]
    return {"median_db": round(float(np.mean([np.median(j) for j in jumps])), 2),
            "p95_db": round(float(np.mean([np.percentile(j, 95) for j in jumps])), 2)}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="a built SyncScenes data set")
    p.add_argument("--split", default="test")
    p.add_argument("--num-clips", type=int, default=16)
    p.add_argument("--codecs", nargs="*", default=[], help="'default' or codec folders")
    p.add_argument("--pred-dirs", nargs="*", default=[], help="NAME=DIR of <clip_id>.wav")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    clips = open_split(args.data_dir, args.split)
    clips = [clips[i] for i in range(min(args.num_clips, len(clips)))]
    truth = [np.asarray(c["audio"], np.float32) for c in clips]
    sr = int(clips[0]["sample_rate"])
    report = {"data_dir": args.data_dir, "split": args.split, "num_clips": len(clips),
              "latent_use": {}, "frame_energy_jumps": {}}  # fmt: skip
    for name in args.codecs:
        report["latent_use"][name] = latent_use(Codec.from_pretrained(name), truth)
        print(name, report["latent_use"][name], flush=True)
    if args.pred_dirs:
        report["frame_energy_jumps"]["ground_truth"] = energy_jumps(truth, sr)
    for spec in args.pred_dirs:
        name, sep, folder = spec.partition("=")
        if not sep:
            raise SystemExit(f"--pred-dirs: expected NAME=DIR, got {spec!r}")
        waves = []
        for clip in clips:
            wave, rate = read_wav(Path(folder) / f"{clip['clip_id']}.wav")
            if rate != sr:
                raise SystemExit(f"{folder}/{clip['clip_id']}.wav: {rate} Hz, expected {sr}")
            waves.append(np.asarray(wave, np.float32))
        report["frame_energy_jumps"][name] = energy_jumps(waves, sr)
    print(json.dumps(report["frame_energy_jumps"]))
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
