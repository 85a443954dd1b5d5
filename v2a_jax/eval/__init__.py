"""SyncBench: the evaluation harness every quality number of this project uses.

    from v2a_jax.eval import evaluate, load_classifier, embed, detect_onsets

    report = evaluate("data/syncscenes", "test", predictions="out/pred")  # flat dict
    times_s = detect_onsets(wave, 16000)  # float64 [E] seconds
    emb = embed([wave], 16000)  # float32 [B, D] classifier embeddings

Metrics: onset F1 / precision / recall / mean offset (``onsets``, ``matching``), semantic
adherence (``adherence``: macro-F1 of the classifier's labels), FAD on classifier embeddings
(``fad``), negative-prompt suppression (``suppression``), diversity (``diversity``).
"""

from __future__ import annotations

import functools

import numpy as np

from v2a_jax.eval.classifier import Classifier, load_classifier
from v2a_jax.eval.fad import frechet_distance
from v2a_jax.eval.matching import MatchCounts, match_onsets
from v2a_jax.eval.onsets import OnsetConfig, detect_onsets


@functools.cache
def _default_classifier() -> Classifier:
    return load_classifier()


def embed(waves, sr: int) -> np.ndarray:
    """Shipped-classifier embeddings of mono waveforms (a list of [S] arrays): float32 [B, D]."""
    return _default_classifier().embed(waves, sr)


def predict_labels(waves, sr: int) -> np.ndarray:
    """Shipped-classifier label probabilities: float32 [B, L] in ``LABELS`` order."""
    return _default_classifier().predict(waves, sr)


def onsets(wave: np.ndarray, sr: int) -> np.ndarray:
    """Alias of ``detect_onsets``: onset times in seconds, float64 [E]."""
    return detect_onsets(wave, sr)


def evaluate(*args, **kwargs) -> dict:
    """SyncBench report of a predictions folder; see ``v2a_jax.eval.report.evaluate``."""
    from v2a_jax.eval.report import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


__all__ = [
    "Classifier",
    "MatchCounts",
    "OnsetConfig",
    "detect_onsets",
    "embed",
    "evaluate",
    "frechet_distance",
    "load_classifier",
    "match_onsets",
    "onsets",
    "predict_labels",
]
