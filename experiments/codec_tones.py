"""Does a codec reproduce steady tones? Sines through its tokens and its continuous latent, and
the pitch peaks of tonal SyncScenes objects in a set of reconstructions.

    python experiments/codec_tones.py --codecs default workdirs/codec_v3/codec \
        --data-dir workdirs/ss_test200 --pred-dirs shipped=workdirs/rec_v2 \
        --out out/codec_tones.json

``sines`` (``--codecs``, one row per codec, signal, amplitude and path): 2 s sines at 220 .. 6000
Hz (those below the codec's Nyquist) and amplitudes 0.05 and 0.3, plus a 440 + 660 Hz chord
(each partial at the amplitude), passed through the codec's tokens (``path: tokens``) and its
continuous pre-quantization latent (``path: latent``); ``path: input`` is the signal itself.
``tonal_fraction``: share of the power within +-3 % of the tone(s) (see ``tonal_fraction``; 1.0
for a pure tone, about 0.01 for white noise). ``rms_ratio``: output RMS / input RMS over the
same middle 1.5 s (1.0 means the loudness is kept). ``peak_hz``: the strongest frequency of the
output's spectrum above 20 Hz (some outputs carry a DC offset; the tone's own for a faithful
codec).

``prominence`` (``--data-dir`` with ``--pred-dirs NAME=DIR``, ``<clip_id>.wav`` each, as
``v2a codec reconstruct`` writes them; the real audio is ``ground_truth``): for each event of a
tonal object (beep, glass, metal), the SyncBench classifier's log-mel (``v2a_jax.eval.features``)
in the 0.1 s after the onset: the mean over those frames of the band holding the object's
``pitch_hz`` minus the frame's median band, in nats (natural log of power). Averaged over a
clip's events of a material, then over the clips that have that material.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.loaders import open_split
from v2a_jax.eval import features
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import read_wav

TRIM_S = 0.25  # skip the codec's edge transients (and the signal's start and end)
FREQS_HZ = (220.0, 500.0, 1000.0, 1500.0, 3000.0, 6000.0)
AMPLITUDES = (0.05, 0.3)
CHORD_HZ = (440.0, 660.0)
SINE_S = 2.0
TONAL_MATERIALS = ("beep", "glass", "metal")
OUT_PATHS = ("tokens", "latent")
AFTER_EVENT_S = 0.1  # the frames scored after each onset (beeps last 0.08-0.22 s)


def _middle(wave: np.ndarray, sr: int) -> np.ndarray:
    """The wave [S] without ``TRIM_S`` at each end; raises if nothing is left."""
    n = int(round(TRIM_S * sr))
    if len(wave) <= 2 * n:
        raise ValueError(f"wave of {len(wave)} samples at {sr} Hz: need > {2 * TRIM_S} s")
    return np.asarray(wave, np.float64)[n:-n]


def _spectrum(wave: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies [F] and Hann-windowed power [F] of the wave's middle (``_middle``)."""
    x = _middle(wave, sr)
    return np.fft.rfftfreq(len(x), 1.0 / sr), np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2


def tonal_fraction(wave: np.ndarray, sr: int, freq_hz, rel_bw: float = 0.03) -> float:
    """Share of a wave's power within ``+-rel_bw * f`` of the tone ``f`` (or of any of several).

    The power spectrum is a Hann-windowed FFT of the wave with ``TRIM_S`` (0.25 s) cut from each
    end, so codec edge effects do not count. A silent wave has no power at the tone: 0.0.

    Args:
        wave: float mono audio [S], longer than 0.5 s.
        sr: its sample rate.
        freq_hz: the tone's frequency in Hz, or a sequence of them (a chord).
        rel_bw: half-width of each band, relative to its frequency.

    Returns:
        A fraction in [0, 1].
    """
    freqs, power = _spectrum(wave, sr)
    in_band = np.zeros(len(freqs), bool)
    for f in np.atleast_1d(np.asarray(freq_hz, np.float64)):
        in_band |= np.abs(freqs - f) <= rel_bw * f
    total = power.sum()
    return float(power[in_band].sum() / total) if total > 0 else 0.0


def _rms(wave: np.ndarray, sr: int) -> float:
    return float(np.sqrt(np.mean(np.square(_middle(wave, sr)))))


def sine_rows(codec: Codec, name: str) -> list[dict]:
    """One row per signal, amplitude and path (input, tokens, latent); see the module doc."""
    sr = codec.sample_rate
    t = np.arange(int(SINE_S * sr)) / sr
    tones = [(f"{f:g} Hz", (f,)) for f in FREQS_HZ if f < sr / 2]
    tones.append(("chord " + "+".join(f"{f:g}" for f in CHORD_HZ), CHORD_HZ))
    rows = []
    for label, tone_hz in tones:
        for amp in AMPLITUDES:
            x = sum(amp * np.sin(2 * np.pi * f * t) for f in tone_hz).astype(np.float32)
            tokens, latent = codec.encode_with_latent(x[None])
            outs = {"input": x, "tokens": np.asarray(codec.decode(tokens))[0][: len(x)],
                    "latent": np.asarray(codec.decode_latent(latent))[0][: len(x)]}  # fmt: skip
            for path, y in outs.items():
                freqs, power = _spectrum(y, sr)
                rows.append({"codec": name, "signal": label, "amplitude": amp, "path": path,
                             "tonal_fraction": round(tonal_fraction(y, sr, tone_hz), 4),
                             "peak_hz": round(float(freqs[np.argmax(power * (freqs >= 20))]), 1),
                             "rms_ratio": round(_rms(y, sr) / _rms(x, sr), 4)})  # fmt: skip
    return rows


