"""Diversity: mean pairwise embedding distance among the N samples generated for one clip.

Legend: N samples, D embedding width.
"""

from __future__ import annotations

import numpy as np


def pairwise_diversity(emb_nd: np.ndarray) -> float | None:
    """Mean Euclidean distance over the N (N - 1) / 2 pairs; None for fewer than 2 samples."""
    e = np.asarray(emb_nd, np.float64)
    if len(e) < 2:
        return None
    d = np.sqrt(np.maximum(0.0, np.sum((e[:, None] - e[None]) ** 2, axis=-1)))
    iu = np.triu_indices(len(e), k=1)
    return float(d[iu].mean())
