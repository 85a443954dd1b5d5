"""Semantic adherence: macro-F1 of the classifier's labels against what each clip asks for.

Legend: N scored samples, L labels.
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes import LABELS


def labels_multi_hot(label_lists: list[list[str]]) -> np.ndarray:
    """Multi-hot bool [N, L] over ``LABELS`` (unknown names are an error)."""
    out = np.zeros((len(label_lists), len(LABELS)), bool)
    for i, names in enumerate(label_lists):
        for name in names:
            if name not in LABELS:
                raise ValueError(f"unknown label {name!r}; expected one of {LABELS}")
            out[i, LABELS.index(name)] = True
    return out


def per_label_f1(probs_nl: np.ndarray, wanted_nl: np.ndarray, threshold=0.5) -> list:
    """F1 of ``probs > threshold`` against ``wanted`` for each label ([L] floats).

    ``threshold`` is one number or one per label ([L]). A label neither wanted nor predicted
    anywhere has no F1 (None).
    """
    pred = np.asarray(probs_nl) > threshold
    truth = np.asarray(wanted_nl, bool)
    f1s = []
    for i in range(truth.shape[1]):
        denom = int(pred[:, i].sum() + truth[:, i].sum())
        f1s.append(2.0 * int(np.sum(pred[:, i] & truth[:, i])) / denom if denom else None)
    return f1s


def macro_f1(probs_nl: np.ndarray, wanted_nl: np.ndarray, threshold=0.5) -> float | None:
    """Mean of ``per_label_f1`` over the labels that have one; None when none has."""
    f1s = [f for f in per_label_f1(probs_nl, wanted_nl, threshold) if f is not None]
    return float(np.mean(f1s)) if f1s else None
