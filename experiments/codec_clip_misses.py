"""One SyncScenes clip through several codecs: which of its events each reconstruction loses.

    python experiments/codec_clip_misses.py --seed 303 \\
        --codecs default workdirs/codec_overfit_beep/codec --out out/codec_clip_misses.json

Renders the clip of ``--seed``, encodes and decodes it with each codec (tokens, as ``v2a codec
reconstruct`` does) and scores the reconstruction with ``onset_misses.tally``: per event found in
the real audio, missed or not, and the power left in the 20 ms after it. Used to check whether a
decoder can render a clip's tones at all (fine-tuned on that clip alone, see
``tokenizers/README.md``, session 11). Writes JSON and prints a line per codec and material.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from v2a_jax.codec import Codec
from v2a_jax.data.syncscenes import SceneConfig, render_clip
from v2a_jax.eval.onsets import OnsetConfig
from v2a_jax.io.atomic import write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, run as a file too
import onset_misses  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, required=True, help="the SyncScenes seed to render")
    p.add_argument("--codecs", nargs="+", required=True, help="'default' or codec folders")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cfg = SceneConfig()
    clip = render_clip(args.seed, cfg)
    truth = np.asarray(clip.audio, np.float32)
    report = {"seed": args.seed, "results": {}}
    for name in args.codecs:
        codec = Codec.from_pretrained(name)
        pred = np.asarray(codec.decode(codec.encode(truth, cfg.sample_rate)), np.float32)
        pred = pred.reshape(-1)[: len(truth)]
        records = onset_misses.tally(
            clip.annotation["events"], truth, cfg.sample_rate, pred, codec.sample_rate,
            OnsetConfig(),
        )  # fmt: skip
        report["results"][name] = {"records": records, **onset_misses.summarize(records)}
        for material, s in report["results"][name]["per_material"].items():
            ratios = [round(r["power_after_ratio"], 3) for r in records
                      if r["material"] == material]  # fmt: skip
            print(f"{name}: {material} {s['missed']} of {s['events']} missed, power after {ratios}")
    write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
