"""A folder of tonal training audio for the codec: sines, chords and beeps at random pitches.

    python experiments/make_tone_wavs.py --out-dir workdirs/tones16k --num 256 [--seconds 2]

``experiments/codec_tones.py`` shows the codecs decode tones to noise, and
``experiments/codec_pitch_probe.py`` that their tokens carry the pitch. SyncScenes audio holds
tones only in short hits (beeps, glass, metal) and quiet music, so this writes ``--num`` mono
16 kHz wavs that are mostly tone, for ``v2a codec train --wav-dir DIR`` (mixed with the
SyncScenes pool): each clip one of three kinds, chosen uniformly:

- ``sine``: one steady sine, log-uniform in 150-5000 Hz;
- ``chord``: 2-3 sines at musical ratios (3:2, 5:4, 2:1) of a log-uniform root in 150-2500 Hz;
- ``beeps``: tone bursts of 50-300 ms with 10 ms ramps and gaps of 50-400 ms, sine or
  square-ish (the sum of odd harmonics below 8 kHz), a new pitch per burst;

each at a peak amplitude uniform in 0.05-0.5, with white noise 30-50 dB below it. Written
atomically (``write_wav``), named ``tone-<index>.wav``; the same ``--seed`` writes the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from v2a_jax.io.audio import write_wav

SR = 16000
RATIOS = (1.5, 1.25, 2.0)


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _tone(rng, freq_hz: float, n: int, square: bool = False) -> np.ndarray:
    t = np.arange(n) / SR
    phase = rng.uniform(0, 2 * np.pi)
    if not square:
        return np.sin(2 * np.pi * freq_hz * t + phase)
    harmonics = [h for h in range(1, 16, 2) if h * freq_hz < SR / 2]
    return sum(np.sin(2 * np.pi * h * freq_hz * t + h * phase) / h for h in harmonics)


def _beeps(rng, n: int) -> np.ndarray:
    out, pos, ramp = np.zeros(n), int(rng.uniform(0.0, 0.3) * SR), int(0.01 * SR)
    while pos < n:
        length = min(int(rng.uniform(0.05, 0.3) * SR), n - pos)
        burst = _tone(rng, _log_uniform(rng, 300, 4000), length, square=rng.random() < 0.5)
        env = np.ones(length)
        r = min(ramp, length // 2)
        if r:
            env[:r], env[length - r :] = np.linspace(0, 1, r), np.linspace(1, 0, r)
        out[pos : pos + length] = burst * env
        pos += length + int(rng.uniform(0.05, 0.4) * SR)
    return out


def make_clip(rng: np.random.Generator, seconds: float) -> tuple[str, np.ndarray]:
    """One clip: (kind, float32 [seconds * 16000]) at a peak within 0.05-0.5."""
    n = int(seconds * SR)
    kind = ("sine", "chord", "beeps")[rng.integers(3)]
    if kind == "sine":
        x = _tone(rng, _log_uniform(rng, 150, 5000), n)
    elif kind == "chord":
        root = _log_uniform(rng, 150, 2500)
        ratios = rng.choice(RATIOS, size=rng.integers(1, 3), replace=False)
        x = _tone(rng, root, n) + sum(_tone(rng, root * r, n) for r in ratios)
    else:
        x = _beeps(rng, n)
    peak = rng.uniform(0.05, 0.5)
    x = x / max(np.max(np.abs(x)), 1e-9) * peak
    noise_db = rng.uniform(30, 50)
    x = x + rng.normal(size=n) * peak * 10 ** (-noise_db / 20)
    return kind, x.astype(np.float32)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--num", type=int, default=256)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.num < 1 or not 0.5 <= args.seconds <= 60:
        p.error("need --num >= 1 and 0.5 <= --seconds <= 60")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    kinds: dict[str, int] = {}
    for i in range(args.num):
        kind, wave = make_clip(rng, args.seconds)
        kinds[kind] = kinds.get(kind, 0) + 1
        write_wav(out / f"tone-{i:05d}.wav", wave, SR)  # atomic
    print(f"wrote {args.num} clips of {args.seconds} s to {out}: {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
