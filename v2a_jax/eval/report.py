"""``evaluate``: SyncBench scores of a predictions folder against a SyncScenes split.

The report is flat JSON (see ``evaluate``); per-clip problems are listed and counted.
Legend: N scored samples, D embedding width, L labels.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from v2a_jax.data.loaders import open_split
from v2a_jax.data.syncscenes import LABELS
from v2a_jax.eval import suppression as sup
from v2a_jax.eval.adherence import labels_multi_hot, macro_f1, per_label_f1
from v2a_jax.eval.classifier import Classifier, load_classifier
from v2a_jax.eval.diversity import pairwise_diversity
from v2a_jax.eval.fad import frechet_distance
from v2a_jax.eval.matching import MatchCounts, match_onsets
from v2a_jax.eval.onsets import detect_onsets
from v2a_jax.eval.predictions import load_samples, negative_prompt_of, read_manifest

PROBLEM_KINDS = ("missing", "unreadable", "non_finite", "wrong_rate", "wrong_length", "silent")


def _references(data_dir, split, name, limit):
    source = open_split(data_dir, split, name)
    count = len(source) if limit is None else min(limit, len(source))
    for i in range(count):
        clip = source[i]
        yield {
            "clip_id": clip["clip_id"],
            "audio": np.asarray(clip["audio"], np.float32),
            "sample_rate": int(clip["sample_rate"]),
            "events_s": [e["time_s"] for e in clip["annotation"].get("events", [])],
            "labels": list(clip["annotation"].get("labels", [])),
        }


def evaluate(
    data_dir: str | Path,
    split: str = "test",
    predictions: str | Path = "",
    baseline_predictions: str | Path | None = None,
    tolerance_ms: float = 50.0,
    name: str | None = None,
    classifier: Classifier | None = None,
    limit: int | None = None,
) -> dict:
    """Scores generated audio against a SyncScenes split.

    Args:
        data_dir: the built data set (``v2a data build syncscenes``).
        split: which split the predictions are for.
        predictions: folder of ``<clip_id>.wav`` or ``<clip_id>/<sample>.wav`` (+ manifest.json).
        baseline_predictions: the same clips generated without the negative prompt; enables
            ``neg_suppression``.
        tolerance_ms: onset matching tolerance.
        name: ``builder/config`` when the data dir holds several data sets.
        classifier: a loaded classifier (the shipped one when None).
        limit: score only the first ``limit`` clips of the split.

    Returns:
        A flat dict: ``num_clips``, ``num_samples``, ``onset_f1``, ``onset_precision``,
        ``onset_recall``, ``onset_offset_ms``, ``adherence`` (and ``adherence_per_label``: each
        label's F1, None where undefined), ``fad``, ``neg_suppression``,
        ``neg_suppression_visible``, ``neg_suppression_not_visible``, ``neg_band_suppression``
        (+ ``_visible`` / ``_not_visible``), ``neg_num_clips``, ``diversity`` (None when the
        predictions do not allow a value), ``tolerance_ms``, ``num_problems``, ``num_<kind>``
        for each problem kind, and ``problems`` (a list of {clip_id, kind, detail, sample}).
    """
    pred_dir = Path(predictions)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"predictions folder not found: {pred_dir}")
    base_dir = Path(baseline_predictions) if baseline_predictions else None
    if base_dir is not None and not base_dir.is_dir():
        raise FileNotFoundError(f"baseline predictions folder not found: {base_dir}")
    clf = classifier or load_classifier()
    manifest = read_manifest(pred_dir)
    tol_s = tolerance_ms / 1000.0

    counts = MatchCounts()
    problems, embs, probs, wanted, real_waves, diversities = [], [], [], [], [], []
    neg = collections.defaultdict(lambda: {"p0": [], "p1": [], "e0": [], "e1": []})
    num_clips = 0
    for ref in _references(data_dir, split, name, limit):
        num_clips += 1
        clip_id, sr, n = ref["clip_id"], ref["sample_rate"], len(ref["audio"])
        waves, found = load_samples(pred_dir, clip_id, sr, n)
        problems += found
        for wave in waves:
            counts = counts + match_onsets(detect_onsets(wave, sr), ref["events_s"], tol_s)
        emb_nd, prob_nl = clf.embed_and_predict(waves, sr)
        real_waves.append((ref["audio"], sr))
        negated = sup.negated_layers(negative_prompt_of(manifest, clip_id))
        asked = [lab for lab in ref["labels"] if lab not in negated]
        embs.append(emb_nd)
        probs.append(prob_nl)
        wanted += [asked] * len(waves)
        diversities.append(pairwise_diversity(emb_nd))
        if base_dir is not None:
            base_waves, base_found = load_samples(base_dir, clip_id, sr, n)
            problems += [_as_baseline(p) for p in base_found]
            base_probs = clf.predict(base_waves, sr)
            for layer in negated:
                if layer not in ref["labels"]:
                    continue  # nothing of it to remove
                col = LABELS.index(layer)
                case = "visible" if sup.is_visible(layer) else "not_visible"
                entry = neg[case]
                entry["p0"].append(float(base_probs[:, col].mean()))
                entry["p1"].append(float(prob_nl[:, col].mean()))
                entry["e0"].append(float(np.mean([sup.band_energy(w, sr, layer)
                                                  for w in base_waves])))  # fmt: skip
                entry["e1"].append(float(np.mean([sup.band_energy(w, sr, layer) for w in waves])))

    emb_all = np.concatenate(embs) if embs else np.zeros((0, 1))
    real = _real_embeddings(clf, real_waves, (str(Path(data_dir).resolve()), split, name, limit))
    fad = frechet_distance(emb_all, real) if len(emb_all) >= 2 and len(real) >= 2 else None
    adherence, per_label = None, None
    if probs:
        probs_nl, wanted_nl = np.concatenate(probs), labels_multi_hot(wanted)
        adherence = macro_f1(probs_nl, wanted_nl, clf.thresholds)
        per_label = dict(
            zip(LABELS, per_label_f1(probs_nl, wanted_nl, clf.thresholds), strict=True)
        )
    divs = [d for d in diversities if d is not None]

    report = {
        "num_clips": num_clips,
        "num_samples": int(len(emb_all)),
        "tolerance_ms": float(tolerance_ms),
        "onset_f1": counts.f1 if num_clips else None,
        "onset_precision": counts.precision if num_clips else None,
        "onset_recall": counts.recall if num_clips else None,
        "onset_offset_ms": counts.offset_ms,
        "adherence": adherence,
        "adherence_per_label": per_label,
        "fad": fad,
        "diversity": float(np.mean(divs)) if divs else None,
    }
    report.update(_suppression(neg, base_dir is not None))
    report["num_problems"] = len(problems)
    for kind in PROBLEM_KINDS:
        report[f"num_{kind}"] = sum(p.kind == kind for p in problems)
    report["problems"] = [p.to_json() for p in problems]
    return report


def _real_embeddings(clf: Classifier, refs: list[tuple[np.ndarray, int]], key) -> np.ndarray:
    """Embeddings [N, D] of the reference audio, cached on the classifier per (data set, split):
    several evaluations of one split against one classifier embed the references once."""
    cache = clf.__dict__.setdefault("_reference_cache", {})
    if key not in cache:
        rates = {sr for _, sr in refs}
        if len(rates) == 1:
            cache[key] = clf.embed([w for w, _ in refs], rates.pop())
        else:
            parts = [clf.embed([w], sr) for w, sr in refs]
            cache[key] = np.concatenate(parts) if parts else np.zeros((0, 1))
    return cache[key]


def _as_baseline(problem):
    """The problem, marked as found in the baseline folder (not counted as a prediction's)."""
    problem.kind = f"baseline_{problem.kind}"
    return problem


def _suppression(neg: dict, has_baseline: bool) -> dict:
    out = {}
    both = {k: neg["visible"][k] + neg["not_visible"][k] for k in ("p0", "p1", "e0", "e1")}
    for suffix, entry in (("", both), ("_visible", neg["visible"]),
                          ("_not_visible", neg["not_visible"])):  # fmt: skip
        out[f"neg_suppression{suffix}"] = sup.fraction_removed(entry["p0"], entry["p1"])
        out[f"neg_band_suppression{suffix}"] = sup.fraction_removed(entry["e0"], entry["e1"])
    out["neg_num_clips"] = len(both["p0"]) if has_baseline else 0
    return out
