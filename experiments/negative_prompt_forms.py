"""How much of a VISIBLE sound each guidance form removes: SyncScenes test clips with rain on
screen, the prompt naming everything but the rain, and "rain" as the negative prompt.

Run (needs a trained model and the SyncBench classifier):
    python experiments/negative_prompt_forms.py --model EXPORT_DIR --num-clips 16 -n 4 \
        --out out/negative_prompt_forms.json

For each form: the energy in the rain band (SyncBench's ``suppression.band_energy``) and the
fraction of it removed relative to ``no_negative`` (SyncBench's ``fraction_removed``); and, when the
SyncBench classifier is available, its mean P(rain) over clips x samples and the mean P of the
clip's true materials (what must survive), with the ground truth's P(rain) as the reference
(``null`` in the JSON when no classifier is shipped yet). Forms (s = --scale):
    no_negative      l_0 + s (l_vp - l_0)                         (no negative prompt)
    common           l_vn + s (l_vp - l_vn)                       (MMAudio, HunyuanVideo-Foley)
    separate         its defaults: the same numbers as common (a sanity row)
    separate_neg2x   w_n = 2 (s - 1): pushed twice as far from "rain"
    separate_lowvid  w_v = 0.5, w_n = s: less of what the video alone suggests, more negative
    null_ref         w_n = s - 1 measured against the null branch: - w_n (l_n - l_0), what
                     "rain" means without the picture (``negative_reference="null"``)
    null_ref_2x      the same with w_n = 2 (s - 1)
    null_ref_v       w_v = s (the video keeps the weight it has without a negative prompt),
                     w_n = s - 1, against the null branch
    null_ref_v_2x    the same with w_n = 2 (s - 1)
    null_ref_v_3x    the same with w_n = 3 (s - 1)
    null_ref_v2_2x   w_v = s - 1, w_n = 2 (s - 1), against the null branch
Every form samples from the same seeds. Also per form: SyncBench onset F1 against the clips'
annotated events (sync must survive the negative prompt). ``--prompt-names-layer`` prompts with
the clip's own caption, which names the rain (the quality bar's request: the same prompt plus a
negative prompt).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.api import V2A
from v2a_jax.data.splits import SPLIT_SEED_RANGES
from v2a_jax.data.syncscenes import LABELS, render_clip
from v2a_jax.data.syncscenes.captions import make_captions
from v2a_jax.io.atomic import atomic_path

LAYER = "rain"


def forms(scale: float) -> dict[str, dict]:
    return {
        "no_negative": dict(guidance_form="common", negative_prompt=""),
        "common": dict(guidance_form="common"),
        "separate": dict(guidance_form="separate"),
        "separate_neg2x": dict(guidance_form="separate", negative_weight=2 * (scale - 1)),
        "separate_lowvid": dict(guidance_form="separate", video_weight=0.5, negative_weight=scale),
        "null_ref": dict(guidance_form="separate", negative_reference="null"),
        "null_ref_2x": dict(guidance_form="separate", negative_reference="null",
                            negative_weight=2 * (scale - 1)),
        "null_ref_v": dict(guidance_form="separate", negative_reference="null",
                           video_weight=scale),
        "null_ref_v_2x": dict(guidance_form="separate", negative_reference="null",
                              video_weight=scale, negative_weight=2 * (scale - 1)),
        "null_ref_v_3x": dict(guidance_form="separate", negative_reference="null",
                              video_weight=scale, negative_weight=3 * (scale - 1)),
        "null_ref_v2_2x": dict(guidance_form="separate", negative_reference="null",
                               video_weight=scale - 1, negative_weight=2 * (scale - 1)),
    }  # fmt: skip


def visible_clips(count: int, layer: str, names_layer: bool = False):
    """Test-split clips whose picture shows ``layer``, with a prompt that does not name it (or,
    with ``names_layer``, the clip's own caption, which does)."""
    start, stop = SPLIT_SEED_RANGES["test"]
    found = []
    for seed in range(start, stop):
        clip = render_clip(seed)
        ann = clip.annotation
        if layer in ann["ambiences"]:
            keep = ann["ambiences"] if names_layer else [a for a in ann["ambiences"] if a != layer]
            rest = dict(ann, ambiences=keep)
            prompt = make_captions(np.random.default_rng(seed), rest)[0]
            found.append((clip, prompt))
            if len(found) == count:
                return found
    raise ValueError(f"only {len(found)} test clips show {layer}")


def _classifier(path):
    from v2a_jax.eval.classifier import load_classifier

    try:
        return load_classifier(path)
    except FileNotFoundError as err:
        if path:
            raise
        print(f"no SyncBench classifier ({err}): P(rain) columns are null", flush=True)
        return None


def main() -> None:
    from v2a_jax.eval.matching import MatchCounts, match_onsets
    from v2a_jax.eval.onsets import detect_onsets
    from v2a_jax.eval.suppression import band_energy, fraction_removed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--classifier", help="classifier folder (default: the shipped one)")
    parser.add_argument("--num-clips", type=int, default=16)
    parser.add_argument("-n", "--num-samples", type=int, default=4)
    parser.add_argument("--scale", type=float, default=3.0)
    parser.add_argument(
        "--prompt-names-layer",
        action="store_true",
        help="prompt with the clip's caption, which names the rain",
    )
    parser.add_argument("--forms", nargs="*", help="only these forms (no_negative always runs)")
    parser.add_argument("--out", default="out/negative_prompt_forms.json")
    args = parser.parse_args()
    classifier = _classifier(args.classifier)
    pipe = V2A.from_pretrained(args.model)
    clips = visible_clips(args.num_clips, LAYER, args.prompt_names_layer)
    col = LABELS.index(LAYER)
    truth = None
    if classifier is not None:
        truth = classifier.predict([c.audio for c, _ in clips], 16000)[:, col]
    results, energies = {}, {}
    chosen = forms(args.scale)
    if args.forms:
        unknown = sorted(set(args.forms) - set(chosen))
        if unknown:
            raise SystemExit(f"unknown forms {unknown}; expected some of {sorted(chosen)}")
        chosen = {k: v for k, v in chosen.items() if k == "no_negative" or k in args.forms}
    for name, kw in chosen.items():
        p_layer, p_kept, energy, t0 = [], [], [], time.perf_counter()
        counts = MatchCounts()
        for clip, prompt in clips:
            request = {"negative_prompt": LAYER, **kw}
            out = pipe.generate(frames=clip.frames, fps=25.0, prompt=prompt, seed=0,
                                num_samples=args.num_samples, guidance_scale=args.scale,
                                refine=False, **request)  # fmt: skip
            energy.extend(band_energy(w, out.sample_rate, LAYER) for w in out.waveforms)
            events_s = [e["time_s"] for e in clip.annotation["events"]]
            for w in out.waveforms:
                counts = counts + match_onsets(detect_onsets(w, out.sample_rate), events_s, 0.05)
            if classifier is None:
                continue
            probs = classifier.predict(list(out.waveforms), out.sample_rate)
            p_layer.extend(probs[:, col].tolist())
            sounding = {o["material"] for o in clip.annotation["objects"]}
            materials = [LABELS.index(m) for m in sorted(sounding)]
            p_kept.extend(probs[:, materials].mean(1).tolist())
        energies[name] = energy
        results[name] = {
            "rain_band_energy_mean": float(np.mean(energy)),
            "fraction_removed_vs_no_negative": fraction_removed(energies["no_negative"], energy),
            "p_rain_mean": round(float(np.mean(p_layer)), 4) if p_layer else None,
            "p_materials_mean": round(float(np.mean(p_kept)), 4) if p_kept else None,
            "onset_f1": round(counts.f1, 4),
            "seconds": round(time.perf_counter() - t0, 1),
            "guidance": out.settings["guidance"],
        }
        print(name, results[name], flush=True)
    report = {
        "model": args.model, "layer": LAYER, "clips": len(clips), "scale": args.scale,
        "prompt_names_layer": args.prompt_names_layer,
        "num_samples": args.num_samples, "forms": results,
        "ground_truth_p_rain_mean": None if truth is None else round(float(np.mean(truth)), 4),
    }  # fmt: skip
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
