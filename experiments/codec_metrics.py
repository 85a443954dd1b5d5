"""Codec reconstruction quality: multi-scale mel distance and SI-SNR, written as JSON.

Compares ``<pred_dir>/<clip_id>.wav`` (what ``v2a codec reconstruct`` writes) with the clips of a
built data set, and optionally round-trips one real recording (``--wav``, e.g. encodec's
``test_24k.wav``, resampled to the codec's rate) through the codec. Two trivial references are
measured on the same clips so the numbers have a scale: silence, and the clip at half amplitude.

    v2a codec reconstruct --data-dir D --split test --codec default --out R
    python experiments/codec_metrics.py --data-dir D --pred-dir R --codec default \\
        --wav test_24k.wav --out out/codec_metrics.json

Onset F1 uses SyncBench's detector and matcher (``v2a_jax.eval``), which need no classifier.
Metrics (``v2a_jax.codec.training.losses``): ``mel_distance`` is the recipe's loss (linear + log
mel L1 over windows 32..2048), ``log_mel_distance`` its scale-free log half (0.69 = a uniform
2x gain error), ``si_snr_db`` scale-invariant SNR. Noise-like ambiences (rain, wind, water) have
no reproducible waveform, so SI-SNR is low for them by nature; mel distance is the fair measure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _metrics(x_s: np.ndarray, y_s: np.ndarray, sample_rate: int) -> dict[str, float]:
    import torch

    from v2a_jax.codec.training.losses import MultiScaleMelLoss, log_mel_distance, si_snr_db

    x = torch.from_numpy(np.asarray(x_s, np.float32))[None, None]
    y = torch.from_numpy(np.asarray(y_s, np.float32))[None, None]
    with torch.no_grad():
        return {
            "mel_distance": MultiScaleMelLoss(sample_rate)(x, y).item(),
            "log_mel_distance": log_mel_distance(x, y, sample_rate).item(),
            "si_snr_db": si_snr_db(x, y).item(),
        }


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--pred-dir", required=True, help="<clip_id>.wav reconstructions")
    parser.add_argument("--codec", default="default", help="for --wav")
    parser.add_argument("--wav", help="a real recording to round-trip through the codec")
    parser.add_argument("--name", help="builder[/config] when the data dir holds several")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from v2a_jax.data.loaders import open_split
    from v2a_jax.eval.matching import MatchCounts, match_onsets
    from v2a_jax.eval.onsets import detect_onsets
    from v2a_jax.io.atomic import atomic_path
    from v2a_jax.io.audio import read_wav, resample

    rows, silence, half = [], [], []
    onsets = {"reconstruction": MatchCounts(), "ground_truth": MatchCounts()}
    for clip in open_split(args.data_dir, args.split, args.name):
        path = Path(args.pred_dir) / f"{clip['clip_id']}.wav"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no reconstruction for clip {clip['clip_id']}")
        pred, sr = read_wav(path)
        y = clip["audio"]
        if sr != clip["sample_rate"] or len(pred) != len(y):
            raise ValueError(f"{path}: {len(pred)} samples at {sr} Hz, expected {len(y)} at "
                             f"{clip['sample_rate']} Hz")  # fmt: skip
        rows.append(_metrics(pred, y, sr))
        events_s = [e["time_s"] for e in clip["annotation"].get("events", [])]
        for key, wave in (("reconstruction", pred), ("ground_truth", y)):
            onsets[key] = onsets[key] + match_onsets(detect_onsets(wave, sr), events_s, 0.05)
        silence.append(_metrics(np.zeros_like(y), y, sr))
        half.append(_metrics(0.5 * y, y, sr))
    result = {
        "data_dir": str(args.data_dir),
        "split": args.split,
        "num_clips": len(rows),
        "reconstruction": _mean(rows),
        # SI-SNR is undefined for silence (no signal to scale), so it is left out there.
        "reference_silence": {k: v for k, v in _mean(silence).items() if k != "si_snr_db"},
        "reference_half_amplitude": _mean(half),
        # SyncBench's onset detector and one-to-one matching (50 ms) against annotated events,
        # on the reconstructions and on the ground truth itself (the ceiling).
        "onsets": {
            k: {
                "f1": round(c.f1, 4),
                "precision": round(c.precision, 4),
                "recall": round(c.recall, 4),
            }  # fmt: skip
            for k, c in onsets.items()
        },
    }
    if args.wav:
        from v2a_jax.codec import Codec
        from v2a_jax.io.audio import fit_length

        codec = Codec.from_pretrained(args.codec)
        audio, sr = read_wav(args.wav)
        y = resample(audio, sr, codec.sample_rate)
        x = fit_length(codec.decode(codec.encode(y, sample_rate=codec.sample_rate)), len(y))
        result["wav"] = {
            "file": Path(args.wav).name,
            "source_rate": sr,
            "seconds": round(len(y) / codec.sample_rate, 2),
            **{k: round(v, 4) for k, v in _metrics(x, y, codec.sample_rate).items()},
        }
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