def _pitch_band(pitch_hz: float) -> int:
    """The log-mel band whose filter weighs the FFT bin of ``pitch_hz`` most."""
    fft_bin = int(round(pitch_hz * features.N_FFT / features.SAMPLE_RATE))
    return int(np.argmax(features.mel_filterbank()[fft_bin]))


def clip_prominence(wave: np.ndarray, sr: int, annotation: dict) -> dict[str, float]:
    """Per tonal material in the clip: mean pitch-band prominence (nats) after its events."""
    mel_tm = features.log_mel(wave, sr)
    hop_s = features.HOP / features.SAMPLE_RATE
    width = int(round(AFTER_EVENT_S / hop_s))
    objects = {o["index"]: o for o in annotation["objects"]}
    per_material: dict[str, list[float]] = {}
    for event in annotation["events"]:
        obj = objects[event["object"]]
        if obj["material"] not in TONAL_MATERIALS:
            continue
        start = int(np.ceil(event["time_s"] / hop_s))
        frames_tm = mel_tm[start : start + width]
        if len(frames_tm) == 0:
            continue
        peak_t = frames_tm[:, _pitch_band(obj["pitch_hz"])] - np.median(frames_tm, axis=1)
        per_material.setdefault(obj["material"], []).append(float(peak_t.mean()))
    return {m: float(np.mean(v)) for m, v in per_material.items()}


def prominence_rows(data_dir: str, split: str, pred_dirs: list[str]) -> list[dict]:
    """One row per material and source (ground truth, each NAME); see the module doc."""
    sources = [("ground_truth", None)]
    for spec in pred_dirs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise SystemExit(f"--pred-dirs: expected NAME=DIR, got {spec!r}")
        sources.append((name, Path(folder)))
    values: dict[tuple[str, str], list[float]] = {}
    for clip in open_split(data_dir, split):
        ann = clip["annotation"]
        if not any(o["material"] in TONAL_MATERIALS for o in ann["objects"]):
            continue
        for name, folder in sources:
            if folder is None:
                wave, sr = np.asarray(clip["audio"], np.float32), int(clip["sample_rate"])
            else:
                wave, sr = read_wav(folder / f"{clip['clip_id']}.wav")
            for material, value in clip_prominence(wave, sr, ann).items():
                values.setdefault((material, name), []).append(value)
    rank = {name: i for i, (name, _) in enumerate(sources)}
    keys = sorted(values, key=lambda k: (k[0], rank[k[1]]))  # by material, then the sources' order
    return [{"material": m, "source": name, "num_clips": len(values[m, name]),
             "prominence_nats": round(float(np.mean(values[m, name])), 3)}
            for m, name in keys]  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--codecs", nargs="*", default=[], help="'default' or codec folders")
    p.add_argument("--data-dir", help="a built SyncScenes data set (for --pred-dirs)")
    p.add_argument("--split", default="test")
    p.add_argument("--pred-dirs", nargs="*", default=[], help="NAME=DIR of <clip_id>.wav")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.pred_dirs and not args.data_dir:
        raise SystemExit("--pred-dirs needs --data-dir (the clips they reconstruct)")
    report = {"codecs": args.codecs, "data_dir": args.data_dir, "split": args.split,
              "sines": [], "prominence": []}  # fmt: skip
    print(f"{'codec':<34} {'signal':<14} {'amp':>5} {'input':>6} {'tokens':>16} {'latent':>16}")
    print(f"{'(tonal fraction / rms ratio / peak Hz)':>95}")
    for name in args.codecs:
        rows = sine_rows(Codec.from_pretrained(name), name)
        report["sines"] += rows
        for i in range(0, len(rows), 3):
            r = {row["path"]: row for row in rows[i : i + 3]}
            x = r["input"]
            cells = [f"{r[k]['tonal_fraction']:.2f}/{r[k]['rms_ratio']:.2f}/{r[k]['peak_hz']:.0f}"
                     for k in OUT_PATHS]  # fmt: skip
            head = f"{name:<34} {x['signal']:<14} {x['amplitude']:>5} {x['tonal_fraction']:>6.2f}"
            print(f"{head} {cells[0]:>16} {cells[1]:>16}", flush=True)
    if args.data_dir:
        report["prominence"] = prominence_rows(args.data_dir, args.split, args.pred_dirs)
        for row in report["prominence"]:
            print(f"{row['material']:<6} {row['source']:<14} {row['prominence_nats']:>7.2f} nats "
                  f"({row['num_clips']} clips)")  # fmt: skip
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
