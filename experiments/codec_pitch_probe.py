"""Do a codec's tokens know a tone's pitch? Probes on the latents of random sines.

    python experiments/codec_pitch_probe.py --codecs default --num-tones 300 \
        --out out/codec_pitch_probe.json

``experiments/codec_tones.py`` shows that the codecs decode steady tones to noise. This asks
where the pitch is lost: each of ``--num-tones`` 1 s sines (frequency log-uniform in
``--min-hz`` .. ``--max-hz``, amplitude uniform in 0.05 .. 0.3, random phase) is encoded, and its
latent averaged over the middle frames (the first and last 10 of 50 dropped) is one feature
vector [D]: the continuous pre-quantization latent (``continuous``) and the quantized latent
that the K tokens dequantize to (``tokens``). Two probes predict log-frequency from it, each
5-fold cross-validated on standardized features: ridge regression (``ridge``: linear) and the
mean of the 3 nearest training tones (``knn``). Reported per probe: R^2 of log-frequency and the
median relative frequency error |f_pred / f - 1|. A probe that finds the pitch in ``tokens``
means the information reaches the decoder, which then fails to render it: a better decoder
(``v2a codec train --init-from CODEC --decoder-only``) could fix tones without re-tokenizing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.io.atomic import atomic_path

EDGE_FRAMES = 10  # frames dropped at each end before averaging (the codec's edge transients)
FOLDS = 5


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = train.mean(0), train.std(0) + 1e-6
    return (train - mu) / sd, (test - mu) / sd


def ridge_predict(x_train, y_train, x_test, lam: float = 1e-2) -> np.ndarray:
    """Ridge regression with an intercept on standardized features: predictions [N_test]."""
    a, b = _standardize(x_train, x_test)
    a, b = np.c_[a, np.ones(len(a))], np.c_[b, np.ones(len(b))]
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y_train)
    return b @ w


def knn_predict(x_train, y_train, x_test, k: int = 3) -> np.ndarray:
    """Mean target of the ``k`` nearest training points (standardized Euclidean) [N_test]."""
    a, b = _standardize(x_train, x_test)
    dist = ((b[:, None] - a[None]) ** 2).sum(-1)
    return y_train[np.argsort(dist, axis=1)[:, :k]].mean(1)


def cross_validated(predict, x_nd: np.ndarray, log_f_n: np.ndarray) -> dict[str, float]:
    """``predict(x_train, y_train, x_test)`` over ``FOLDS`` folds (every FOLDS-th sample held
    out): R^2 of the log-frequency and the median relative frequency error."""
    pred = np.zeros_like(log_f_n)
    fold = np.arange(len(log_f_n)) % FOLDS
    for k in range(FOLDS):
        test = fold == k
        pred[test] = predict(x_nd[~test], log_f_n[~test], x_nd[test])
    r2 = 1.0 - np.sum((pred - log_f_n) ** 2) / np.sum((log_f_n - log_f_n.mean()) ** 2)
    rel = np.median(np.abs(np.exp(pred - log_f_n) - 1.0))
    return {"r2": round(float(r2), 4), "median_rel_freq_error": round(float(rel), 4)}


def tone_features(codec: Codec, freqs_hz, amps, phases) -> dict[str, np.ndarray]:
    """Time-averaged continuous and token (dequantized) latents of 1 s sines: [N, D] each."""
    t = np.arange(codec.sample_rate) / codec.sample_rate
    feats: dict[str, list[np.ndarray]] = {"continuous": [], "tokens": []}
    for f, a, ph in zip(freqs_hz, amps, phases, strict=True):
        wave = (a * np.sin(2 * np.pi * f * t + ph)).astype(np.float32)
        tokens, latent = codec.encode_with_latent(wave[None])
        quantized = np.asarray(codec.dequantize(tokens, codec.num_codebooks))[0]
        middle = slice(EDGE_FRAMES, -EDGE_FRAMES)
        feats["continuous"].append(np.asarray(latent)[0][middle].mean(0))
        feats["tokens"].append(quantized[middle].mean(0))
    return {key: np.stack(v) for key, v in feats.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--codecs", nargs="+", default=["default"], help="'default' or folders")
    p.add_argument("--num-tones", type=int, default=300)
    p.add_argument("--min-hz", type=float, default=150.0)
    p.add_argument("--max-hz", type=float, default=5000.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.num_tones < 4 * FOLDS or not 0 < args.min_hz < args.max_hz:
        p.error(f"need --num-tones >= {4 * FOLDS} and 0 < --min-hz < --max-hz")
    rng = np.random.default_rng(args.seed)
    freqs = np.exp(rng.uniform(np.log(args.min_hz), np.log(args.max_hz), args.num_tones))
    amps = rng.uniform(0.05, 0.3, args.num_tones)
    phases = rng.uniform(0.0, 2 * np.pi, args.num_tones)
    rows = []
    for name in args.codecs:
        codec = Codec.from_pretrained(name)
        if args.max_hz >= codec.sample_rate / 2:
            p.error(f"--max-hz {args.max_hz} must be below {name}'s Nyquist frequency")
        feats = tone_features(codec, freqs, amps, phases)
        for latent, x in feats.items():
            for probe, fn in (("ridge", ridge_predict), ("knn", knn_predict)):
                row = {"codec": name, "latent": latent, "probe": probe}
                row.update(cross_validated(fn, x, np.log(freqs)))
                rows.append(row)
                print(f"{name:40s} {latent:10s} {probe:5s} R2 {row['r2']:.3f}  "
                      f"median |f_pred/f - 1| {row['median_rel_freq_error']:.3f}")  # fmt: skip
    out = {"num_tones": args.num_tones, "min_hz": args.min_hz, "max_hz": args.max_hz,
           "seed": args.seed, "folds": FOLDS, "rows": rows}  # fmt: skip
    with atomic_path(Path(args.out)) as tmp:
        Path(tmp).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
