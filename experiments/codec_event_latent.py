"""How much one material's events mark a codec's latent, and what its decoder predicts there.

    python experiments/codec_event_latent.py --seed 1100002 --material beep \\
        --codecs default workdirs/codec_gl1/codec --out out/codec_event_latent.json

Renders the SyncScenes clip of ``--seed`` and a copy with the foreground stem cut out for
``--window-s`` after each event of ``--material`` (other objects' sounds in those windows go with
it). Both are encoded; per event it reports how far the continuous latent moves (L2 over the
window's frames, max) against the clip's median frame-to-frame change and latent norm. For an
inverse-STFT decoder it also reports, at the event's loudest STFT bin 20 ms in, the real audio's
natural-log magnitude and the decoder's prediction from the tokens (``log_magnitude_and_phase``).
Used in ``tokenizers/README.md`` (session 12) to tell a decoder that cannot render a tone from
tokens that do not carry it. Writes JSON and prints a line per event.
"""

from __future__ import annotations

import argparse

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.syncscenes import SceneConfig, render_clip
from v2a_jax.io.atomic import write_json


def event_rows(codec, clip, material: str, window_s: float) -> list[dict]:
    """One dict per event of ``material``: latent change, and (istft decoders) magnitudes."""
    import torch

    sr = clip.annotation["sample_rate"]
    truth = np.asarray(clip.audio, np.float32)
    cut = truth.copy()
    events = [e for e in clip.annotation["events"] if e["material"] == material]
    width = int(window_s * sr)
    for e in events:
        s = e["sample"]
        cut[s : s + width] -= clip.stems[0][s : s + width]  # stem 0: the foreground
    z_td, z_cut_td = codec.encode_latent(truth, sr), codec.encode_latent(cut, sr)
    moved_t = np.linalg.norm(z_td - z_cut_td, axis=1)
    step = float(np.median(np.linalg.norm(np.diff(z_td, axis=0), axis=1)))
    norm = float(np.median(np.linalg.norm(z_td, axis=1)))
    dec = codec.model.decoder
    spectral = hasattr(dec, "log_magnitude_and_phase")  # an inverse-STFT decoder
    if spectral:
        z_bdt = torch.from_numpy(codec.dequantize(codec.encode(truth, sr))).float().T[None]
        with torch.no_grad():
            pred_bfq, _ = dec.log_magnitude_and_phase(z_bdt)
        real_fq = torch.stft(torch.from_numpy(truth), dec.n_fft, dec.stft_hop,
                             window=dec.window, return_complex=True).abs().T  # fmt: skip
    rows = []
    for e in events:
        first = e["sample"] // codec.hop_length
        last = (e["sample"] + width) // codec.hop_length + 1
        row = {"time_s": e["time_s"], "latent_moved": float(moved_t[first:last].max()),
               "median_frame_step": step, "median_latent_norm": norm}  # fmt: skip
        if spectral:
            f = int(round((e["time_s"] + 0.02) * sr / dec.stft_hop))
            q = int(real_fq[f].argmax())
            log_real_q = real_fq[f].clamp(min=1e-5).log()
            row.update({
                "bin_hz": q * sr / dec.n_fft,
                "real_log_mag": float(log_real_q[q]),
                "pred_log_mag": float(pred_bfq[0, f, q]),
                "real_median_log_mag": float(log_real_q.median()),
            })  # fmt: skip
        rows.append(row)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, required=True, help="the SyncScenes seed to render")
    p.add_argument("--material", default="beep")
    p.add_argument("--codecs", nargs="+", required=True, help="'default' or codec folders")
    p.add_argument("--window-s", type=float, default=0.2, help="foreground cut after each event")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    clip = render_clip(args.seed, SceneConfig())
    report = {"seed": args.seed, "material": args.material, "results": {}}
    for name in args.codecs:
        rows = event_rows(Codec.from_pretrained(name), clip, args.material, args.window_s)
        report["results"][name] = rows
        for r in rows:
            print(name, {k: round(v, 2) for k, v in r.items()})
    write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
